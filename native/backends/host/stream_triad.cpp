// stream_triad.cpp - see stream_triad.h. The STREAM triad (McCalpin, "Memory Bandwidth and
// Machine Balance", 1995: a(j) = b(j) + scalar * c(j)) written with intrinsics per instruction
// set, each function compiled for its ISA by a target attribute and picked at run time
// (__builtin_cpu_supports), never assumed at build time. Work is split into chunks of 64 Ki
// floats (256 KiB per array) over the host pool, so both cores stream at once. Streaming stores
// need a 32/64-byte aligned destination: a scalar head runs up to the alignment, then the
// vector body, then a scalar tail.
#include "backends/host/stream_triad.h"
#include <immintrin.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include "backends/host/thread_pool.h"

namespace jxla {
namespace {

using TriadFn = void (*)(float*, const float*, const float*, float, int64_t, bool);

void triad_scalar(float* a, const float* b, const float* c, float s, int64_t n) {
  // no FMA contraction: CMakeLists.txt compiles this file with -ffp-contract=off
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

void triad_base(float* a, const float* b, const float* c, float s, int64_t n, bool nt) {
  int64_t i = 0;
  while (i < n && (reinterpret_cast<uintptr_t>(a + i) & 15)) { a[i] = b[i] + s * c[i]; ++i; }
  const __m128 vs = _mm_set1_ps(s);
  for (; i + 4 <= n; i += 4) {
    __m128 v = _mm_add_ps(_mm_loadu_ps(b + i), _mm_mul_ps(vs, _mm_loadu_ps(c + i)));
    if (nt) _mm_stream_ps(a + i, v); else _mm_store_ps(a + i, v);
  }
  triad_scalar(a + i, b + i, c + i, s, n - i);
}

__attribute__((target("avx2"))) void triad_avx2(float* a, const float* b, const float* c, float s, int64_t n, bool nt) {
  int64_t i = 0;
  while (i < n && (reinterpret_cast<uintptr_t>(a + i) & 31)) { a[i] = b[i] + s * c[i]; ++i; }
  const __m256 vs = _mm256_set1_ps(s);
  if (nt) {
    for (; i + 16 <= n; i += 16) {
      __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(b + i), _mm256_mul_ps(vs, _mm256_loadu_ps(c + i)));
      __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(b + i + 8), _mm256_mul_ps(vs, _mm256_loadu_ps(c + i + 8)));
      _mm256_stream_ps(a + i, v0);
      _mm256_stream_ps(a + i + 8, v1);
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(b + i), _mm256_mul_ps(vs, _mm256_loadu_ps(c + i)));
      __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(b + i + 8), _mm256_mul_ps(vs, _mm256_loadu_ps(c + i + 8)));
      _mm256_store_ps(a + i, v0);
      _mm256_store_ps(a + i + 8, v1);
    }
  }
  triad_scalar(a + i, b + i, c + i, s, n - i);
}

__attribute__((target("avx512f"))) void triad_avx512(float* a, const float* b, const float* c, float s, int64_t n, bool nt) {
  int64_t i = 0;
  while (i < n && (reinterpret_cast<uintptr_t>(a + i) & 63)) { a[i] = b[i] + s * c[i]; ++i; }
  const __m512 vs = _mm512_set1_ps(s);
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_add_ps(_mm512_loadu_ps(b + i), _mm512_mul_ps(vs, _mm512_loadu_ps(c + i)));
    if (nt) _mm512_stream_ps(a + i, v); else _mm512_store_ps(a + i, v);
  }
  triad_scalar(a + i, b + i, c + i, s, n - i);
}

struct Choice { TriadFn fn; const char* isa; };
Choice choose() {
  __builtin_cpu_init();
  const char* force = std::getenv("JXLA_ISA");  // same switch as the fused engine (fused_ops.cpp)
  bool allow512 = !force || std::strcmp(force, "avx512") == 0;
  bool allow2 = allow512 || std::strcmp(force, "avx2") == 0;
  if (allow512 && __builtin_cpu_supports("avx512f")) return {triad_avx512, "avx512"};
  if (allow2 && __builtin_cpu_supports("avx2")) return {triad_avx2, "avx2"};
  return {triad_base, "sse2"};
}
}  // namespace

const char* stream_triad(float* a, const float* b, const float* c, float s, int64_t n, bool nontemporal) {
  static const Choice ch = choose();
  constexpr int64_t kChunk = 1 << 16;
  const int64_t tasks = (n + kChunk - 1) / kChunk;
  parallel_for(tasks, [&](int64_t t) {
    int64_t i0 = t * kChunk, len = std::min(kChunk, n - i0);
    ch.fn(a + i0, b + i0, c + i0, s, len, nontemporal);
    if (nontemporal) _mm_sfence();  // streaming stores are weakly ordered: drain them on this thread
  });
  return ch.isa;
}

}  // namespace jxla
