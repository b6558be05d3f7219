// prepack.cpp - see prepack.h.
#include "backends/host/prepack.h"
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include "backends/host/gemm.h"
#include "runtime/metrics.h"

namespace jxla {

namespace {
std::atomic<bool>& enabled() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("JXLA_PREPACK");
    return !(v && std::strcmp(v, "0") == 0);
  }()};
  return on;
}
std::atomic<int64_t> g_hits{0};
}  // namespace

bool prepack_enabled() { return enabled().load(std::memory_order_relaxed); }
void prepack_set_enabled(bool on) { enabled() = on; }
int64_t prepack_uses() { return g_hits.load(); }

std::shared_ptr<const PackedB> prepacked_b(PrepackCache& cache, const Buffer& b, bool tb, int64_t M, int64_t N, int64_t K) {
  if (!prepack_enabled() || !b.frozen.load(std::memory_order_acquire) || !host_sgemm_packable(M, N) || K <= 0)
    return nullptr;
  if (b.dtype != DType::F32 || b.numel() != N * K) return nullptr;  // defensive: the dot's B is f32 K x N
  std::lock_guard<std::mutex> g(cache.mu);
  auto& es = cache.entries;
  for (size_t i = 0; i < es.size(); ++i) {
    if (es[i].id != b.id || es[i].tb != tb || es[i].packed->K != K || es[i].packed->N != N) continue;
    std::rotate(es.begin() + static_cast<std::ptrdiff_t>(i), es.begin() + static_cast<std::ptrdiff_t>(i) + 1, es.end());
    g_hits.fetch_add(1, std::memory_order_relaxed);
    return es.back().packed;
  }
  // miss: pack under the lock, so concurrent first calls pack once (the others wait, then hit)
  auto p = sgemm_avx2_pack_b(tb, K, N, b.as<float>(), tb ? K : N);
  if (es.size() >= kPrepackEntries) es.erase(es.begin());
  es.push_back({b.id, tb, p});
  counter_add("PrepackedWeights");
  g_hits.fetch_add(1, std::memory_order_relaxed);
  return p;
}

}  // namespace jxla
