// sgemm_row.cpp - batch-1 inference over prepacked weights (sgemm_avx2.h sgemm_avx2_row_packed):
// one row of C against the packed B panels, 4 panels (64 columns) at a time, memory-bound (the
// packed weights stream once). Invariant: per element the same FMA chain as the GEMM kernels
// (from 0 over k in order per K block, then c = s or c + s), so a batch-1 result equals that row
// of a batched product bit for bit.
#include <immintrin.h>
#include <algorithm>
#include "backends/host/sgemm_asrc.h"
#include "backends/host/sgemm_avx2.h"
#include "ir/error.h"

namespace jxla {

using sgemm::kNR;

namespace {
// One row of C against NP consecutive B micro-panels (pstride floats apart): per element the
// same FMA chain as kernel_6x16 (from 0, k in order), then c = acc or c + acc. For M = 1 (batch-1
// inference) the 6x16 kernel would do 6x the FMAs; this streams B (the work is memory-bound)
// with 2 NP independent accumulator chains. a: op(A)'s row, element k at a[k * inc].
template <int NP>
__attribute__((target("avx2,fma"))) void kernel_1row(int64_t kc, const float* a, int64_t inc, const float* pb,
                                                       int64_t pstride, float* c, bool overwrite, int64_t nvalid) {
  __m256 acc[NP][2];
  for (int q = 0; q < NP; ++q) acc[q][0] = acc[q][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 av = _mm256_broadcast_ss(a + k * inc);
    for (int q = 0; q < NP; ++q) {
      const float* b = pb + q * pstride + k * kNR;
      acc[q][0] = _mm256_fmadd_ps(av, _mm256_load_ps(b), acc[q][0]);
      acc[q][1] = _mm256_fmadd_ps(av, _mm256_load_ps(b + 8), acc[q][1]);
    }
  }
  alignas(32) float t[NP * kNR];
  for (int q = 0; q < NP; ++q) {
    _mm256_store_ps(t + q * kNR, acc[q][0]);
    _mm256_store_ps(t + q * kNR + 8, acc[q][1]);
  }
  for (int64_t j = 0; j < nvalid; ++j) c[j] = overwrite ? t[j] : c[j] + t[j];
}

// C (1 x n) over the K blocks of a prepacked B, columns [j0, j0 + n): the panels in groups of 4
void row_times_packed(int64_t n, int64_t K, const float* a, int64_t inc, const PackedB& B, int64_t j0, float* C,
                      float beta) {
  const int64_t kblk = sgemm_avx2_kc(K);
  for (int64_t pc = 0; pc < K; pc += kblk) {
    const int64_t kc = std::min(kblk, K - pc);
    const bool overwrite = pc == 0 && beta == 0.0f;
    const float* blk = B.data.get() + pc * B.npad;
    for (int64_t jr = 0; jr < n; jr += 4 * kNR) {
      const int64_t cols = std::min(4 * kNR, n - jr), np = (cols + kNR - 1) / kNR;
      const float* pb = blk + (j0 + jr) * kc;
      const float* ak = a + pc * inc;
      if (np == 4) kernel_1row<4>(kc, ak, inc, pb, kNR * kc, C + jr, overwrite, cols);
      else if (np == 3) kernel_1row<3>(kc, ak, inc, pb, kNR * kc, C + jr, overwrite, cols);
      else if (np == 2) kernel_1row<2>(kc, ak, inc, pb, kNR * kc, C + jr, overwrite, cols);
      else kernel_1row<1>(kc, ak, inc, pb, kNR * kc, C + jr, overwrite, cols);
    }
  }
}
}  // namespace

void sgemm_avx2_row_packed(int64_t n, int64_t K, const float* a, int64_t inc, const PackedB& B, int64_t j0, float* C,
                           float beta) {
  if (n <= 0) return;
  if (K <= 0) {  // an empty sum: C = beta C
    if (beta == 0.0f) std::fill_n(C, n, 0.0f);
    return;
  }
  if (K != B.K || j0 % kNR != 0 || j0 < 0 || j0 + n > B.N)
    internal("sgemm_avx2_row_packed: columns [", j0, ", ", j0 + n, ") x K ", K, " outside the packed ", B.K, " x ", B.N);
  row_times_packed(n, K, a, inc, B, j0, C, beta);
}

}  // namespace jxla
