// prepack.h - GEMM weights packed once per dot kernel instead of on every call.
// A dot kernel whose B operand is a frozen buffer (runtime/buffer.h: a Function's captured
// constant, immutable while it lives) reads op(B) from panels packed on the first call and kept
// in the kernel's PrepackCache, keyed by the buffer's process-unique id (never reused, unlike
// an address, so a dead buffer's entry can never match a new buffer).
// Invariants: results are bit-identical to the unpacked host_sgemm (sgemm_avx2.h PackedB), so
// the cache is invisible except in speed; non-frozen buffers never touch it. The cache is
// mutex-protected and hands out shared_ptrs, so concurrent runs of one executable are safe and
// an entry evicted during a run stays alive until that run ends. Memory is bounded: at most
// kPrepackEntries packed operands per kernel (least recently used evicted).
// JXLA_PREPACK=0 in the environment (read once) or prepack_set_enabled(false) disables it.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>
#include "backends/host/sgemm_avx2.h"
#include "runtime/buffer.h"

namespace jxla {

constexpr size_t kPrepackEntries = 2;

struct PrepackCache {
  struct Entry {
    uint64_t id;
    bool tb;
    std::shared_ptr<const PackedB> packed;
  };
  std::mutex mu;
  std::vector<Entry> entries;  // most recently used last
};

// The packed op(B) (K x N, stored N x K when tb) of buffer b for a GEMM of M rows, or nullptr
// when the unpacked path must run (disabled, b not frozen, or host_sgemm would not use
// sgemm_avx2 for this shape). Packs on a miss (counter "PrepackedWeights").
std::shared_ptr<const PackedB> prepacked_b(PrepackCache& cache, const Buffer& b, bool tb, int64_t M, int64_t N, int64_t K);

bool prepack_enabled();
void prepack_set_enabled(bool on);  // tests and side-by-side comparisons
int64_t prepack_uses();             // GEMMs run from a packed operand (first use included; tests)

}  // namespace jxla
