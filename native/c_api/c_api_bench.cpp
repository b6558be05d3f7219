// c_api_bench.cpp - benchmark diagnostics of the C ABI (issue 3 target (a)): the native
// STREAM-triad baseline (backends/host/stream_triad.h) on library-owned arrays. Not part of
// the tensor API; it exists so the JMH benchmark can compare the fused engine's bytes/s with
// a hand-written bandwidth kernel in the same process and run.
// Invariant: the arrays are guarded by one mutex; a call with a new n reallocates all three.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include "backends/host/stream_triad.h"
#include "backends/host/thread_pool.h"
#include "c_api/c_api_internal.h"

using namespace jxla;

namespace {
struct TriadArrays {
  std::mutex mu;
  int64_t n = 0;
  float *a = nullptr, *b = nullptr, *c = nullptr;
  void release() {
    std::free(a); std::free(b); std::free(c);
    a = b = c = nullptr;
    n = 0;
  }
  void ensure(int64_t want) {
    if (want == n) return;
    release();
    if (want == 0) return;
    size_t bytes = (static_cast<size_t>(want) * sizeof(float) + 63) / 64 * 64;
    a = static_cast<float*>(std::aligned_alloc(64, bytes));
    b = static_cast<float*>(std::aligned_alloc(64, bytes));
    c = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!a || !b || !c) { release(); throw std::bad_alloc(); }
    n = want;
    // first touch from the pool's threads, in the same chunks the triad uses
    constexpr int64_t kChunk = 1 << 16;
    float *pa = a, *pb = b, *pc = c;
    parallel_for((want + kChunk - 1) / kChunk, [&](int64_t t) {
      for (int64_t i = t * kChunk; i < std::min(want, (t + 1) * kChunk); ++i) {
        pa[i] = 0.0f;
        pb[i] = 1.0f + static_cast<float>(i % 7);
        pc[i] = 2.0f - 0.25f * static_cast<float>(i % 5);
      }
    });
  }
};
TriadArrays& arrays() {
  static TriadArrays* t = new TriadArrays();  // immortal: no destruction-order questions at exit
  return *t;
}
}  // namespace

extern "C" {

jxla_status jxla_bench_stream_triad(int64_t n, float scalar, int32_t flags, double* checksum, int32_t* vector_bits) {
  JXLA_TRY
  if (n < 0) invalid("bench_stream_triad: n must be >= 0, got ", n);
  if (flags & ~1) invalid("bench_stream_triad: unknown flags ", flags, " (bit 0: non-temporal stores)");
  TriadArrays& t = arrays();
  std::lock_guard<std::mutex> lk(t.mu);
  t.ensure(n);
  const char* isa = n ? stream_triad(t.a, t.b, t.c, scalar, n, (flags & 1) != 0) : "none";
  if (checksum) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += t.a[i];
    *checksum = s;
  }
  if (vector_bits) *vector_bits = n == 0 ? 0 : std::strcmp(isa, "avx512") == 0 ? 512 : std::strcmp(isa, "avx2") == 0 ? 256 : 128;
  JXLA_CATCH
}

}  // extern "C"
