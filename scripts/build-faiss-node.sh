#!/usr/bin/env bash
# Builds faiss-node's native addon against Debian's libfaiss-dev and leaves it
# where faiss-node's own install step (prebuild-install) looks for a local
# prebuild, so `npm ci` installs faiss-node offline. Needs libfaiss-dev, g++,
# make and python3; run before `npm ci` (scripts/test-all.sh does). Without it
# faiss-node, an optional dependency, is simply not installed, and the faiss
# workload says how to get it. Details: DEVELOPERS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VERSION="$(node -p "require('./package.json').optionalDependencies['faiss-node'].replace(/^[~^]/, '')")"
NAPI=8
OUT="$ROOT/.cache/prebuilds"
TARBALL="$OUT/faiss-node-v$VERSION-napi-v$NAPI-linux-x64.tar.gz"
if [ -f "$TARBALL" ]; then
  echo "build-faiss-node: $TARBALL is there"
  exit 0
fi
if [ ! -f /usr/lib/x86_64-linux-gnu/libfaiss.a ]; then
  echo "build-faiss-node: /usr/lib/x86_64-linux-gnu/libfaiss.a is missing: apt-get install libfaiss-dev" >&2
  exit 1
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# Sources from the npm registry: faiss-node's addon and the node-addon-api headers it is written for.
npm pack --silent "faiss-node@$VERSION" "node-addon-api@6" > /dev/null
mkdir faiss-node addon-api
tar xzf "faiss-node-$VERSION.tgz" -C faiss-node --strip-components=1
tar xzf node-addon-api-6.*.tgz -C addon-api --strip-components=1
mkdir -p faiss-node/node_modules && mv addon-api faiss-node/node_modules/node-addon-api
cp -r "$ROOT/native/faiss-node/binding.gyp" "$ROOT/native/faiss-node/compat" faiss-node/
cd faiss-node
NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
# Node's headers come with Node itself (/usr/include/node), so nothing is downloaded.
NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
npm_config_nodedir="$NODEDIR" node "$NODE_GYP" rebuild --jobs=max > "$WORK/build.log" 2>&1 || {
  tail -40 "$WORK/build.log" >&2
  echo "build-faiss-node: the build failed; the log above says why" >&2
  exit 1
}
mkdir -p "$OUT"
tar czf "$TARBALL" build/Release/faiss-node.node
echo "build-faiss-node: built $TARBALL"
