// faiss-node 0.5 is written against faiss 1.7.4, where idx_t is faiss::idx_t;
// Debian's 1.7.3 keeps it inside Index. Included before faiss.cc is compiled.
#pragma once
#include <faiss/Index.h>
namespace faiss {
using idx_t = Index::idx_t;
}
