// sgemm_avx2.h - JXLA's own single-precision GEMM for x86-64 CPUs with AVX2 + FMA (BLIS-style:
// packed A and B panels, a 6x16 register-blocked micro-kernel, cache blocking KC/MC/NC).
// host_sgemm (gemm.cpp) spreads tiles of C over the thread pool and calls sgemm_avx2 per tile.
// Invariants:
//  - C = op(A) . op(B) + beta C, row-major, alpha 1, beta 0 or 1, any lda/ldb/ldc >= the row
//    length, ta/tb as in gemm.h. C may not alias A or B.
//  - Summation order of every element of C depends only on K (the K blocking, sgemm_avx2_kc): within a KC
//    block the products are accumulated in k order by one FMA chain starting from 0, then the
//    block sum is added to C (the first block overwrites C when beta = 0). The position of the
//    element in the tile, the tile split and the thread count never change it, so results are
//    bit-identical run to run and across thread counts.
//  - The kernels are compiled with target("avx2,fma") and must only run when
//    sgemm_avx2_available() (checked at run time, never assumed at build time).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace jxla {

// True when this CPU supports AVX2 and FMA.
bool sgemm_avx2_available();

// Single-threaded: one tile of C. op(A) is M x K (stored K x M when ta), op(B) is K x N (stored
// N x K when tb). Packing buffers are per thread and reused across calls.
void sgemm_avx2(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                int64_t ldb, float* C, int64_t ldc, float beta);

// 64-byte aligned float storage for packed panels (free with std::free). From 1 MB on it is
// 2 MB aligned and advised to use transparent huge pages (JXLA_HUGEPAGES=0, read once: never).
// Throws std::bad_alloc.
float* sgemm_avx2_alloc(size_t count);
bool& sgemm_avx2_hugepages_flag();  // tests / A-B runs

// Widest op(B) (columns) for which A stored M x K (ta false) is read in place rather than
// packed: few B micro-panels reuse each packed A value too rarely to repay the packing pass.
int64_t sgemm_avx2_direct_n();

// Depth of the K blocks for this K (the last block may be shallower): K is cut into
// ceil(K / 256) nearly equal blocks, a multiple of 8 deep. Depends on K only.
int64_t sgemm_avx2_kc(int64_t K);

// op(B) (K x N) packed once, whole, in exactly the panels sgemm_avx2 packs per call: K block by
// K block (sgemm_avx2_kc(K)), 16-column panels zero-padded to npad columns. A GEMM reading it
// (sgemm_avx2_packed) computes bit-identical results to sgemm_avx2 on the same B (same blocks,
// same panel values, same kernel), so it may replace per-call packing of constant weights.
struct PackedB {
  struct Free {
    void operator()(float* p) const;
  };
  int64_t K = 0, N = 0, npad = 0, kblk = 0;
  std::unique_ptr<float, Free> data;  // K * npad floats, 64-byte aligned
  int64_t bytes() const { return K * npad * 4; }
};
std::shared_ptr<const PackedB> sgemm_avx2_pack_b(bool tb, int64_t K, int64_t N, const float* B, int64_t ldb);
// Single-threaded tile like sgemm_avx2: columns [j0, j0 + N) of the packed op(B) (j0 a multiple
// of 16), C is M x N (its column 0 is op(B) column j0).
void sgemm_avx2_packed(bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const PackedB& B,
                       int64_t j0, float* C, int64_t ldc, float beta);

// 2-D tiles over a prepacked B (host_sgemm_packed): op(A) (M x K) is packed once per GEMM call,
// K block by K block (the same sgemm_avx2_kc(K) blocks), 6-row panels: a packed-A buffer of
// `mstride` rows (a multiple of 6) holds block pc at pc * mstride, the panel of its rows
// [r, r + 6) at r * kc inside it. pack_a_rows packs rows [i0, i0 + m) of op(A) into the buffer
// starting at its row r (r a multiple of 6); rows past m up to the next multiple of 6 are zero.
void sgemm_avx2_pack_a_rows(bool ta, int64_t K, const float* A, int64_t lda, int64_t i0, int64_t m, float* pa,
                            int64_t mstride, int64_t r);
// One tile, single-threaded: C (m x n, ldc) = rows [r, r + m) of the packed A buffer (pa, mstride)
// times columns [j0, j0 + n) of B (j0 a multiple of 16) + beta C. pa == nullptr: op(A) is read in
// place from a (stored m x K, lda; the narrow-N path). Bit-identical to sgemm_avx2 on the same
// rows and columns (same K blocks, same panel values, same kernel).
// bias (session 6; beta must be 0): the n floats of a row added to every row of C, folded into
// the first K block's stores (c = bias + s_1): the bits of C prefilled with the bias row and
// computed with beta = 1, without the prefill pass over C.
void sgemm_avx2_tile(int64_t m, int64_t n, int64_t K, const float* pa, int64_t mstride, int64_t r, const float* a,
                     int64_t lda, const PackedB& B, int64_t j0, float* C, int64_t ldc, float beta,
                     const float* bias = nullptr);
// One row of C (batch-1 inference): C[0, 0..n) = op(A)'s row (element k at a[k * inc]) times
// columns [j0, j0 + n) of B + beta C, streaming the packed panels. Bit-identical to the same row
// of any sgemm_avx2 / sgemm_avx2_packed / sgemm_avx2_tile product (same K blocks, same FMA chain
// per element), so a batch-1 result equals that row of a batched one.
void sgemm_avx2_row_packed(int64_t n, int64_t K, const float* a, int64_t inc, const PackedB& B, int64_t j0, float* C,
                           float beta);

// ---- session 5 (2-D tiles over a per-call packed op(B), gemm_grid.cpp) ----
// Packs columns [j0, j0 + n) of op(B) (all K blocks) into dst's columns [d0, d0 + n) (d0 a
// multiple of 16; dst.K == K, its npad and kblk set as sgemm_avx2_pack_b sets them), exactly the
// panels sgemm_avx2_pack_b writes there; the columns past n up to the next multiple of 16 are zero.
// Disjoint column ranges may be packed concurrently by different threads.
void sgemm_avx2_pack_b_cols(bool tb, const float* B, int64_t ldb, int64_t j0, int64_t n, PackedB& dst, int64_t d0);

}  // namespace jxla
