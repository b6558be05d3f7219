// gemm_packed_grid.h - internal: the task list of host_sgemm_packed's 2-D tile grid (gemm.cpp),
// shared by host_sgemm_packed (one GEMM per parallel region) and host_sgemm_packed_chain
// (gemm_chain.cpp: consecutive GEMMs in one region). Tasks [0, pack_tasks) pack the row blocks
// of op(A) (when A is packed and shared), the rest compute one tile each (prefill hook, GEMM
// tile with the bias/relu store epilogue, epilogue hook) in the hand-out order (column blocks, last column block in halves; or
// row blocks with JXLA_GRID_ORDER=rows).
// Invariants: every element of C belongs to exactly one tile task; a tile's arithmetic is
// host_sgemm's whichever thread runs it and whichever copy of its packed A rows it reads
// (shared, claimed or private); the shared packed A comes from the FloatScratch given to plan()
// and must not be used by anything else while the region runs.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include "backends/host/float_scratch.h"
#include "backends/host/gemm.h"

namespace jxla {

// One 2-D grid tile, shared by host_sgemm_packed (gemm.cpp) and the per-call grid
// (gemm_grid.cpp): hooks before/after, then C[i0 .. i0+m, j0 .. j0+n) = rows of op(A) x columns
// [bj, bj + n) of the packed B with the bias/relu store epilogue. op(A) comes from one of three
// places with the same values, so the same bits: read in place (a_in_place: A stored M x K), the
// shared packed buffer (when a_ready(rb) says its row block is packed, claiming it if unclaimed),
// or a private copy packed into `priv` (another thread is packing the shared rows right now).
struct GridTileA {
  bool ta = false, a_in_place = false, force_private = false;
  int64_t K = 0, lda = 0, mstride = 0;
  const float* A = nullptr;
  float* shared = nullptr;
};
template <typename ReadyFn>
void run_grid_tile(const GridTileA& a, ReadyFn a_ready, int64_t rb, int64_t i0, int64_t m, const PackedB& B,
                   int64_t bj, int64_t j0, int64_t n, float* C, int64_t ldc, float beta, const float* bias, bool relu,
                   const GemmTileFn* before, const GemmTileFn* after, FloatScratch& priv) {
  float* c = C + i0 * ldc + j0;
  const TileEpilogue te{bias ? bias + j0 : nullptr, relu};
  const TileEpilogue* epi = bias || relu ? &te : nullptr;
  if (before) (*before)(i0, m, j0, n);
  if (a.a_in_place) {
    sgemm_avx2_tile(m, n, a.K, nullptr, 0, 0, a.A + i0 * a.lda, a.lda, B, bj, c, ldc, beta, epi);
  } else if (!a.force_private && a_ready(rb)) {
    sgemm_avx2_tile(m, n, a.K, a.shared, a.mstride, i0, nullptr, 0, B, bj, c, ldc, beta, epi);
  } else {
    const int64_t ms = (m + 5) / 6 * 6;
    float* mine = priv.get(static_cast<size_t>(ms * a.K));
    sgemm_avx2_pack_a_rows(a.ta, a.K, a.A, a.lda, i0, m, mine, ms, 0);
    sgemm_avx2_tile(m, n, a.K, mine, ms, 0, nullptr, 0, B, bj, c, ldc, beta, epi);
  }
  if (after) (*after)(i0, m, j0, n);
}

struct PackedGrid {
  bool ta = false;
  int64_t M = 0, N = 0, K = 0, lda = 0, ldc = 0;
  const float* A = nullptr;
  const PackedB* B = nullptr;
  float* C = nullptr;
  float beta = 0.0f;
  // GemmTileHooks bias/relu: applied by the micro-kernel's stores (sgemm_avx2.h TileEpilogue)
  const float* bias = nullptr;  // bias row of C added by the tiles' first K block (beta 0), or null
  bool relu = false;
  const GemmTileFn* before = nullptr;
  const GemmTileFn* after = nullptr;
  int64_t mb = 0, nb = 0, rblocks = 0, cblocks = 0, mstride = 0, pack_tasks = 0, tasks = 0;
  int64_t last_w = 0, half_w = 0, head = 0;
  bool pack = false, priv = false, col_order = true, split_tail = false;
  float* shared = nullptr;
  std::unique_ptr<std::atomic<int>[]> state;  // per row block: 0 unclaimed, 1 packing, 2 packed

  // Plans the grid of host_sgemm_packed for this call (host_sgemm_grid); false when it is one
  // tile (the caller then runs one sgemm_avx2_packed call). M > 1.
  bool plan(bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const PackedB& B, float* C,
            int64_t ldc, float beta, const GemmTileHooks* hooks, FloatScratch& shared_a);
  // Runs task t in [0, tasks); true when it was a tile (its hooks ran), false for a packing task.
  bool run(int64_t t) const;
  // The row block task t packs or computes: the rows of op(A) it reads and of C it writes.
  int64_t row_block(int64_t t) const;
  // No packing tasks: each row block of op(A) is packed by the first tile that needs it (the
  // claim path). For a chained layer whose A rows become ready one row block at a time: a
  // packing task for a late row block would wait while tiles of ready row blocks are available.
  void drop_pack_tasks() {
    tasks -= pack_tasks;
    pack_tasks = 0;
  }
  // Tile tasks per row block (a row block's rows of C are final once that many have run).
  int64_t tiles_per_row_block() const { return cblocks + (split_tail ? 1 : 0); }

 private:
  bool claim(int64_t rb) const;
};

}  // namespace jxla
