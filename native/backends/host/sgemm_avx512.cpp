// sgemm_avx512.cpp - see sgemm_avx512.h. One R x 32 register block: 2R zmm accumulators (12 at
// R = 6), per k two B loads, R broadcasts of A (folded into the FMAs as {1to16} memory operands)
// and 2R FMAs. Two FMA pipes of latency 4 need >= 8 independent chains; 12 keep them busy, and
// 8 loads per 12 FMAs stay under the 2 zmm loads per cycle. The B panel pair (kc x 32 x 4 B =
// 25 KB at kc = 196) stays in a 48 KB L1d while the macro-kernel sweeps the A block.
#include "backends/host/sgemm_avx512.h"
#include <immintrin.h>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace jxla {

using sgemm::kMR;
using sgemm::kNR;

namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on{[] {
    const char* e = std::getenv("JXLA_GEMM_ISA");
    return sgemm_avx512_available() && !(e && std::strcmp(e, "avx2") == 0);
  }()};
  return on;
}

// c = s, c + s or bias + s, then relu: the same per-lane operations as sgemm_avx2.cpp's
// store_row16 (IEEE addition commutes exactly, so bias + s == s + bias bit for bit)
__attribute__((target("avx512f"), always_inline)) inline void store_row32(float* row, __m512 lo, __m512 hi,
                                                                         bool overwrite, const float* bias, bool relu) {
  if (bias) {
    lo = _mm512_add_ps(_mm512_loadu_ps(bias), lo);
    hi = _mm512_add_ps(_mm512_loadu_ps(bias + 16), hi);
  } else if (!overwrite) {
    lo = _mm512_add_ps(_mm512_loadu_ps(row), lo);
    hi = _mm512_add_ps(_mm512_loadu_ps(row + 16), hi);
  }
  if (relu) {
    const __m512 z = _mm512_setzero_ps();
    lo = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(lo, z, _CMP_NLE_UQ), lo);
    hi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(hi, z, _CMP_NLE_UQ), hi);
  }
  _mm512_storeu_ps(row, lo);
  _mm512_storeu_ps(row + 16, hi);
}

template <int R, typename ASrc>
__attribute__((target("avx512f"))) void kernel_rx32(int64_t kc, ASrc a_src, const float* pb, float* c, int64_t ldc,
                                                      bool overwrite, const float* bias, bool relu) {
  const float* pb1 = pb + kNR * kc;
  __m512 acc[R][2];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb1);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(*a_src.at(r));
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
    a_src.next();
    pb += kNR;
    pb1 += kNR;
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) store_row32(c + r * ldc, acc[r][0], acc[r][1], overwrite, bias, relu);
}

// R x 16 with a column mask: one B panel (the last single or partial panel of a block). R zmm
// chains (6 < the 8 that hide the FMA latency, still ~1.5x the ymm 6x16 kernel's rate), and the
// stores go straight into C under the mask, no scratch tile. Masked-off lanes are neither read
// (bias, C: masked loads do not fault) nor written.
template <int R, typename ASrc>
__attribute__((target("avx512f"))) void kernel_rx16m(int64_t kc, ASrc a_src, const float* pb, float* c, int64_t ldc,
                                                       bool overwrite, const float* bias, bool relu, __mmask16 m) {
  __m512 acc[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(pb);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(*a_src.at(r)), b0, acc[r]);
    a_src.next();
    pb += kNR;
  }
  const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    float* row = c + r * ldc;
    __m512 v = acc[r];
    if (bias) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, bias), v);
    else if (!overwrite) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, row), v);
    if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, z, _CMP_NLE_UQ), v);
    _mm512_mask_storeu_ps(row, m, v);
  }
}

template <typename ASrc>
void dispatch16(int R, int64_t kc, ASrc a, const float* pb, float* c, int64_t ldc, bool overwrite, const float* bias,
                bool relu, int nr) {
  const __mmask16 m = static_cast<__mmask16>((1u << nr) - 1u);
  switch (R) {
    case 1: kernel_rx16m<1>(kc, a, pb, c, ldc, overwrite, bias, relu, m); break;
    case 2: kernel_rx16m<2>(kc, a, pb, c, ldc, overwrite, bias, relu, m); break;
    case 3: kernel_rx16m<3>(kc, a, pb, c, ldc, overwrite, bias, relu, m); break;
    case 4: kernel_rx16m<4>(kc, a, pb, c, ldc, overwrite, bias, relu, m); break;
    case 5: kernel_rx16m<5>(kc, a, pb, c, ldc, overwrite, bias, relu, m); break;
    default: kernel_rx16m<kMR>(kc, a, pb, c, ldc, overwrite, bias, relu, m); break;
  }
}

template <typename ASrc>
void dispatch(int R, int64_t kc, ASrc a, const float* pb, float* c, int64_t ldc, bool overwrite, const float* bias,
              bool relu) {
  switch (R) {
    case 1: kernel_rx32<1>(kc, a, pb, c, ldc, overwrite, bias, relu); break;
    case 2: kernel_rx32<2>(kc, a, pb, c, ldc, overwrite, bias, relu); break;
    case 3: kernel_rx32<3>(kc, a, pb, c, ldc, overwrite, bias, relu); break;
    case 4: kernel_rx32<4>(kc, a, pb, c, ldc, overwrite, bias, relu); break;
    case 5: kernel_rx32<5>(kc, a, pb, c, ldc, overwrite, bias, relu); break;
    default: kernel_rx32<kMR>(kc, a, pb, c, ldc, overwrite, bias, relu); break;
  }
}
}  // namespace

bool sgemm_avx512_available() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}

bool sgemm_avx512_enabled() { return enabled_flag().load(std::memory_order_relaxed); }

bool sgemm_avx512_set_enabled(bool on) { return enabled_flag().exchange(on && sgemm_avx512_available()); }

void sgemm_avx512_rx32(int R, int64_t kc, sgemm::PackedA a, const float* pb, float* c, int64_t ldc, bool overwrite,
                       const float* bias, bool relu) {
  dispatch(R, kc, a, pb, c, ldc, overwrite, bias, relu);
}
void sgemm_avx512_rx32(int R, int64_t kc, sgemm::RowsA a, const float* pb, float* c, int64_t ldc, bool overwrite,
                       const float* bias, bool relu) {
  dispatch(R, kc, a, pb, c, ldc, overwrite, bias, relu);
}
void sgemm_avx512_rx32(int R, int64_t kc, sgemm::RowsAEdge a, const float* pb, float* c, int64_t ldc, bool overwrite,
                       const float* bias, bool relu) {
  dispatch(R, kc, a, pb, c, ldc, overwrite, bias, relu);
}

void sgemm_avx512_rx16(int R, int nr, int64_t kc, sgemm::PackedA a, const float* pb, float* c, int64_t ldc,
                       bool overwrite, const float* bias, bool relu) {
  dispatch16(R, kc, a, pb, c, ldc, overwrite, bias, relu, nr);
}
void sgemm_avx512_rx16(int R, int nr, int64_t kc, sgemm::RowsA a, const float* pb, float* c, int64_t ldc,
                       bool overwrite, const float* bias, bool relu) {
  dispatch16(R, kc, a, pb, c, ldc, overwrite, bias, relu, nr);
}
void sgemm_avx512_rx16(int R, int nr, int64_t kc, sgemm::RowsAEdge a, const float* pb, float* c, int64_t ldc,
                       bool overwrite, const float* bias, bool relu) {
  dispatch16(R, kc, a, pb, c, ldc, overwrite, bias, relu, nr);
}

}  // namespace jxla
