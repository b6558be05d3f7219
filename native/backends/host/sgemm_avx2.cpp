// sgemm_avx2.cpp - see sgemm_avx2.h. Loop nest (Goto/BLIS order, docs/gemm.md says why):
//   for jc (NC columns of C): for pc (KC of K): pack op(B)[pc, jc] into KC x 16 micro-panels
//     for ic (MC rows): pack op(A)[ic, pc] into 6 x KC micro-panels
//       for jr (16 columns): for ir (6 rows): 6x16 micro-kernel over kc
// The packed B block (KC x NC, up to 3 MB) lives in L3, one packed A block (MC x KC, 144 KB)
// in L2, one B micro-panel (KC x 16, 16 KB) in L1 while the kernel sweeps the A block.
// Edges: packing pads op(A) rows to a multiple of 6 and op(B) columns to a multiple of 16 with
// zeros, the kernel then writes a partial tile to a 6x16 scratch tile and only the valid part
// is added to C. The padded products are exact zeros added to a separate lane, so an element's
// arithmetic is the same whether it sits in a full or an edge tile.
// Narrow products (N <= 128, A stored M x K) skip the A packing: the kernel reads A in place.
// Short full-width edge panels (1-5 rows) use an R-row kernel straight into C; one-row products
// over a PackedB use a 1 x 64 row kernel (sgemm_avx2_row_packed, sgemm_row.cpp); 2-D tiles over a PackedB and
// a once-packed A run sgemm_avx2_tile. All keep the per-element arithmetic above.
// sgemm_avx2_tile can apply a row bias (first K block) and relu (last K block) in the kernel's
// stores (TileEpilogue, session 6): the same values as a bias prefill + beta 1 + a relu pass.
// Where the CPU has AVX-512F (session 7) the macro-kernel runs sgemm_avx512.h's R x 32 kernel on
// pairs of B panels and its masked R x 16 kernel on a last single/partial panel instead: same
// per-element arithmetic, so the same bits.
#include "backends/host/sgemm_avx2.h"
#include "backends/host/float_scratch.h"
#include "backends/host/sgemm_asrc.h"
#include "backends/host/sgemm_avx512.h"
#include "ir/error.h"
#include <immintrin.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <sys/mman.h>

namespace jxla {

namespace {
using sgemm::kMR;
using sgemm::kNR;
using sgemm::PackedA;
using sgemm::RowsA;
using sgemm::RowsAEdge;
using sgemm::edge_rows;
constexpr int64_t kKC = 256;   // max K block: B micro-panel 256 x 16 x 4 B = 16 KB, half of L1d (32 KB)
constexpr int64_t kMC = 144;   // A block 144 x 256 x 4 B = 144 KB of the 512 KB L2
constexpr int64_t kDirectN = 8 * kNR;  // up to 8 B micro-panels: A read in place (see sgemm_avx2)
constexpr int64_t kNC = 3072;  // B block 256 x 3072 x 4 B = 3 MB: a fraction of the 32 MB L3

// packing buffers, one pair per thread (pool workers are immortal; a Java thread's pair is
// freed when it exits): no mmap + page faults per call for MB-sized panels
thread_local FloatScratch tl_a, tl_b;

// In-register 8x8 transpose: r[i] holds row i on entry, column i on exit.
__attribute__((target("avx2"))) inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);      // r0[0] r1[0] r0[1] r1[1] | r0[4] ..
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);  // r0[2] r1[2] r0[3] r1[3] | ..
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);      // col 0 (rows i..i+3) | col 4
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);  // col 1 | col 5
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);  // col 2 | col 6
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);  // col 3 | col 7
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// Six rows of 8 floats (r_i[0..8)) -> 48 floats d[j * 6 + i] = r_i[j] (8 columns of 6, the
// packed A layout), in registers: 6 loads, 18 shuffles, 6 full stores. (The 8x8 transpose it
// replaces spilled its arrays to the stack and stored each column in two pieces: ~4 GB/s.)
// Pairs (r_2p[j], r_2p+1[j]) are 64-bit lanes of the unpacked t's; each output vector is three
// such pairs of one column and one of the next, gathered per 128-bit lane and then recombined
// (the upper lanes hold columns 4-7, i.e. the second 24 floats).
__attribute__((target("avx2"), always_inline)) inline void transpose6x8(const float* r0, const float* r1, const float* r2,
                                                                       const float* r3, const float* r4, const float* r5,
                                                                       float* d) {
  const __m256 a0 = _mm256_loadu_ps(r0), a1 = _mm256_loadu_ps(r1), a2 = _mm256_loadu_ps(r2);
  const __m256 a3 = _mm256_loadu_ps(r3), a4 = _mm256_loadu_ps(r4), a5 = _mm256_loadu_ps(r5);
  // t0 = (r0 r1)[0], (r0 r1)[1] | [4], [5]; t1 = [2], [3] | [6], [7]; likewise t2, t3 (rows 2, 3), t4, t5 (rows 4, 5)
  const __m256d t0 = _mm256_castps_pd(_mm256_unpacklo_ps(a0, a1)), t1 = _mm256_castps_pd(_mm256_unpackhi_ps(a0, a1));
  const __m256d t2 = _mm256_castps_pd(_mm256_unpacklo_ps(a2, a3)), t3 = _mm256_castps_pd(_mm256_unpackhi_ps(a2, a3));
  const __m256d t4 = _mm256_castps_pd(_mm256_unpacklo_ps(a4, a5)), t5 = _mm256_castps_pd(_mm256_unpackhi_ps(a4, a5));
  // per lane (columns j, j + 1 with j = 0 in the low lane, 4 in the high lane):
  const __m256d x0 = _mm256_unpacklo_pd(t0, t2);     // (01)[j] (23)[j]
  const __m256d y0 = _mm256_shuffle_pd(t4, t0, 0xA);  // (45)[j] (01)[j+1]
  const __m256d x1 = _mm256_unpackhi_pd(t2, t4);     // (23)[j+1] (45)[j+1]
  const __m256d y1 = _mm256_unpacklo_pd(t1, t3);     // (01)[j+2] (23)[j+2]
  const __m256d x2 = _mm256_shuffle_pd(t5, t1, 0xA);  // (45)[j+2] (01)[j+3]
  const __m256d y2 = _mm256_unpackhi_pd(t3, t5);     // (23)[j+3] (45)[j+3]
  _mm256_storeu_pd(reinterpret_cast<double*>(d), _mm256_permute2f128_pd(x0, y0, 0x20));
  _mm256_storeu_pd(reinterpret_cast<double*>(d + 8), _mm256_permute2f128_pd(x1, y1, 0x20));
  _mm256_storeu_pd(reinterpret_cast<double*>(d + 16), _mm256_permute2f128_pd(x2, y2, 0x20));
  _mm256_storeu_pd(reinterpret_cast<double*>(d + 24), _mm256_permute2f128_pd(x0, y0, 0x31));
  _mm256_storeu_pd(reinterpret_cast<double*>(d + 32), _mm256_permute2f128_pd(x1, y1, 0x31));
  _mm256_storeu_pd(reinterpret_cast<double*>(d + 40), _mm256_permute2f128_pd(x2, y2, 0x31));
}

// op(A)[i0 .. i0+mc, p0 .. p0+kc] -> ceil(mc/6) micro-panels, each kc x 6 (k-major), rows past
// mc zero. Packing only moves values: the layout never changes the arithmetic.
__attribute__((target("avx2"))) void pack_a(bool ta, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                                            int64_t kc, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += kMR, dst += kMR * kc) {
    const int64_t mr = std::min(kMR, mc - ir);
    if (ta) {  // A stored K x M: each k holds the 6 rows contiguously
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = A + (p0 + k) * lda + i0 + ir;
        float* d = dst + k * kMR;
        int64_t i = 0;
        for (; i < mr; ++i) d[i] = src[i];
        for (; i < kMR; ++i) d[i] = 0.0f;
      }
      continue;
    }
    // A stored M x K: 6 row streams, transposed 8 k at a time
    const float* src[kMR];
    for (int64_t i = 0; i < kMR; ++i) src[i] = A + (i0 + ir + std::min(i, mr - 1)) * lda + p0;
    int64_t k = 0;
    if (mr == kMR) {
      for (; k + 8 <= kc; k += 8) transpose6x8(src[0] + k, src[1] + k, src[2] + k, src[3] + k, src[4] + k, src[5] + k, dst + k * kMR);
    }
    for (; k < kc; ++k)
      for (int64_t i = 0; i < kMR; ++i) dst[k * kMR + i] = i < mr ? src[i][k] : 0.0f;
  }
}

// op(B)[p0 .. p0+kc, j0 .. j0+nc] -> ceil(nc/16) micro-panels, each kc x 16, columns past nc zero.
__attribute__((target("avx2"))) void pack_b(bool tb, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                                            int64_t nc, float* dst) {
  if (!tb) {
    // B stored K x N: row k of the block is contiguous; read it whole (one stream, which the
    // hardware prefetcher follows) and deal its 16-column pieces out to the panels
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B + (p0 + k) * ldb + j0;
      for (int64_t jr = 0; jr < nc; jr += kNR) {
        const int64_t nr = std::min(kNR, nc - jr);
        float* d = dst + jr * kc + k * kNR;
        if (nr == kNR) {
          _mm256_store_ps(d, _mm256_loadu_ps(src + jr));
          _mm256_store_ps(d + 8, _mm256_loadu_ps(src + jr + 8));
        } else {
          int64_t j = 0;
          for (; j < nr; ++j) d[j] = src[jr + j];
          for (; j < kNR; ++j) d[j] = 0.0f;
        }
      }
    }
    return;
  }
  for (int64_t jr = 0; jr < nc; jr += kNR, dst += kNR * kc) {
    const int64_t nr = std::min(kNR, nc - jr);
    // B stored N x K: 16 row streams, transposed in 8 x 8 blocks. One half-panel (8 rows) over
    // all of kc, then the other: with ldb a multiple of 1 KB the rows' lines fall in one L1 set
    // (8 ways), so 8 rows at a time keep each line cached between its two 8-float reads.
    const float* src = B + (j0 + jr) * ldb + p0;
    int64_t k = 0;
    if (nr == kNR) {
      for (int h = 0; h < 2; ++h)
        for (k = 0; k + 8 <= kc; k += 8) {
          __m256 r[8];
          for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + (h * 8 + j) * ldb + k);
          transpose8(r);
          for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (k + j) * kNR + h * 8, r[j]);
        }
    }
    for (; k < kc; ++k)
      for (int64_t j = 0; j < kNR; ++j) dst[k * kNR + j] = j < nr ? src[j * ldb + k] : 0.0f;
  }
}

// Stores one 16-float row of accumulators into C: c = s (first K block) or c + s (later ones).
// Epilogue (sgemm_avx2.h TileEpilogue): with bias (first K block, beta 0) c = bias + s, the value a
// prefill of C with the bias followed by c + s gives; with relu (last K block) the stored value is
// relu'd (x if x > 0 or NaN, else +0: the fused interpreter's relu, fused_ops_impl.inc).
__attribute__((target("avx2,fma"), always_inline)) inline void store_row16(float* row, __m256 lo, __m256 hi,
                                                                          bool overwrite, const float* bias = nullptr,
                                                                          bool relu = false) {
  if (bias) {
    lo = _mm256_add_ps(_mm256_loadu_ps(bias), lo);
    hi = _mm256_add_ps(_mm256_loadu_ps(bias + 8), hi);
  } else if (!overwrite) {
    lo = _mm256_add_ps(_mm256_loadu_ps(row), lo);
    hi = _mm256_add_ps(_mm256_loadu_ps(row + 8), hi);
  }
  if (relu) {
    const __m256 z = _mm256_setzero_ps();
    lo = _mm256_and_ps(lo, _mm256_cmp_ps(lo, z, _CMP_NLE_UQ));
    hi = _mm256_and_ps(hi, _mm256_cmp_ps(hi, z, _CMP_NLE_UQ));
  }
  _mm256_storeu_ps(row, lo);
  _mm256_storeu_ps(row + 8, hi);
}

// The scalar form of store_row16's epilogue for edge tiles (same operations per element).
inline float store_one(float c, float s, bool overwrite, const float* bias, bool relu) {
  float v = bias ? *bias + s : overwrite ? s : c + s;
  if (relu) v = v > 0.0f ? v : (v != v ? v : 0.0f);
  return v;
}

// The 6x16 micro-kernel: acc = sum_k a[k] (x) pb[k] in k order (12 ymm accumulators, one FMA
// chain per element), then c = acc (overwrite) or c = c + acc. The A source only changes where
// the same values are loaded from, never the arithmetic.
template <typename ASrc>
__attribute__((target("avx2,fma"))) void kernel_6x16(int64_t kc, ASrc a_src, const float* pb, float* c, int64_t ldc,
                                                       bool overwrite, const float* bias = nullptr, bool relu = false) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t r = 0; r < kMR; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
    __m256 a = _mm256_broadcast_ss(a_src.at(0));
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(a_src.at(1));
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(a_src.at(2));
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(a_src.at(3));
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(a_src.at(4));
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(a_src.at(5));
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    a_src.next();
    pb += kNR;
  }
  const __m256 acc[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int64_t r = 0; r < kMR; ++r) {
    store_row16(c + r * ldc, acc[r][0], acc[r][1], overwrite, bias, relu);
  }
}

// The same kernel for R < 6 rows (edge panels: batch 32 = 5 x 6 + 2 rows) when all 16 columns
// are valid: only the R real rows are computed and stored straight into C, instead of 6 rows into
// the scratch tile. Per element the same FMA chain from 0 in k order, then the same store/add.
template <int R, typename ASrc>
__attribute__((target("avx2,fma"))) void kernel_rx16(int64_t kc, ASrc a_src, const float* pb, float* c, int64_t ldc,
                                                       bool overwrite, const float* bias, bool relu) {
  __m256 acc[R][2];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(a_src.at(r));
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
    a_src.next();
    pb += kNR;
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    store_row16(c + r * ldc, acc[r][0], acc[r][1], overwrite, bias, relu);
  }
}

template <typename ASrc>
void kernel_rows(int64_t mr, int64_t kc, ASrc a_src, const float* pb, float* c, int64_t ldc, bool overwrite,
                 const float* bias, bool relu) {
  switch (mr) {
    case 1: kernel_rx16<1>(kc, a_src, pb, c, ldc, overwrite, bias, relu); break;
    case 2: kernel_rx16<2>(kc, a_src, pb, c, ldc, overwrite, bias, relu); break;
    case 3: kernel_rx16<3>(kc, a_src, pb, c, ldc, overwrite, bias, relu); break;
    case 4: kernel_rx16<4>(kc, a_src, pb, c, ldc, overwrite, bias, relu); break;
    default: kernel_rx16<5>(kc, a_src, pb, c, ldc, overwrite, bias, relu); break;
  }
}

// One block of op(A) (mc x kc: packed panels when pa, else A stored M x K read in place from a,
// lda) times one packed B block (kc x nc) into C.
// pf_after (may be null): the B micro-panel needed after this block (the next K block's first
// panel of the tile), prefetched during the last panel like the others.
// bias (may be null; first K block with beta 0 only): bias[j] for column j of C, added in the
// stores; relu (last K block only): applied in the stores (store_row16).
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const float* pa, const float* a, int64_t lda, const float* pb,
                  float* C, int64_t ldc, bool overwrite, const float* pf_after = nullptr, const float* bias = nullptr,
                  bool relu = false) {
  alignas(64) float tile[kMR * kNR];
  // the next B micro-panel (kc lines of 64 B) is prefetched into L2 a slice per kernel call
  // while this one is swept: a prepacked B comes from L3, and short tiles (few row panels per
  // B panel) would otherwise stall on its first sweep. Prefetches never change a value.
  const int64_t calls = (mc + kMR - 1) / kMR, pf_per = (kc + calls - 1) / calls;
  const bool wide = sgemm_avx512_enabled();
  for (int64_t jr = 0; jr < nc; jr += kNR) {
    const int64_t nr = std::min(kNR, nc - jr);
    const float* b = pb + jr * kc;
    if (wide) {  // AVX-512 (same values): two full B panels at once, else the last one under a mask
      const bool pair = jr + 2 * kNR <= nc;
      const int64_t panels = pair ? 2 : 1;
      const char* next = reinterpret_cast<const char*>(jr + panels * kNR < nc ? b + panels * kNR * kc : pf_after);
      for (int64_t ir = 0; ir < mc; ir += kMR) {
        const int64_t mr = std::min(kMR, mc - ir);
        if (next)  // the panel(s) that follow: kc lines of 64 B each
          for (int64_t l = ir / kMR * panels * pf_per, e = std::min(panels * kc, l + panels * pf_per); l < e; ++l)
            _mm_prefetch(next + l * 64, _MM_HINT_T1);
        float* c = C + ir * ldc + jr;
        const float* bj = bias ? bias + jr : nullptr;
        const int R = static_cast<int>(mr);
        const auto run = [&](auto src) {
          if (pair) sgemm_avx512_rx32(R, kc, src, b, c, ldc, overwrite, bj, relu);
          else sgemm_avx512_rx16(R, static_cast<int>(nr), kc, src, b, c, ldc, overwrite, bj, relu);
        };
        if (pa) run(PackedA{pa + ir * kc});
        else if (mr == kMR) run(RowsA{a + ir * lda, lda});
        else run(edge_rows(a + ir * lda, lda, mr));
      }
      jr += (panels - 1) * kNR;  // the loop's own step adds the last panel
      continue;
    }
    const char* next = reinterpret_cast<const char*>(jr + kNR < nc ? b + kNR * kc : pf_after);
    for (int64_t ir = 0; ir < mc; ir += kMR) {
      const int64_t mr = std::min(kMR, mc - ir);
      if (next)
        for (int64_t l = ir / kMR * pf_per, e = std::min(kc, l + pf_per); l < e; ++l) _mm_prefetch(next + l * 64, _MM_HINT_T1);
      float* c = C + ir * ldc + jr;
      const float* bj = bias ? bias + jr : nullptr;
      if (mr < kMR && nr == kNR) {  // a short full-width panel: only its rows, straight into C
        if (pa) {
          kernel_rows(mr, kc, PackedA{pa + ir * kc}, b, c, ldc, overwrite, bj, relu);
        } else {
          kernel_rows(mr, kc, edge_rows(a + ir * lda, lda, mr), b, c, ldc, overwrite, bj, relu);
        }
        continue;
      }
      const bool full = mr == kMR && nr == kNR;
      // edge tile: the same kernel into scratch, then the same single add per element
      float* out = full ? c : tile;
      const int64_t ldo = full ? ldc : kNR;
      const bool ow = full ? overwrite : true;
      // the epilogue goes into the kernel's stores only when it writes C itself (full panels);
      // an edge tile applies it in the scalar copy below (bias: only the nr valid columns are read)
      const float* kb = full ? bj : nullptr;
      const bool kr = full && relu;
      if (pa) {
        kernel_6x16(kc, PackedA{pa + ir * kc}, b, out, ldo, ow, kb, kr);
      } else if (mr == kMR) {
        kernel_6x16(kc, RowsA{a + ir * lda, lda}, b, out, ldo, ow, kb, kr);
      } else {
        kernel_6x16(kc, edge_rows(a + ir * lda, lda, mr), b, out, ldo, ow, kb, kr);
      }
      if (full) continue;
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j)
          c[i * ldc + j] = store_one(c[i * ldc + j], tile[i * kNR + j], overwrite, bj ? bj + j : nullptr, relu);
    }
  }
}
}  // namespace

bool sgemm_avx2_available() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

int64_t sgemm_avx2_direct_n() { return kDirectN; }

bool& sgemm_avx2_hugepages_flag() {
  static bool on = !std::getenv("JXLA_HUGEPAGES") || std::strcmp(std::getenv("JXLA_HUGEPAGES"), "0") != 0;
  return on;
}

float* sgemm_avx2_alloc(size_t count) {
  constexpr size_t kHuge = size_t(2) << 20;
  size_t bytes = (std::max<size_t>(1, count) * sizeof(float) + 63) / 64 * 64;
  void* p = nullptr;
  if (bytes >= kHuge / 2 && sgemm_avx2_hugepages_flag()) {
    // MB-sized panels streamed by every tile: 2 MB pages cut the TLB misses of the B stream
    // (1 per 2 MB instead of 1 per 4 KB; a miss walks nested page tables in a VM). THP is
    // "madvise" on typical hosts, so ask for it; the rounding wastes < 2 MB per operand.
    bytes = (bytes + kHuge - 1) / kHuge * kHuge;
    p = std::aligned_alloc(kHuge, bytes);
    if (p) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: failure leaves 4 KB pages
  } else {
    p = std::aligned_alloc(64, bytes);
  }
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}

int64_t sgemm_avx2_kc(int64_t K) {
  // equal blocks (784 = 4 x 196 rather than 3 x 256 + 16: a 16-deep block pays a full C update
  // for little work), rounded up to 8 for the 8 x 8 transposes of the packing
  const int64_t blocks = (K + kKC - 1) / kKC, kc = (K + blocks - 1) / blocks;
  return std::max<int64_t>(8, (kc + 7) / 8 * 8);
}

namespace {
// The loop nest shared by the packing and the prepacked entries. b_block(pc, kc, jc, nc, pb)
// returns the packed op(B)[pc .. pc+kc, jc .. jc+nc] (packing it into pb, or pointing into a
// PackedB): both give the same panel contents, so the arithmetic is identical.
template <typename BBlock>
void sgemm_driver(bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, float* pb, BBlock b_block,
                  float* C, int64_t ldc, float beta) {
  const int64_t mcap = std::min(M, kMC), kblk = sgemm_avx2_kc(K), kcap = std::min(K, kblk);
  // few B micro-panels: each packed A value would be reused only a few times, so the kernel
  // reads A (stored M x K) in place instead of paying a packing pass
  const bool direct_a = !ta && N <= kDirectN;
  float* pa = direct_a ? nullptr : tl_a.get(static_cast<size_t>((mcap + kMR - 1) / kMR * kMR * kcap));
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kblk) {
      const int64_t kc = std::min(kblk, K - pc);
      const bool overwrite = pc == 0 && beta == 0.0f;
      const float* b = b_block(pc, kc, jc, nc, pb);
      for (int64_t ic = 0; ic < M; ic += kMC) {
        const int64_t mc = std::min(kMC, M - ic);
        if (direct_a) {
          macro_kernel(mc, nc, kc, nullptr, A + ic * lda + pc, lda, b, C + ic * ldc + jc, ldc, overwrite);
        } else {
          pack_a(ta, A, lda, ic, mc, pc, kc, pa);
          macro_kernel(mc, nc, kc, pa, nullptr, 0, b, C + ic * ldc + jc, ldc, overwrite);
        }
      }
    }
  }
}

// C = beta C for an empty sum; true when there is nothing (more) to do
bool trivial(int64_t M, int64_t N, int64_t K, float* C, int64_t ldc, float beta) {
  if (M <= 0 || N <= 0) return true;
  if (K > 0) return false;
  if (beta == 0.0f)
    for (int64_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0.0f);
  return true;
}
}  // namespace

void sgemm_avx2(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                int64_t ldb, float* C, int64_t ldc, float beta) {
  if (trivial(M, N, K, C, ldc, beta)) return;
  const int64_t ncap = std::min(N, kNC), kcap = std::min(K, sgemm_avx2_kc(K));
  float* pb = tl_b.get(static_cast<size_t>((ncap + kNR - 1) / kNR * kNR * kcap));
  sgemm_driver(ta, M, N, K, A, lda, pb,
               [&](int64_t pc, int64_t kc, int64_t jc, int64_t nc, float* dst) {
                 pack_b(tb, B, ldb, pc, kc, jc, nc, dst);
                 return static_cast<const float*>(dst);
               },
               C, ldc, beta);
}

void PackedB::Free::operator()(float* p) const { std::free(p); }

std::shared_ptr<const PackedB> sgemm_avx2_pack_b(bool tb, int64_t K, int64_t N, const float* B, int64_t ldb) {
  auto r = std::make_shared<PackedB>();
  r->K = K;
  r->N = N;
  r->npad = (N + kNR - 1) / kNR * kNR;
  r->kblk = K > 0 ? sgemm_avx2_kc(K) : 0;
  r->data.reset(sgemm_avx2_alloc(static_cast<size_t>(std::max<int64_t>(1, r->npad * K))));
  // K block pc holds ceil(N/16) panels of kc x 16 from offset pc * npad: the blocks before it
  // are pc deep in total. Panel p starts at p * 16 * kc within its block, the layout pack_b
  // gives any run of whole panels, so a tile starting at a multiple of 16 columns reads a slice.
  for (int64_t pc = 0; pc < K; pc += r->kblk) pack_b(tb, B, ldb, pc, std::min(r->kblk, K - pc), 0, N, r->data.get() + pc * r->npad);
  return r;
}

void sgemm_avx2_packed(bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const PackedB& B,
                       int64_t j0, float* C, int64_t ldc, float beta) {
  if (trivial(M, N, K, C, ldc, beta)) return;
  if (K != B.K || j0 % kNR != 0 || j0 < 0 || j0 + N > B.N)
    internal("sgemm_avx2_packed: columns [", j0, ", ", j0 + N, ") x K ", K, " outside the packed ", B.K, " x ", B.N);
  const float* base = B.data.get();
  const int64_t npad = B.npad;
  sgemm_driver(ta, M, N, K, A, lda, nullptr,
               [&](int64_t pc, int64_t kc, int64_t jc, int64_t, float*) {
                 return base + pc * npad + (j0 + jc) * kc;  // panel (j0 + jc) / 16 of block pc
               },
               C, ldc, beta);
}

void sgemm_avx2_pack_a_rows(bool ta, int64_t K, const float* A, int64_t lda, int64_t i0, int64_t m, float* pa,
                            int64_t mstride, int64_t r) {
  const int64_t kblk = sgemm_avx2_kc(K);
  for (int64_t pc = 0; pc < K; pc += kblk) {
    const int64_t kc = std::min(kblk, K - pc);
    pack_a(ta, A, lda, i0, m, pc, kc, pa + pc * mstride + r * kc);  // ceil(m/6) panels of kc x 6
  }
}

void sgemm_avx2_tile(int64_t m, int64_t n, int64_t K, const float* pa, int64_t mstride, int64_t r, const float* a,
                     int64_t lda, const PackedB& B, int64_t j0, float* C, int64_t ldc, float beta, const TileEpilogue* epi) {
  const float* bias = epi ? epi->bias : nullptr;
  const bool relu = epi && epi->relu;
  if (bias && beta != 0.0f) internal("sgemm_avx2_tile: a bias epilogue needs beta 0");
  if (K <= 0 && (bias || relu)) {  // empty sum: C = relu(bias), relu(0) or relu(C) (beta 1)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float& c = C[i * ldc + j];
        float v = bias ? bias[j] : beta == 0.0f ? 0.0f : c;
        if (relu) v = v > 0.0f ? v : (v != v ? v : 0.0f);
        c = v;
      }
    return;
  }
  if (trivial(m, n, K, C, ldc, beta)) return;
  if (K != B.K || j0 % kNR != 0 || j0 < 0 || j0 + n > B.N || (pa && r % kMR != 0))
    internal("sgemm_avx2_tile: columns [", j0, ", ", j0 + n, ") x K ", K, " outside the packed ", B.K, " x ", B.N);
  // sgemm_driver's loop nest for one block of rows (m <= a few MC) and columns: per K block the
  // tile's A rows (m x kc, <= ~100 KB) stay in L2 while the 16-column B micro-panels stream
  // through L1, in the same k order, so each element gets the same arithmetic
  const int64_t kblk = sgemm_avx2_kc(K);
  for (int64_t pc = 0; pc < K; pc += kblk) {
    const int64_t kc = std::min(kblk, K - pc);
    const bool overwrite = pc == 0 && beta == 0.0f;
    // the epilogue rides on the stores: the bias on the first K block's, relu on the last's
    const float* kb = pc == 0 ? bias : nullptr;
    const bool kr = relu && pc + kc >= K;
    const float* b = B.data.get() + pc * B.npad + j0 * kc;
    // the first panel of the next K block is fetched while the last one of this block runs
    // (a prepacked B tile starts cold from L3 or memory at every K block otherwise)
    const float* after = pc + kc < K ? B.data.get() + (pc + kc) * B.npad + j0 * std::min(kblk, K - pc - kc) : nullptr;
    for (int64_t ic = 0; ic < m; ic += kMC) {
      const int64_t mc = std::min(kMC, m - ic);
      const float* pf = ic + kMC >= m ? after : nullptr;
      if (pa) macro_kernel(mc, n, kc, pa + pc * mstride + (r + ic) * kc, nullptr, 0, b, C + ic * ldc, ldc, overwrite, pf, kb, kr);
      else macro_kernel(mc, n, kc, nullptr, a + ic * lda + pc, lda, b, C + ic * ldc, ldc, overwrite, pf, kb, kr);
    }
  }
}

// ---- session 5 (2-D tiles over a per-call packed op(B), gemm_grid.cpp) ----
void sgemm_avx2_pack_b_cols(bool tb, const float* B, int64_t ldb, int64_t j0, int64_t n, PackedB& dst, int64_t d0) {
  if (d0 % kNR != 0 || d0 < 0 || d0 + n > dst.npad || dst.kblk != sgemm_avx2_kc(dst.K))
    internal("sgemm_avx2_pack_b_cols: columns [", d0, ", ", d0 + n, ") outside the packed ", dst.K, " x ", dst.npad);
  // block pc at pc * npad, the panel of column d0 at d0 * kc inside it (sgemm_avx2_pack_b)
  for (int64_t pc = 0; pc < dst.K; pc += dst.kblk) {
    const int64_t kc = std::min(dst.kblk, dst.K - pc);
    pack_b(tb, B, ldb, pc, kc, j0, n, dst.data.get() + pc * dst.npad + d0 * kc);
  }
}

}  // namespace jxla
