// gemm.h - the host backend's f32/f64 matrix multiply: OpenBLAS kernels run single-threaded on
// tiles of C, the tiles spread over the backend's own thread pool (parallel_for).
// Why not OpenBLAS's own threads: they busy-wait between GEMMs, so on a shared or oversubscribed
// machine a preempted helper stalls the whole call (measured: MLP batch 256 at 107-171 ms with
// OpenBLAS threading under load ~6 vs 32 ms single-threaded), and several Java threads calling
// at once oversubscribe the cores. Our pool sleeps between regions and a caller that finds it
// busy runs its tiles inline, so concurrent callers each use one core.
// Invariants: C = op(A) . op(B) + beta C (row-major, alpha 1; beta 0 or 1); each element of C is computed by
// exactly one OpenBLAS call over the full K, and the tiling depends only on (M, N, K) and the
// pool size, so results do not depend on which threads ran the tiles (bit-identical whether the
// pool was free or busy). A one-row product (batch-1 inference) is a GEMV per tile.
// OPENBLAS_NUM_THREADS in the environment restores OpenBLAS's own
// threading (no tiling) for comparisons.
#pragma once
#include <cstdint>

namespace jxla {

// op(A) is M x K (A stored K x M when ta), op(B) is K x N (B stored N x K when tb); C is M x N
// with leading dimension ldc.
void host_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                int64_t ldb, float* C, int64_t ldc, float beta = 0.0f);
void host_dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda, const double* B,
                int64_t ldb, double* C, int64_t ldc);
// Tiles a GEMM of that shape is split into (1: one OpenBLAS call). Exposed for tests.
int64_t host_gemm_tiles(int64_t M, int64_t N, int64_t K, bool* split_rows);

}  // namespace jxla
