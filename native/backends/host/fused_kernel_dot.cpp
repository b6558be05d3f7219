// fused_kernel_dot.cpp - the GEMM of a fused dot kernel (fused_kernel.cpp compiles it, the
// interpreter in fused_kernel_run.cpp calls run_dot_gemm first): picks where C goes (the
// returned output, the root's buffer for an in-place epilogue, or per-thread scratch), prefills
// it with a folded bias/residual (beta = 1), and runs host_sgemm / host_sgemm_packed (gemm.h).
// On the 2-D tile grids (prepacked weights: host_sgemm_packed; per-call operands when
// host_sgemm_grid_b_tiles applies: host_sgemm_hooked) the prefill and the element-wise epilogue
// run inside each GEMM tile on the thread that computed it (GemmTileHooks); an epilogue that is
// only a row bias and/or relu runs in the micro-kernel's stores instead (session 6).
// Invariants: C never aliases an input (a donated output gets scratch instead); each element of
// C is prefilled, multiplied and passed through the epilogue exactly once, by one thread, in that
// order; results are bit-identical with the hooks on or off (JXLA_TILE_EPILOGUE=0).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include "backends/host/fused_kernel.h"
#include "backends/host/fused_kernel_run.h"
#include "backends/host/gemm.h"

namespace jxla {

namespace {
std::atomic<bool>& tile_epilogue_flag() {
  static std::atomic<bool> on{!std::getenv("JXLA_TILE_EPILOGUE") || std::strcmp(std::getenv("JXLA_TILE_EPILOGUE"), "0") != 0};
  return on;
}

// Fills C (ldc = gn) with the folded bias/residual (fold_gemm_sum) over rows [i0, i0 + m) and
// columns [j0, j0 + n): element (r, j) is linear index r * gn + j of the dot's space.
void prefill_tile(const FusedKernel& fk, const Buffer& v, float* C, int64_t i0, int64_t m, int64_t j0, int64_t n) {
  for (int64_t r = i0; r < i0 + m; ++r) {
    const int64_t at = r * fk.gn + j0;
    if (fk.prefill_gather) gather(v.data, DType::F32, fk.prefill_g, at, n, C + at);
    else std::memcpy(C + at, v.as<float>() + at, static_cast<size_t>(n) * 4);
  }
}

// Grow-only per-thread scratch for a GEMM result that has no output buffer of its own (kept
// across runs: no allocation or page faults per call). One kernel runs at a time per thread.
float* gemm_scratch(int64_t n) {
  struct S {
    std::unique_ptr<float[]> p;
    int64_t n = 0;
  };
  thread_local S s;
  if (n > s.n) {
    s.p.reset(new float[static_cast<size_t>(n)]);
    s.n = n;
  }
  return s.p.get();
}
std::atomic<bool>& store_epilogue_flag() {
  static std::atomic<bool> on{!std::getenv("JXLA_STORE_EPILOGUE") || std::strcmp(std::getenv("JXLA_STORE_EPILOGUE"), "0") != 0};
  return on;
}
std::atomic<int64_t> g_store_epilogue_runs{0};
}  // namespace

bool store_epilogue_enabled() { return store_epilogue_flag().load(std::memory_order_relaxed); }
void store_epilogue_set_enabled(bool on) { store_epilogue_flag() = on; }
int64_t store_epilogue_runs() { return g_store_epilogue_runs.load(); }

bool tile_epilogue_enabled() { return tile_epilogue_flag().load(std::memory_order_relaxed); }
void tile_epilogue_set_enabled(bool on) { tile_epilogue_flag() = on; }

namespace fused_detail {
bool run_dot_gemm(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out,
                  const float** gemm) {
  float* C;
  if (fk.dot_is_output) C = out[0]->as<float>();
  else if (fk.gemm_into_out >= 0) C = out[fk.gemm_into_out]->as<float>();
  else C = gemm_scratch(fk.N);
  // a donated output (the executable writes an in-place update into an input's buffer) must
  // not receive the GEMM result: the epilogue still reads that input
  if (!fk.dot_is_output)
    for (const Buffer* b : in)
      if (b->data == C) { C = gemm_scratch(fk.N); break; }
  *gemm = C;
  const float* A = in[fk.dot_a]->as<float>();
  const float* B = in[fk.dot_b]->as<float>();
  const float beta = fk.prefill >= 0 ? 1.0f : 0.0f;  // C = v, then C += A*B (fold_gemm_sum)
  // a frozen B (constant weights) is packed once per kernel, bit-identical results (prepack.h)
  auto packed = fk.prepack ? prepacked_b(*fk.prepack, *in[fk.dot_b], fk.tb, fk.gm, fk.gn, fk.gk) : nullptr;
  const int64_t lda = fk.ta ? fk.gm : fk.gk, ldb = fk.tb ? fk.gk : fk.gn;
  // 2-D tiles with hooks: over prepacked weights, or per-call packed operands when the grid
  // applies to this shape (gemm_grid.cpp, session 5)
  const bool grid = packed || host_sgemm_grid_b_tiles(fk.ta, fk.gm, fk.gn, fk.gk, nullptr, nullptr) > 0;
  const float* out_c = fk.gemm_into_out >= 0 ? out[fk.gemm_into_out]->as<float>() : nullptr;
  if (grid && tile_epilogue_enabled() && !fk.adam && !fk.nt_out && fk.epi_kernel && C == out_c &&
      store_epilogue_enabled()) {
    g_store_epilogue_runs.fetch_add(1, std::memory_order_relaxed);
    // the epilogue is a row bias and/or relu (fused_kernel.cpp match_store_epilogue): the
    // micro-kernel's stores apply it (gemm.h), so neither a prefill nor an epilogue pass touches
    // C; bit-identical to the prefill + beta = 1 + relu pass below (sgemm_avx2.h TileEpilogue)
    GemmTileHooks hooks;
    hooks.bias = fk.prefill >= 0 ? in[fk.prefill]->as<float>() : nullptr;
    hooks.relu = fk.epi_relu;
    if (packed) host_sgemm_packed(fk.ta, fk.gm, fk.gn, fk.gk, A, lda, *packed, C, fk.gn, 0.0f, &hooks);
    else host_sgemm_hooked(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, lda, B, ldb, C, fk.gn, 0.0f, &hooks);
    return true;
  }
  if (grid && tile_epilogue_enabled() && !fk.adam && !fk.nt_out) {
    // 2-D tiles over the pool (gemm.h): each tile is prefilled, multiplied and run through the
    // element-wise epilogue by the thread that owns it while it is in cache, so no serial pass
    // over C is left on the calling thread. Same per-element arithmetic as the passes below.
    const bool epi = !fk.dot_is_output && !fk.passes.empty();
    std::unique_ptr<RunState> rs(epi ? new RunState(fk, in, out, C) : nullptr);
    const Buffer* v = fk.prefill >= 0 ? in[fk.prefill] : nullptr;
    const GemmTileFn before = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) { prefill_tile(fk, *v, C, i0, m, j0, n); };
    const GemmTileFn after = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
      for (int64_t r = i0; r < i0 + m; ++r) rs->range(r * fk.gn + j0, r * fk.gn + j0 + n);
    };
    GemmTileHooks hooks{v ? &before : nullptr, epi ? &after : nullptr};
    if (packed) host_sgemm_packed(fk.ta, fk.gm, fk.gn, fk.gk, A, lda, *packed, C, fk.gn, beta, &hooks);
    else host_sgemm_hooked(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, lda, B, ldb, C, fk.gn, beta, &hooks);
    return true;
  }
  if (fk.prefill >= 0) prefill_tile(fk, *in[fk.prefill], C, 0, fk.gm, 0, fk.gn);
  // tiled over the backend's pool, OpenBLAS single-threaded per tile (gemm.h says why)
  if (packed) host_sgemm_packed(fk.ta, fk.gm, fk.gn, fk.gk, A, lda, *packed, C, fk.gn, beta);
  else host_sgemm(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, lda, B, ldb, C, fk.gn, beta);
  return fk.dot_is_output || fk.passes.empty();
}
}  // namespace fused_detail

}  // namespace jxla
