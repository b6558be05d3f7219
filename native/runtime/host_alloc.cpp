// host_alloc.cpp - see host_alloc.h. A mutex-protected multimap from block size to free blocks;
// the oldest blocks are not tracked separately: when the cap would be exceeded the freed block
// goes straight back to the system.
#include "runtime/host_alloc.h"
#include <cstdlib>
#include <map>
#include <mutex>

namespace jxla {
namespace {
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheOn = false;
#else
constexpr bool kCacheOn = true;
#endif
constexpr size_t kMinCached = 256 * 1024;

struct Cache {
  std::mutex mu;
  std::multimap<size_t, void*> blocks;
  size_t bytes = 0;
  size_t cap = 0;
};
Cache& cache() {
  static Cache* c = [] {
    auto* k = new Cache();
    const char* v = std::getenv("JXLA_ALLOC_CACHE_MB");
    long mb = v ? std::atol(v) : 512;
    k->cap = mb > 0 ? static_cast<size_t>(mb) << 20 : 0;
    return k;
  }();
  return *c;
}
size_t rounded(size_t bytes) { return (bytes + 63) / 64 * 64; }
}  // namespace

void* host_alloc(size_t bytes) {
  size_t sz = rounded(bytes ? bytes : 64);
  if (kCacheOn && sz >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.blocks.find(sz);
    if (it != c.blocks.end()) {
      void* p = it->second;
      c.blocks.erase(it);
      c.bytes -= sz;
      return p;
    }
  }
  return std::aligned_alloc(64, sz);
}

void host_free(void* p, size_t bytes) {
  if (!p) return;
  size_t sz = rounded(bytes ? bytes : 64);
  if (kCacheOn && sz >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> g(c.mu);
    if (c.bytes + sz <= c.cap) {
      c.blocks.emplace(sz, p);
      c.bytes += sz;
      return;
    }
  }
  std::free(p);
}

void host_alloc_cache_clear() {
  Cache& c = cache();
  std::lock_guard<std::mutex> g(c.mu);
  for (auto& kv : c.blocks) std::free(kv.second);
  c.blocks.clear();
  c.bytes = 0;
}

}  // namespace jxla
