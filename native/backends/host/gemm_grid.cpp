// gemm_grid.cpp - host_sgemm's 2-D tile grid for GEMMs whose op(B) is NOT prepacked (traced
// weights: FusionBench.mlp, every GEMM of a training step). The prepacked path
// (host_sgemm_packed, gemm.cpp) has had 2-D tiles since session 4; this gives the same shape of
// work to per-call operands: C is cut into tiles of <= ~96 rows x <= 128 columns handed out
// dynamically over the pool; op(A) row blocks are packed once per call by the first tasks of
// the region (unless N is narrow and A is stored M x K: read in place), op(B) column blocks are
// packed once per call by the first tile that needs them (so a block is usually consumed from
// the L2 of the thread that packed it), into one buffer laid out like a PackedB; bias prefill and
// the fused epilogue run inside each tile (GemmTileHooks).
// Invariants: (1) bits: a tile reads the same panel values sgemm_avx2 would pack (same K blocks,
// sgemm_avx2_kc(K); same kernel), so every element of C gets exactly host_sgemm's 1-D arithmetic
// whichever thread packed what (gemm.h, sgemm_avx2.h). (2) no waiting: a tile whose A rows or B
// columns are being packed by another thread right now packs a private copy instead (state
// 0 -> 1 -> 2: unclaimed, claimed, done; claimed by CAS, published with release/acquire).
// (3) the shared buffers belong to the calling thread (grow-only, thread-local) and are only
// written by the tasks of this one call; they stay allocated (at most round_up(M, 6) x K and
// K x round_up(N, 16) floats per caller thread).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include "backends/host/gemm.h"
#include "backends/host/gemm_packed_grid.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/float_scratch.h"
#include "backends/host/thread_pool.h"
#include "ir/error.h"

namespace jxla {

namespace {
constexpr double kGridMinFlops = 4e6;  // as gemm.cpp's kMinFlops: below it one call on the caller

int64_t round_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

// A grow-only PackedB re-shaped per call (K x N, npad = round_up(N, 16), K blocks of
// sgemm_avx2_kc(K)); its storage is kept across calls.
struct PackedScratch {
  PackedB pb;
  size_t cap = 0;
  PackedB& get(int64_t K, int64_t N) {
    const int64_t npad = round_up(N, 16);
    const size_t need = static_cast<size_t>(std::max<int64_t>(1, K * npad));
    if (need > cap) {
      pb.data.reset(static_cast<float*>(std::aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64)));
      if (!pb.data) { cap = 0; throw std::bad_alloc(); }
      cap = need;
    }
    pb.K = K;
    pb.N = N;
    pb.npad = npad;
    pb.kblk = sgemm_avx2_kc(K);
    return pb;
  }
};
thread_local FloatScratch tl_shared_a, tl_private_a;
std::atomic<bool> g_force{false};
std::atomic<int64_t> g_runs{0};
thread_local PackedScratch tl_shared_b, tl_private_b;
}  // namespace

void host_sgemm_grid_b_force(bool on) { g_force = on; }
int64_t host_sgemm_grid_b_runs() { return g_runs.load(); }

bool host_sgemm_grid_b_rule(bool ta, int64_t M, int64_t N, int64_t K) {
  // Measured (docs/gemm-sessions-4-5.md "Session 5", harness, 2 threads, grid vs 1-D side by side):
  // - op(A) transposed (the weight gradient dW = dY^T X): the 1-D path gives each of its <=
  //   2 tiles a full copy of packed A; the grid packs it once: 0.89-0.97x at 256 x 784 x 64/256.
  // - A stored M x K with one row block (M <= 96, a batch-64 training step): the 1-D column tiles
  //   already read A in place and pack each B column once; the grid would only add an A packing
  //   pass: 1.06-1.6x slower (64 x 256 x 784, tb). Old path.
  // - A stored M x K, narrow N (<= 128: A stays in place in the grid too): B packed once instead
  //   of once per row tile, 3 x more row tiles: 0.77-0.98x (256 x 10 x 1024, 256 x 128 x 256).
  // - A stored M x K, wider N: the grid packs A once; that pays off only over many column tiles
  //   and a deep K (and avoids the 4 KB-aliasing of in-place rows at K = 1024): 256 x 1024 x
  //   784/1024 0.87-0.99x; at 256 x 256 x 784 or 256 x 784 x 256 it was 1.0-1.2x. So N >= 512
  //   and K >= 512.
  if (ta) return true;
  if (M <= 96) return false;
  if (N <= sgemm_avx2_direct_n()) return true;
  return N >= 512 && K >= 512;
}

int64_t host_sgemm_grid_b_tiles(bool ta, int64_t M, int64_t N, int64_t K, int64_t* mb, int64_t* nb) {
  const int64_t threads = host_num_threads();
  if (!host_sgemm_grid_enabled() || host_sgemm_uses_openblas() || M <= 1 || N <= 1 || K <= 0 || threads <= 1) return 0;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  if (!g_force.load(std::memory_order_relaxed) && (flops < kGridMinFlops || !host_sgemm_grid_b_rule(ta, M, N, K))) return 0;
  // the prepacked grid's tiles (host_sgemm_grid says why ~96 x 128)
  int64_t b = std::min<int64_t>(round_up(N, 16), sgemm_avx2_direct_n());
  const int64_t row_blocks = std::max<int64_t>(1, (M + 95) / 96);
  int64_t a = round_up((M + row_blocks - 1) / row_blocks, 6);
  auto count = [&] { return ((M + a - 1) / a) * ((N + b - 1) / b); };
  // small products (dW of a batch-64 step: 128 x 256 x 64 is 2 x 2 such tiles) get finer
  // tiles, so that the pool's dynamic hand-out still has >= 2 tiles per thread to balance
  while (count() < 2 * threads) {
    if (b > 32) b = round_up(b / 2, 16);
    else if (a > 12) a = round_up(a / 2, 6);
    else break;
  }
  if (mb) *mb = a;
  if (nb) *nb = b;
  return count();
}

void host_sgemm_hooked(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                       int64_t ldb, float* C, int64_t ldc, float beta, const GemmTileHooks* hooks) {
  const GemmTileFn* before = hooks ? hooks->before : nullptr;
  const GemmTileFn* after = hooks ? hooks->after : nullptr;
  int64_t mb = M, nb = N;
  const int64_t tiles = host_sgemm_grid_b_tiles(ta, M, N, K, &mb, &nb);
  if (tiles <= 0) {  // host_sgemm's own path (1-D tiles, OpenBLAS, one call); hooks around it
    const GemmHookRun run(hooks, C, ldc, beta);  // bias prefill and relu as passes
    if (run.before()) (*run.before())(0, M, 0, N);
    host_sgemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, run.beta());
    if (run.after()) (*run.after())(0, M, 0, N);
    return;
  }
  // bias and relu in the micro-kernel's stores (sgemm_avx2_tile)
  const float* bias = hooks ? hooks->bias : nullptr;
  const bool relu = hooks && hooks->relu;
  if (bias && beta != 0.0f) internal("host_sgemm_hooked: a bias epilogue needs beta 0");
  g_runs.fetch_add(1, std::memory_order_relaxed);
  const int64_t rblocks = (M + mb - 1) / mb, cblocks = (N + nb - 1) / nb;
  // op(A) packed once and shared by every column tile, unless N is narrow and A is stored M x K
  // (read in place: few B panels reuse each packed value too rarely; sgemm_avx2.h)
  const bool pack_a = ta || N > sgemm_avx2_direct_n();
  const int64_t mstride = round_up(M, 6);
  float* shared_a = pack_a ? tl_shared_a.get(static_cast<size_t>(mstride * K)) : nullptr;
  PackedB& shared_b = tl_shared_b.get(K, N);
  std::unique_ptr<std::atomic<int>[]> sa(new std::atomic<int>[static_cast<size_t>(rblocks)]);
  std::unique_ptr<std::atomic<int>[]> sb(new std::atomic<int>[static_cast<size_t>(cblocks)]);
  for (int64_t i = 0; i < rblocks; ++i) sa[i].store(0, std::memory_order_relaxed);
  for (int64_t i = 0; i < cblocks; ++i) sb[i].store(0, std::memory_order_relaxed);
  const bool priv = host_sgemm_grid_private();
  // claim-and-pack: true when this thread packed the block (0 -> 1 -> 2), false when another
  // thread had claimed it first
  auto claim_a = [&](int64_t rb) {
    int expect = 0;
    if (!sa[rb].compare_exchange_strong(expect, 1, std::memory_order_acq_rel)) return false;
    const int64_t i0 = rb * mb;
    sgemm_avx2_pack_a_rows(ta, K, A, lda, i0, std::min(mb, M - i0), shared_a, mstride, i0);
    sa[rb].store(2, std::memory_order_release);
    return true;
  };
  auto claim_b = [&](int64_t cb) {
    int expect = 0;
    if (!sb[cb].compare_exchange_strong(expect, 1, std::memory_order_acq_rel)) return false;
    const int64_t j0 = cb * nb;
    sgemm_avx2_pack_b_cols(tb, B, ldb, j0, std::min(nb, N - j0), shared_b, j0);
    sb[cb].store(2, std::memory_order_release);
    return true;
  };
  // The first rblocks tasks pack A's row blocks (they are needed by every tile of their row);
  // B column blocks are packed by the first tile of each column (tiles are numbered row block by
  // row block, so the tiles running at the same time are in different columns).
  const int64_t pack_tasks = pack_a && !priv ? rblocks : 0;
  GridTileA ga;
  ga.ta = ta, ga.a_in_place = !pack_a, ga.force_private = priv, ga.K = K, ga.lda = lda, ga.mstride = mstride;
  ga.A = A, ga.shared = shared_a;
  parallel_for(pack_tasks + tiles, [&](int64_t t) {
    if (t < pack_tasks) {
      claim_a(t);
      return;
    }
    t -= pack_tasks;
    const int64_t rb = t / cblocks, cb = t % cblocks;
    const int64_t i0 = rb * mb, m = std::min(mb, M - i0), j0 = cb * nb, n = std::min(nb, N - j0);
    const bool b_shared = !priv && (sb[cb].load(std::memory_order_acquire) == 2 || claim_b(cb));
    const PackedB* pb = &shared_b;
    int64_t bj = j0;
    if (!b_shared) {
      PackedB& mine = tl_private_b.get(K, n);
      sgemm_avx2_pack_b_cols(tb, B, ldb, j0, n, mine, 0);
      pb = &mine;
      bj = 0;
    }
    const auto ready = [&](int64_t r) { return sa[r].load(std::memory_order_acquire) == 2 || claim_a(r); };
    run_grid_tile(ga, ready, rb, i0, m, *pb, bj, j0, n, C, ldc, beta, bias, relu, before, after, tl_private_a);
  });
}

}  // namespace jxla
