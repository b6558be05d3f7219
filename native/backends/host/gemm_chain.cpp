// gemm_chain.cpp - host_sgemm_packed_chain (gemm.h): consecutive GEMMs over prepacked weights
// (the layers of an MLP) in ONE parallel region instead of one region per GEMM. Each GEMM's
// tasks are host_sgemm_packed's (gemm_packed_grid.h: A packing, then tiles with their hooks),
// listed layer after layer; a task of layer l that reads rows of op(A) written by layer l - 1
// (a_from_prev) first waits until every tile of layer l - 1 in that row block has run. So a
// thread that runs out of layer l - 1's tiles starts on layer l's packing and tiles for the
// row blocks already finished instead of idling at a barrier while the other thread ends the
// layer (~0.1-0.2 ms per layer boundary at batch 256; docs/gemm-session-6.md "Session 6: inference").
// Invariants: (1) bits: the tiles, packings and hooks are exactly host_sgemm_packed's, only
// their start times change, so results are identical to calling host_sgemm_packed per GEMM.
// (2) no deadlock: tasks are claimed in index order (thread_pool.cpp), so when a task waits on
// layer l - 1's row block, all of that block's tiles are already claimed by running threads
// (or, on a busy pool, ran inline before it); the wait yields the core after a short spin, so a
// preempted producer gets to run. (3) the row blocks of consecutive layers line up: the chain
// runs only when every GEMM has the same M and the same grid rows (else one region per GEMM).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>
#include <memory>
#include <thread>
#include <vector>
#include "backends/host/gemm.h"
#include "backends/host/gemm_packed_grid.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/thread_pool.h"

namespace jxla {

namespace {
std::atomic<bool>& chain_flag() {
  static std::atomic<bool> on{!std::getenv("JXLA_GEMM_CHAIN") || std::strcmp(std::getenv("JXLA_GEMM_CHAIN"), "0") != 0};
  return on;
}
std::atomic<int64_t> g_chain_runs{0};

// one shared packed-A buffer per layer of the chain and calling thread: the layers' packings
// live at the same time (layer l packs while layer l - 1's tiles still read theirs)
FloatScratch& chain_scratch(size_t layer) {
  thread_local std::vector<std::unique_ptr<FloatScratch>> s;
  while (s.size() <= layer) s.push_back(std::make_unique<FloatScratch>());
  return *s[layer];
}

void run_each(const PackedGemmCall* calls, int64_t n) {
  for (int64_t l = 0; l < n; ++l) {
    const PackedGemmCall& c = calls[l];
    host_sgemm_packed(c.ta, c.M, c.N, c.K, c.A, c.lda, *c.B, c.C, c.ldc, c.beta, c.hooks);
  }
}
}  // namespace

void host_sgemm_chain_set_enabled(bool on) { chain_flag() = on; }
bool host_sgemm_chain_enabled() { return chain_flag().load(std::memory_order_relaxed); }
int64_t host_sgemm_chain_runs() { return g_chain_runs.load(); }

void host_sgemm_packed_chain(const PackedGemmCall* calls, int64_t n) {
  if (n < 2 || !host_sgemm_chain_enabled() || !host_sgemm_grid_enabled() || host_num_threads() <= 1) {
    run_each(calls, n);
    return;
  }
  std::vector<PackedGrid> g(static_cast<size_t>(n));
  // the last GEMM may be too small for a grid (the 1024 -> 10 layer at batch 32): one task that
  // waits for all rows of the previous GEMM and runs it as host_sgemm_packed would (one call)
  bool last_single = false;
  for (int64_t l = 0; l < n; ++l) {
    const PackedGemmCall& c = calls[l];
    if (c.M <= 1 || c.M != calls[0].M || !host_sgemm_packable(c.M, c.N)) {
      run_each(calls, n);
      return;
    }
    const bool grid = g[l].plan(c.ta, c.M, c.N, c.K, c.A, c.lda, *c.B, c.C, c.ldc, c.beta, c.hooks, chain_scratch(static_cast<size_t>(l)));
    if (l == 0 && !grid) {
      run_each(calls, n);
      return;
    }
    if (!grid && l == n - 1) {
      last_single = true;
    } else if (!grid || g[l].mb != g[0].mb) {
      run_each(calls, n);
      return;
    }
    // a layer that waits for its A rows: the first tile of each row block packs it, so the
    // threads start on the row blocks that are ready (in column order (rb0, cb0), (rb1, cb0)
    // come before (rb2, cb0), by when the previous layer has long finished rb2)
    if (grid && l > 0 && c.a_from_prev) g[l].drop_pack_tasks();
  }
  std::vector<int64_t> first(static_cast<size_t>(n) + 1, 0);  // task offset of each layer
  for (int64_t l = 0; l < n; ++l) first[l + 1] = first[l] + (last_single && l == n - 1 ? 1 : g[l].tasks);
  const int64_t rblocks = g[0].rblocks;
  // done[l * rblocks + rb]: tiles of layer l in row block rb that have run (hooks included)
  std::unique_ptr<std::atomic<int64_t>[]> done(new std::atomic<int64_t>[static_cast<size_t>(n * rblocks)]);
  for (int64_t i = 0; i < n * rblocks; ++i) done[i].store(0, std::memory_order_relaxed);
  g_chain_runs.fetch_add(1, std::memory_order_relaxed);
  parallel_for(first[n], [&](int64_t t) {
    const int64_t l = std::upper_bound(first.begin(), first.end(), t) - first.begin() - 1;
    const PackedGrid& gl = g[l];
    const bool single = last_single && l == n - 1;
    const int64_t local = t - first[l], rb = single ? 0 : gl.row_block(local);
    if (l > 0 && calls[l].a_from_prev) {
      const int64_t need = g[l - 1].tiles_per_row_block();
      for (int64_t r = single ? 0 : rb; r < (single ? rblocks : rb + 1); ++r) {
        const std::atomic<int64_t>& d = done[(l - 1) * rblocks + r];
        for (int spins = 0; d.load(std::memory_order_acquire) < need; ++spins) {
          if (spins < 2000) _mm_pause();
          else std::this_thread::yield();  // the producer may be preempted: let it have the core
        }
      }
    }
    if (single) {  // as host_sgemm_packed on one tile: bias/relu as passes (GemmHookRun)
      const PackedGemmCall& c = calls[l];
      const GemmHookRun run(c.hooks, c.C, c.ldc, c.beta);
      if (run.before()) (*run.before())(0, c.M, 0, c.N);
      sgemm_avx2_packed(c.ta, c.M, c.N, c.K, c.A, c.lda, *c.B, 0, c.C, c.ldc, run.beta());
      if (run.after()) (*run.after())(0, c.M, 0, c.N);
    } else if (gl.run(local)) {
      done[l * rblocks + rb].fetch_add(1, std::memory_order_acq_rel);
    }
  });
}

}  // namespace jxla
