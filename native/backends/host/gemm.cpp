// gemm.cpp - see gemm.h. Tiling rule: split the dimension whose tiles re-pack less data.
// Splitting rows of C makes every tile pack all of op(B) (K x N); splitting columns makes every
// tile pack all of op(A) (M x K). So rows are split when M >= N, columns otherwise. Tiles are at
// least kMinSplitFlops of work (small GEMMs stay one call) and aligned (rows to 16, columns to 64
// floats) so no tile starts mid cache line; at most one tile per pool thread, since the pool
// hands tiles out dynamically and a busy pool runs them all on the caller. The sgemm_avx2 path
// has its own rule (host_sgemm_tiles): narrow column tiles, which re-pack nothing. Over
// prepacked weights (host_sgemm_packed) C is cut into a 2-D grid of ~90 x 128 tiles with op(A)
// packed once per call and shared (host_sgemm_grid says why), per-tile hooks run the fused
// prefill/epilogue, and one-row products stream the packed panels (host_sgemv_tile_cols).
#include "backends/host/gemm.h"
#include "backends/host/float_scratch.h"
#include "backends/host/gemm_packed_grid.h"
#include <cblas.h>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <unistd.h>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include "backends/host/sgemm_avx2.h"
#include "backends/host/thread_pool.h"
#include "ir/error.h"

namespace jxla {

namespace {
constexpr double kMinFlops = 4e6;  // ~0.1-0.2 ms of one core: below that, threads cost more than they give
// Per-call GEMMs (host_sgemm's 1-D tiles) split from 1 MFLOP (~15 us of one core): inside a
// compiled training step the pool's workers are spinning between kernels, so handing out a tile
// costs ~1-2 us, and the step's 64 x 128 x 256 layer went from 55-75 to 38-40 us on two threads
// (session 6, docs/training.md). A worker that is asleep joins late and the caller runs the
// tiles itself: never slower than one call.
constexpr double kMinSplitFlops = 1e6;

// True when the host backend tiles GEMMs itself (OpenBLAS then runs single-threaded).
bool tiling_enabled() {
  static const bool on = [] {
    if (std::getenv("OPENBLAS_NUM_THREADS")) return false;  // the user chose OpenBLAS's threading
    openblas_set_num_threads(1);
    return true;
  }();
  return on;
}

int64_t round_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

template <typename T, typename Gemm, typename Gemv>
void tiled(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T* C,
           int64_t ldc, Gemm gemm, Gemv gemv) {
  auto call = [&](int64_t m0, int64_t m, int64_t n0, int64_t n) {
    // row m0 of op(A): A + m0 * lda (stored M x K) or A + m0 (stored K x M); column n0 of op(B):
    // B + n0 (stored K x N) or B + n0 * ldb (stored N x K)
    const T* a = ta ? A + m0 : A + m0 * lda;
    const T* b = tb ? B + n0 * ldb : B + n0;
    if (m == 1) {
      // one row (batch-1 inference): c = op(B)^T a as a GEMV, which streams B once; a GEMM
      // would first pack all of B (a second full pass over the weights)
      gemv(tb ? CblasNoTrans : CblasTrans, static_cast<blasint>(tb ? n : K), static_cast<blasint>(tb ? K : n), b,
           static_cast<blasint>(ldb), a, static_cast<blasint>(ta ? lda : 1), C + m0 * ldc + n0);
      return;
    }
    gemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
         static_cast<blasint>(K), a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), C + m0 * ldc + n0,
         static_cast<blasint>(ldc));
  };
  bool rows = true;
  int64_t tiles = tiling_enabled() ? host_gemm_tiles(M, N, K, &rows) : 1;
  if (tiles <= 1) {
    call(0, M, 0, N);
    return;
  }
  int64_t dim = rows ? M : N, step = round_up((dim + tiles - 1) / tiles, rows ? 16 : 64);
  int64_t count = (dim + step - 1) / step;
  parallel_for(count, [&](int64_t t) {
    int64_t s = t * step, e = std::min(dim, s + step);
    if (rows) call(s, e - s, 0, N);
    else call(0, M, s, e - s);
  });
}
}  // namespace

int64_t host_gemm_tiles(int64_t M, int64_t N, int64_t K, bool* split_rows) {
  *split_rows = M >= N;
  int64_t dim = *split_rows ? M : N, align = *split_rows ? 16 : 64;
  double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  // (a GEMV, memory-bound, splits from the same 1 MFLOP: the weights then stream through every
  // core's cache path at once)
  int64_t by_work = static_cast<int64_t>(flops / kMinSplitFlops);
  int64_t by_dim = (dim + align - 1) / align;
  return std::max<int64_t>(1, std::min<int64_t>({static_cast<int64_t>(host_num_threads()), by_work, by_dim}));
}

namespace {
// JXLA_GEMM=openblas (read once) or a CPU without AVX2+FMA: every f32 GEMM goes to OpenBLAS.
std::atomic<bool>& force_openblas() {
  static std::atomic<bool> f{[] {
    const char* v = std::getenv("JXLA_GEMM");
    return (v && std::strcmp(v, "openblas") == 0) || !sgemm_avx2_available();
  }()};
  return f;
}

void openblas_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                    int64_t ldb, float* C, int64_t ldc, float beta) {
  // beta = 1: C was prefilled (a fused bias or residual, fused_kernel.cpp); each element of C
  // belongs to exactly one tile, so the tiles accumulate onto disjoint prefilled values
  tiled(ta, tb, M, N, K, A, lda, B, ldb, C, ldc,
        [beta](CBLAS_TRANSPOSE a, CBLAS_TRANSPOSE b, blasint m, blasint n, blasint k, const float* x, blasint lx, const float* y,
               blasint ly, float* z, blasint lz) { cblas_sgemm(CblasRowMajor, a, b, m, n, k, 1.0f, x, lx, y, ly, beta, z, lz); },
        [beta](CBLAS_TRANSPOSE t, blasint rows, blasint cols, const float* m, blasint ld, const float* x, blasint incx, float* y) {
          cblas_sgemv(CblasRowMajor, t, rows, cols, 1.0f, m, ld, x, incx, beta, y, 1);
        });
}
}  // namespace

void host_sgemm_force_openblas(bool on) { force_openblas() = on || !sgemm_avx2_available(); }
bool host_sgemm_uses_openblas() { return force_openblas().load(); }

void host_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                int64_t ldb, float* C, int64_t ldc, float beta) {
  // one row or one column is a memory-bound GEMV (2 flops per matrix element read): OpenBLAS's
  // GEMV streams the matrix once, a packed GEMM would copy it first
  if (force_openblas().load(std::memory_order_relaxed) || M == 1 || N == 1) {
    openblas_sgemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, beta);
    return;
  }
  if (host_sgemm_grid_b_tiles(ta, M, N, K, nullptr, nullptr) > 0) {  // 2-D grid (gemm_grid.cpp)
    host_sgemm_hooked(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, beta, nullptr);
    return;
  }
  // sgemm_avx2 per tile: the tiles are disjoint blocks of C over the full K, and an element's
  // summation order does not depend on the block it is in (sgemm_avx2.h), so any tiling gives
  // the same bits
  bool rows = true;
  int64_t step = 0;
  const int64_t tiles = host_sgemm_tiles(ta, M, N, K, &rows, &step);
  if (tiles <= 1) {
    sgemm_avx2(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, beta);
    return;
  }
  const int64_t dim = rows ? M : N;
  parallel_for(tiles, [&](int64_t t) {
    const int64_t s = t * step, n = std::min(dim, s + step) - s;
    if (rows) sgemm_avx2(ta, tb, n, N, K, ta ? A + s : A + s * lda, lda, B, ldb, C + s * ldc, ldc, beta);
    else sgemm_avx2(ta, tb, M, n, K, A, lda, tb ? B + s * ldb : B + s, ldb, C + s, ldc, beta);
  });
}

bool host_sgemm_packable(int64_t M, int64_t N) {
  // one row (batch 1) too: sgemm_avx2_row_packed streams the packed panels like a GEMV
  return !force_openblas().load(std::memory_order_relaxed) && M >= 1 && N > 1;
}

namespace {
// packed op(A) of host_sgemm_packed: shared per caller, private per tile (float_scratch.h)
thread_local FloatScratch tl_packed_a, tl_private_a;

std::atomic<bool>& grid_flag() {
  static std::atomic<bool> on{!std::getenv("JXLA_GEMM_GRID") || std::strcmp(std::getenv("JXLA_GEMM_GRID"), "0") != 0};
  return on;
}

// host_sgemm's 1-D tiles over the packed B (column tiles start at multiples of 16 or 64)
void packed_1d(bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const PackedB& B, float* C,
               int64_t ldc, float beta) {
  bool rows = true;
  int64_t step = 0;
  const int64_t tiles = host_sgemm_tiles(ta, M, N, K, &rows, &step);
  if (tiles <= 1) {
    sgemm_avx2_packed(ta, M, N, K, A, lda, B, 0, C, ldc, beta);
    return;
  }
  const int64_t dim = rows ? M : N;
  parallel_for(tiles, [&](int64_t t) {
    const int64_t s = t * step, n = std::min(dim, s + step) - s;
    if (rows) sgemm_avx2_packed(ta, n, N, K, ta ? A + s : A + s * lda, lda, B, 0, C + s * ldc, ldc, beta);
    else sgemm_avx2_packed(ta, M, n, K, A, lda, B, s, C + s, ldc, beta);
  });
}
}  // namespace

static std::atomic<bool> g_force_private{false};
void host_sgemm_grid_set_enabled(bool on) { grid_flag() = on; }
void host_sgemm_grid_force_private_a(bool on) { g_force_private = on; }
bool host_sgemm_grid_enabled() { return grid_flag().load(std::memory_order_relaxed); }
bool host_sgemm_grid_private() { return g_force_private.load(std::memory_order_relaxed); }

static std::atomic<int64_t> g_tile_rows{0}, g_tile_cols{0};
void host_sgemm_grid_set_tile(int64_t rows, int64_t cols) {
  g_tile_rows = rows;
  g_tile_cols = cols;
}

int64_t host_sgemm_grid(int64_t M, int64_t N, int64_t K, int64_t* mb, int64_t* nb) {
  // Tiles of ~90 rows x 128 columns (~0.3 ms of one core at K = 1024): small enough that the
  // pool's dynamic hand-out keeps both threads busy to the end of the region (a thread that
  // starts late or is preempted takes fewer tiles; the tail left to the other is one small
  // tile), large enough that per-tile costs (C re-read per K block, B slice streamed from L3)
  // stay small (with 128 columns a tile sweeps 8 B panels, and each B panel serves mb / 6
  // micro-kernel calls before the next is needed). Rows in multiples of 6 (the micro-kernel's panels), columns of 16 (B panels).
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  // One thread runs the grid too (session 7): its tiles keep A rows and a B slice in L2 and
  // apply bias/relu in the stores, where one sgemm_avx2_packed call over all of C plus the
  // prefill and relu passes was 1.4x slower (mlp_profile 256, JXLA_NUM_THREADS=1: 6.8 vs
  // 9.4-10.8 ms per MLP forward, same minutes).
  if (flops < kMinFlops) {
    *mb = M;
    *nb = N;
    return 1;
  }
  *nb = std::min<int64_t>(round_up(N, 16), sgemm_avx2_direct_n());
  // harness, one thread, 256 x 1024 x 1024 (B prepacked, A packed once): 48-row tiles 80, 66: 82,
  // 90: 83, 132: 86, 256: 86 GFLOP/s (each B micro-panel is streamed from L3 once per tile)
  const int64_t rows = g_tile_rows.load(std::memory_order_relaxed), cols = g_tile_cols.load(std::memory_order_relaxed);
  if (cols > 0) *nb = std::min(round_up(N, 16), round_up(cols, 16));
  // ~96 rows where L2 is small (Zen 3: 512 KB per core), ~132 where it holds a taller tile's A
  // rows and B slice (2 MB per core, Sapphire Rapids class): mlp_profile 256, in-process
  // interleaved, 132-row tiles 1-3% faster there in three runs (session 7)
  static const int64_t l2_rows = sysconf(_SC_LEVEL2_CACHE_SIZE) >= (1 << 20) ? 132 : 96;
  const int64_t target = rows > 0 ? rows : l2_rows;
  const int64_t row_blocks = std::max<int64_t>(1, (M + target - 1) / target);
  *mb = round_up((M + row_blocks - 1) / row_blocks, 6);
  return ((M + *mb - 1) / *mb) * ((N + *nb - 1) / *nb);
}

// tiles handed out column block by column block (all row blocks of one B slice in a row) unless
// JXLA_GRID_ORDER=rows (read once): the session-4 row-block order, for A/B runs
static std::atomic<bool> g_col_order{!std::getenv("JXLA_GRID_ORDER") || std::strcmp(std::getenv("JXLA_GRID_ORDER"), "rows") != 0};
void host_sgemm_grid_set_column_order(bool on) { g_col_order = on; }

int64_t host_sgemv_tile_cols(int64_t N, int64_t K) {
  // memory-bound: each thread streams its columns' panels (K x w floats) from L3. Columns in
  // multiples of 64 (4 panels, the row kernel's width), at least ~256 KB of B per tile so the
  // hand-out costs little next to the stream, and at most one tile per thread.
  const int64_t threads = host_num_threads(), min_cols = round_up(std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, K)), 64);
  const int64_t by_threads = round_up((N + threads - 1) / threads, 64);
  return std::min(round_up(N, 16), std::max(min_cols, by_threads));
}

GemmHookRun::GemmHookRun(const GemmTileHooks* h, float* C, int64_t ldc, float beta) : beta_(beta) {
  if (!h) return;
  before_ = h->before;
  after_ = h->after;
  if (!h->bias && !h->relu) return;
  if (h->bias && (beta != 0.0f || h->before)) internal("host_sgemm: a bias epilogue needs beta 0 and no before hook");
  const float* bias = h->bias;
  const GemmTileFn* user_after = h->after;
  const bool relu = h->relu;
  if (bias) {  // C = bias rows, then C += A B: the values of the kernel's first-block bias add
    beta_ = 1.0f;
    pre_ = [=](int64_t i0, int64_t m, int64_t j0, int64_t n) {
      for (int64_t r = i0; r < i0 + m; ++r) std::memcpy(C + r * ldc + j0, bias + j0, static_cast<size_t>(n) * 4);
    };
    before_ = &pre_;
  }
  post_ = [=](int64_t i0, int64_t m, int64_t j0, int64_t n) {
    if (relu)
      for (int64_t r = i0; r < i0 + m; ++r)
        for (float *c = C + r * ldc + j0, *e = c + n; c < e; ++c) *c = *c > 0.0f ? *c : (*c != *c ? *c : 0.0f);
    if (user_after) (*user_after)(i0, m, j0, n);
  };
  after_ = &post_;
}

void host_sgemm_packed(bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const PackedB& B,
                       float* C, int64_t ldc, float beta, const GemmTileHooks* hooks) {
  {  // paths without 2-D tiles: bias and relu as passes around the product (GemmHookRun)
    const GemmHookRun run(hooks, C, ldc, beta);
    const GemmTileFn* before = run.before();
    const GemmTileFn* after = run.after();
    const float b1 = run.beta();
    if (!grid_flag().load(std::memory_order_relaxed)) {
      if (before) (*before)(0, M, 0, N);
      packed_1d(ta, M, N, K, A, lda, B, C, ldc, b1);
      if (after) (*after)(0, M, 0, N);
      return;
    }
    if (M == 1) {  // batch 1: column tiles of a GEMV over the packed panels
      const int64_t inc = ta ? lda : 1, w = host_sgemv_tile_cols(N, K), tiles = (N + w - 1) / w;
      parallel_for(tiles, [&](int64_t t) {
        const int64_t j0 = t * w, n = std::min(w, N - j0);
        if (before) (*before)(0, 1, j0, n);
        sgemm_avx2_row_packed(n, K, A, inc, B, j0, C + j0, b1);
        if (after) (*after)(0, 1, j0, n);
      });
      return;
    }
  }
  PackedGrid g;
  if (!g.plan(ta, M, N, K, A, lda, B, C, ldc, beta, hooks, tl_packed_a)) {  // one tile
    const GemmHookRun run(hooks, C, ldc, beta);
    if (run.before()) (*run.before())(0, M, 0, N);
    sgemm_avx2_packed(ta, M, N, K, A, lda, B, 0, C, ldc, run.beta());
    if (run.after()) (*run.after())(0, M, 0, N);
    return;
  }
  // the 2-D tiles: bias and relu in the micro-kernel's stores (PackedGrid::run, sgemm_avx2_tile)
  parallel_for(g.tasks, [&](int64_t t) { g.run(t); });
}

bool PackedGrid::plan(bool ta_, int64_t M_, int64_t N_, int64_t K_, const float* A_, int64_t lda_, const PackedB& B_,
                      float* C_, int64_t ldc_, float beta_, const GemmTileHooks* hooks, FloatScratch& scratch) {
  ta = ta_, M = M_, N = N_, K = K_, A = A_, lda = lda_, B = &B_, C = C_, ldc = ldc_, beta = beta_;
  before = hooks ? hooks->before : nullptr;
  after = hooks ? hooks->after : nullptr;
  bias = hooks ? hooks->bias : nullptr;
  relu = hooks && hooks->relu;
  if (bias && beta != 0.0f) internal("host_sgemm_packed: a bias epilogue needs beta 0");
  mb = M, nb = N;
  const int64_t tiles = host_sgemm_grid(M, N, K, &mb, &nb);
  if (tiles <= 1) return false;
  rblocks = (M + mb - 1) / mb, cblocks = (N + nb - 1) / nb;
  // op(A) packed once and shared by every column tile, unless N is narrow (few B panels: each
  // packed value would be reused too rarely; sgemm_avx2.h) and A is stored M x K (read in
  // place). Shared packing also avoids reading A rows lda apart in the kernel: with lda a multiple
  // of 4 KB those rows alias in the caches (256 x 1024 x 1024 tiles: 65 -> 75-79 GFLOP/s).
  pack = ta || N > sgemm_avx2_direct_n();
  mstride = round_up(M, 6);
  shared = pack ? scratch.get(static_cast<size_t>(mstride * K)) : nullptr;
  state.reset(pack ? new std::atomic<int>[static_cast<size_t>(rblocks)] : nullptr);
  for (int64_t i = 0; pack && i < rblocks; ++i) state[i].store(0, std::memory_order_relaxed);
  // One region: the first rblocks tasks pack the row blocks of A (0 -> 1 -> 2: claimed, done),
  // then the tiles row block by row block. A tile whose block is not packed yet (its packer is
  // slow or preempted) claims the packing itself if unclaimed, else packs a private copy: no
  // thread ever waits for another. Same values either way, so the same bits.
  priv = g_force_private.load(std::memory_order_relaxed);
  // Column-block order: the row tiles of one B slice (K x nb, 512 KB at K = 1024) run one after
  // the other, on both threads at once, so each slice comes from memory once per call and is
  // then shared through L3; in row-block order each slice was fetched once per row block (3x at
  // batch 256), and the weights (7.4 MB) plus activations (~4 MB) exceed the share of L3 this
  // VM gets (measured: two threads streaming 4 MB each drop from ~75 to ~30 GFLOP/s).
  // The packed A (1 MB) is what is re-read per tile instead: it stays in L3.
  col_order = g_col_order.load(std::memory_order_relaxed);
  pack_tasks = pack && !priv ? rblocks : 0;
  // The last column block is handed out in halves (column order only): the region ends when the
  // slower thread finishes its last tile, so the tiles still running at the end should be short
  // (on average one thread idles for half of the last tile; 0.15 ms per layer at K = 1024).
  last_w = N - (cblocks - 1) * nb, half_w = round_up((last_w + 1) / 2, 16);
  split_tail = col_order && cblocks >= 2 && half_w < last_w;
  head = (cblocks - 1) * rblocks;
  tasks = pack_tasks + (split_tail ? tiles + rblocks : tiles);
  return true;
}

bool PackedGrid::claim(int64_t rb) const {
  int expect = 0;
  if (!state[rb].compare_exchange_strong(expect, 1, std::memory_order_acq_rel)) return false;
  const int64_t i0 = rb * mb;
  sgemm_avx2_pack_a_rows(ta, K, A, lda, i0, std::min(mb, M - i0), shared, mstride, i0);
  state[rb].store(2, std::memory_order_release);
  return true;
}

int64_t PackedGrid::row_block(int64_t t) const {
  if (t < pack_tasks) return t;
  t -= pack_tasks;
  if (!col_order) return t / cblocks;
  if (!split_tail || t < head) return t % rblocks;
  return (t - head) % rblocks;
}

bool PackedGrid::run(int64_t t) const {
  if (t < pack_tasks) {
    claim(t);
    return false;
  }
  t -= pack_tasks;
  int64_t rb, j0, n;
  if (!col_order) {
    rb = t / cblocks;
    j0 = t % cblocks * nb;
    n = std::min(nb, N - j0);
  } else if (!split_tail || t < head) {
    rb = t % rblocks;
    j0 = t / rblocks * nb;
    n = std::min(nb, N - j0);
  } else {  // halves of the last column block: first halves of every row block, then second
    rb = (t - head) % rblocks;
    const int64_t h = (t - head) / rblocks;
    j0 = (cblocks - 1) * nb + h * half_w;
    n = h == 0 ? half_w : last_w - half_w;
  }
  const int64_t i0 = rb * mb, m = std::min(mb, M - i0);
  GridTileA ga;
  ga.ta = ta, ga.a_in_place = !pack, ga.force_private = priv, ga.K = K, ga.lda = lda, ga.mstride = mstride;
  ga.A = A, ga.shared = shared;
  const auto ready = [this](int64_t r) { return state[r].load(std::memory_order_acquire) == 2 || claim(r); };
  run_grid_tile(ga, ready, rb, i0, m, *B, j0, j0, n, C, ldc, beta, bias, relu, before, after, tl_private_a);
  return true;
}

int64_t host_sgemm_tiles(bool ta, int64_t M, int64_t N, int64_t K, bool* split_rows, int64_t* step) {
  // Column tiles at most sgemm_avx2_direct_n() wide: sgemm_avx2 then reads A in place (no tile
  // re-packs A) and each tile packs only its own columns of B, so many small tiles cost no extra
  // packing and the pool's dynamic hand-out balances them (a preempted thread just takes fewer).
  // Otherwise (A transposed, or too few columns) the old rule: one tile per thread.
  const int64_t threads = host_num_threads(), w = sgemm_avx2_direct_n();
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const int64_t narrow = (N + w - 1) / w;
  if (threads > 1 && !ta && narrow >= threads && flops >= kMinSplitFlops) {
    *split_rows = false;
    *step = round_up((N + narrow - 1) / narrow, 16);
    return (N + *step - 1) / *step;
  }
  const int64_t tiles = host_gemm_tiles(M, N, K, split_rows);
  const int64_t dim = *split_rows ? M : N;
  *step = round_up((dim + tiles - 1) / tiles, *split_rows ? 16 : 64);
  return (dim + *step - 1) / *step;
}

void host_dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const double* A, int64_t lda, const double* B,
                int64_t ldb, double* C, int64_t ldc) {
  tiled(ta, tb, M, N, K, A, lda, B, ldb, C, ldc,
        [](CBLAS_TRANSPOSE a, CBLAS_TRANSPOSE b, blasint m, blasint n, blasint k, const double* x, blasint lx, const double* y,
           blasint ly, double* z, blasint lz) { cblas_dgemm(CblasRowMajor, a, b, m, n, k, 1.0, x, lx, y, ly, 0.0, z, lz); },
        [](CBLAS_TRANSPOSE t, blasint rows, blasint cols, const double* m, blasint ld, const double* x, blasint incx, double* y) {
          cblas_dgemv(CblasRowMajor, t, rows, cols, 1.0, m, ld, x, incx, 0.0, y, 1);
        });
}

}  // namespace jxla
