// gemm.h - the host backend's f32/f64 matrix multiply. f32: JXLA's own AVX2+FMA GEMM
// (sgemm_avx2.h) on tiles of C spread over the backend's thread pool (parallel_for); OpenBLAS
// (single-threaded per tile, same tiling) on CPUs without AVX2+FMA, with JXLA_GEMM=openblas, and
// for one-row/one-column products (GEMV). f64: always OpenBLAS per tile.
// Why not OpenBLAS's own threads: they busy-wait between GEMMs, so on a shared or oversubscribed
// machine a preempted helper stalls the whole call (measured: MLP batch 256 at 107-171 ms with
// OpenBLAS threading under load ~6 vs 32 ms single-threaded), and several Java threads calling
// at once oversubscribe the cores. Our pool sleeps between regions and a caller that finds it
// busy runs its tiles inline, so concurrent callers each use one core.
// Invariants: C = op(A) . op(B) + beta C (row-major, alpha 1; beta 0 or 1); each element of C is
// computed by exactly one kernel call over the full K (one sgemm_avx2 or OpenBLAS call), and the
// tiling depends only on (M, N, K) and the pool size, so results do not depend on which threads
// ran the tiles (bit-identical whether the pool was free or busy). With sgemm_avx2 an element's
// summation order does not even depend on the tiling (sgemm_avx2.h), so results are also
// identical across JXLA_NUM_THREADS. A one-row product (batch-1 inference) is a GEMV per tile.
// OPENBLAS_NUM_THREADS in the environment restores OpenBLAS's own threading (no tiling) on the
// OpenBLAS paths for comparisons (with JXLA_GEMM=openblas); the sgemm_avx2 path always tiles
// over JXLA_NUM_THREADS.
#pragma once
#include <cstdint>
#include <functional>

namespace jxla {

struct PackedB;

// op(A) is M x K (A stored K x M when ta), op(B) is K x N (B stored N x K when tb); C is M x N
// with leading dimension ldc.
void host_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                int64_t ldb, float* C, int64_t ldc, float beta = 0.0f);
// Prepacked weights (sgemm_avx2.h PackedB): true when host_sgemm would run sgemm_avx2 for this
// shape (not OpenBLAS, not a GEMV), i.e. when host_sgemm_packed gives host_sgemm's exact bits.
bool host_sgemm_packable(int64_t M, int64_t N);
// Work done per tile of C around its GEMM, on the thread that computes the tile (a fused bias
// prefill before, an element-wise epilogue after): fn(i0, m, j0, n) for rows [i0, i0 + m) and
// columns [j0, j0 + n) of C. Either may be null. Tiles are disjoint and cover C exactly once.
using GemmTileFn = std::function<void(int64_t i0, int64_t m, int64_t j0, int64_t n)>;
struct GemmTileHooks {
  const GemmTileFn* before = nullptr;
  const GemmTileFn* after = nullptr;
  // session 6: a bias row (bias[j] for column j of C, N floats) and/or relu: C = relu(bias +
  // op(A) op(B)). The 2-D tile paths apply them in the micro-kernel's stores (sgemm_avx2.h
  // TileEpilogue); the others prefill C with the bias rows, run with beta = 1 and relu C after.
  // Same bits either way. With a bias, beta must be 0 and `before` null. `after` runs last.
  const float* bias = nullptr;
  bool relu = false;
};
// The hooks of one call for the paths that do not apply bias/relu in the micro-kernel: before()
// and after() include the bias prefill and the relu, beta() is the beta to run with (gemm.cpp).
class GemmHookRun {
 public:
  GemmHookRun(const GemmTileHooks* h, float* C, int64_t ldc, float beta);
  GemmHookRun(const GemmHookRun&) = delete;  // before()/after() point into the object
  GemmHookRun& operator=(const GemmHookRun&) = delete;
  const GemmTileFn* before() const { return before_; }
  const GemmTileFn* after() const { return after_; }
  float beta() const { return beta_; }

 private:
  GemmTileFn pre_, post_;
  const GemmTileFn* before_ = nullptr;
  const GemmTileFn* after_ = nullptr;
  float beta_ = 0.0f;
};
// host_sgemm with op(B) prepacked: 2-D tiles (host_sgemm_grid) handed out dynamically over the
// pool; op(A) is packed once per call (unless N is narrow: then read in place), its row blocks
// packed by the first tasks of the same parallel region. Bit-identical to host_sgemm.
// Only when host_sgemm_packable(M, N).
// hooks->bias / relu (session 6): in the 2-D tiles' micro-kernel stores (GemmTileHooks).
void host_sgemm_packed(bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const PackedB& B,
                       float* C, int64_t ldc, float beta = 0.0f, const GemmTileHooks* hooks = nullptr);
// The 2-D grid of host_sgemm_packed: tiles of mb rows (a multiple of 6) by nb columns (a multiple
// of 16); the last row/column of tiles takes the rest. Returns the tile count (1: one call on the
// calling thread). Exposed for tests.
int64_t host_sgemm_grid(int64_t M, int64_t N, int64_t K, int64_t* mb, int64_t* nb);
// JXLA_GEMM_GRID=0 (read once) or host_sgemm_grid_set_enabled(false): host_sgemm_packed uses
// host_sgemm's 1-D tiles instead (session-3 behaviour, for A/B runs; hooks then run once on
// the whole C on the calling thread). Same bits either way.
void host_sgemm_grid_set_enabled(bool on);
// Tile hand-out order of the grid: column block by column block (default) or row block by row
// block (false; JXLA_GRID_ORDER=rows). Same bits either way.
void host_sgemm_grid_set_column_order(bool on);
// Tuning runs (bench/native/mlp_profile.cpp): tiles of about `rows` rows (0: the default) and
// `cols` columns (0: the default); the grid still rounds them to 6 and 16. Same bits either way.
void host_sgemm_grid_set_tile(int64_t rows, int64_t cols);
// M = 1 (batch 1) in host_sgemm_packed: column tiles of this width (a multiple of 16, or N).
int64_t host_sgemv_tile_cols(int64_t N, int64_t K);
// Tests: every tile packs its own private copy of its A rows (the path a tile takes when another
// thread is still packing them), so that path is exercised deterministically.
void host_sgemm_grid_force_private_a(bool on);
void host_dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda, const double* B,
                int64_t ldb, double* C, int64_t ldc);
// f32 kernel choice: JXLA's own AVX2+FMA GEMM (sgemm_avx2.h) when the CPU has it, else
// OpenBLAS; JXLA_GEMM=openblas in the environment (read once) or force_openblas(true) selects
// OpenBLAS for side-by-side comparisons and tests. One-row/one-column products always use
// OpenBLAS's GEMV.
void host_sgemm_force_openblas(bool on);
bool host_sgemm_uses_openblas();
// Tiles of the sgemm_avx2 path: count, direction and width (rows or columns of C per tile, the
// last tile takes the rest). Exposed for tests.
int64_t host_sgemm_tiles(bool ta, int64_t M, int64_t N, int64_t K, bool* split_rows, int64_t* step);
// Tiles a GEMM of that shape is split into (1: one OpenBLAS call). Exposed for tests.
int64_t host_gemm_tiles(int64_t M, int64_t N, int64_t K, bool* split_rows);

// ---- session 5: 2-D tiles for GEMMs whose op(B) is not prepacked (gemm_grid.cpp) ----
// host_sgemm runs this grid (instead of its 1-D tiles) when host_sgemm_grid_b_tiles says so:
// op(B) is packed once per call into column blocks and op(A) (unless read in place) into row
// blocks, both by the first tasks of the same parallel region; then 2-D tiles are handed out
// dynamically. Bit-identical to the 1-D path (same K blocks, same kernel). The tile grid for
// this shape (mb rows, a multiple of 6, by nb columns, a multiple of 16), or 0 when the 1-D path
// (or one call) is used: OpenBLAS, a GEMV, JXLA_GEMM_GRID=0, small work or shapes where the
// measured rule keeps the old path (docs/gemm-sessions-4-5.md "Session 5").
int64_t host_sgemm_grid_b_tiles(bool ta, int64_t M, int64_t N, int64_t K, int64_t* mb, int64_t* nb);
// The shape part of that rule (transposes and sizes only; no thread, switch or work check).
bool host_sgemm_grid_b_rule(bool ta, int64_t M, int64_t N, int64_t K);
// Tests: force the grid for every shape (the rule and the minimum work ignored; still needs > 1
// thread, sgemm_avx2, M > 1 and N > 1), and count the calls that ran it.
void host_sgemm_grid_b_force(bool on);
int64_t host_sgemm_grid_b_runs();
// host_sgemm with per-tile hooks (GemmTileHooks): only when host_sgemm_grid_b_tiles(...) > 0,
// else the hooks run once over the whole C on the calling thread.
void host_sgemm_hooked(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                       int64_t ldb, float* C, int64_t ldc, float beta, const GemmTileHooks* hooks);
// JXLA_GEMM_GRID (read once) / host_sgemm_grid_set_enabled: whether the 2-D grids are on.
bool host_sgemm_grid_enabled();
// Tests: force the private-copy paths of the grid (every tile packs its own A rows and B columns).
// Shared with host_sgemm_grid_force_private_a.
bool host_sgemm_grid_private();

}  // namespace jxla

namespace jxla {
// ---- session 6: consecutive GEMMs over prepacked weights in one region (gemm_chain.cpp) ----
// One host_sgemm_packed call of a chain. a_from_prev: row i of op(A) (A stored M x K) is written
// by the previous call's tile tasks of row i (its C, or its epilogue hook's output), so this
// call's tasks for a row block wait until the previous call has finished those rows.
struct PackedGemmCall {
  bool ta = false;
  int64_t M = 0, N = 0, K = 0;
  const float* A = nullptr;
  int64_t lda = 0;
  const PackedB* B = nullptr;
  float* C = nullptr;
  int64_t ldc = 0;
  float beta = 0.0f;
  const GemmTileHooks* hooks = nullptr;
  bool a_from_prev = false;  // a bias row / relu go in hooks (GemmTileHooks::bias, relu)
};
// Runs calls[0..n) as host_sgemm_packed would one after the other, with identical bits, but in
// one parallel region where a call's row block starts as soon as the previous call has finished
// the rows it reads (no barrier between the GEMMs). Falls back to one region per call when the
// grids' row blocks differ (different M), a grid is one tile, or the chain is off. The caller
// guarantees that no call's C or hook output overlaps another call's A, C or hook data except
// through a_from_prev (the previous call's rows, read after they are final).
void host_sgemm_packed_chain(const PackedGemmCall* calls, int64_t n);
// JXLA_GEMM_CHAIN=0 (read once) or host_sgemm_chain_set_enabled(false): one region per GEMM.
void host_sgemm_chain_set_enabled(bool on);
bool host_sgemm_chain_enabled();
// Tests: how many chains ran as one region.
int64_t host_sgemm_chain_runs();
}  // namespace jxla
