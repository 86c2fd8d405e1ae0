# aifb's build of faiss-node's addon (src/faiss.cc from the npm package) against
# Debian's libfaiss-dev 1.7.3, which ships a static libfaiss.a: link it whole
# so the index factory's registrations are kept. See DEVELOPERS.md.
{
  "targets": [
    {
      "target_name": "faiss-node",
      "sources": ["src/faiss.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<(module_root_dir)/compat"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-fopenmp", "-include", "faiss-idx.h"],
      "libraries": ["-Wl,--whole-archive", "/usr/lib/x86_64-linux-gnu/libfaiss.a", "-Wl,--no-whole-archive", "-llapack", "-lblas", "-lgomp"],
      "ldflags": ["-fopenmp"]
    }
  ]
}
