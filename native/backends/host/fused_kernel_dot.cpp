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
#include "backends/host/thread_pool.h"

namespace jxla {

namespace {
std::atomic<bool>& tile_epilogue_flag() {
  static std::atomic<bool> on{!std::getenv("JXLA_TILE_EPILOGUE") || std::strcmp(std::getenv("JXLA_TILE_EPILOGUE"), "0") != 0};
  return on;
}

// Fills C (ldc = gn) with the folded bias/residual (fold_gemm_sum) over rows [i0, i0 + m) and
// columns [j0, j0 + n): element (r, j) is linear index r * gn + j of the dot's space.
void prefill_tile(const FusedKernel& fk, const Buffer& v, float* C, int64_t i0, int64_t m, int64_t j0, int64_t n) {
  const Gather& g = fk.prefill_g;
  if (fk.prefill_gather && v.dtype == DType::F32 && g.shape.size() == 2 && g.shape[0] == fk.gm && g.shape[1] == fk.gn &&
      g.st[1] == 1) {
    // the common case, a bias row broadcast over the rows (st = [0, 1]) or any row-strided f32
    // view: element (r, j) is src[r * st0 + j], so each row segment is one copy (gather() would
    // redo its index arithmetic per segment: 2% of the MLP's samples)
    const float* src = v.as<float>();
    for (int64_t r = i0; r < i0 + m; ++r) std::memcpy(C + r * fk.gn + j0, src + r * g.st[0] + j0, static_cast<size_t>(n) * 4);
    return;
  }
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
namespace {
// Where a dot kernel's GEMM writes C (the returned output, the root's buffer for an in-place
// epilogue, or per-thread scratch; never a buffer the kernel reads).
float* gemm_target(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out) {
  float* C;
  if (fk.dot_is_output) C = out[0]->as<float>();
  else if (fk.gemm_into_out >= 0) C = out[fk.gemm_into_out]->as<float>();
  else C = gemm_scratch(fk.N);
  // a donated output (the executable writes an in-place update into an input's buffer) must
  // not receive the GEMM result: the epilogue still reads that input
  if (!fk.dot_is_output)
    for (const Buffer* b : in)
      if (b->data == C) { C = gemm_scratch(fk.N); break; }
  return C;
}

// A dot kernel on the prepacked 2-D tile path with the prefill and epilogue in the tiles: what
// host_sgemm_packed (or a chain of them) needs, kept alive for the whole GEMM.
struct TiledDot {
  const FusedKernel* fk = nullptr;
  std::shared_ptr<const PackedB> packed;
  std::unique_ptr<RunState> rs;
  const Buffer* v = nullptr;
  float* C = nullptr;
  GemmTileFn before, after;
  GemmTileHooks hooks;
  PackedGemmCall call;
  bool store = false;  // the bias/relu store epilogue (store_epilogue_runs counts it when it runs)
};

// Fills t for the tiled prepacked path; false when the kernel does not take it.
bool plan_tiled_dot(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out,
                    TiledDot& t) {
  if (!fk.prepack || !tile_epilogue_enabled() || fk.adam || fk.nt_out) return false;
  t.packed = prepacked_b(*fk.prepack, *in[fk.dot_b], fk.tb, fk.gm, fk.gn, fk.gk);
  if (!t.packed) return false;
  t.fk = &fk;
  t.C = gemm_target(fk, in, out);
  t.v = fk.prefill >= 0 ? in[fk.prefill] : nullptr;
  PackedGemmCall& c = t.call;
  c.ta = fk.ta, c.M = fk.gm, c.N = fk.gn, c.K = fk.gk;
  c.A = in[fk.dot_a]->as<float>();
  c.lda = fk.ta ? fk.gm : fk.gk;
  c.B = t.packed.get();
  c.C = t.C, c.ldc = fk.gn;
  c.hooks = &t.hooks;
  const float* out_c = fk.gemm_into_out >= 0 ? out[fk.gemm_into_out]->as<float>() : nullptr;
  if (fk.epi_kernel && t.C == out_c && store_epilogue_enabled()) {
    // the epilogue is a row bias and/or relu (fused_kernel.cpp match_store_epilogue): the
    // micro-kernel's stores apply it (gemm.h), so neither a prefill nor an epilogue pass touches
    // C; bit-identical to the prefill + beta = 1 + relu pass (sgemm_avx2.h TileEpilogue)
    t.store = true;
    t.hooks.bias = t.v ? t.v->as<float>() : nullptr;
    t.hooks.relu = fk.epi_relu;
    c.beta = 0.0f;
    return true;
  }
  // 2-D tiles over the pool (gemm.h): each tile is prefilled, multiplied and run through the
  // element-wise epilogue by the thread that owns it while it is in cache, so no serial pass
  // over C is left on the calling thread. Same per-element arithmetic as the passes below.
  const bool epi = !fk.dot_is_output && !fk.passes.empty();
  if (epi) t.rs.reset(new RunState(fk, in, out, t.C));
  // a bias row broadcast over the rows (under any other epilogue) is added by the tiles' first K
  // block stores (GemmTileHooks::bias) instead of a prefill of C: the same bits; JXLA_BIAS_FOLD=0: off
  static const bool fold_on = !std::getenv("JXLA_BIAS_FOLD") || std::strcmp(std::getenv("JXLA_BIAS_FOLD"), "0") != 0;
  const Gather& pg = fk.prefill_g;
  const bool fold = fold_on && t.v && fk.prefill_gather && t.v->dtype == DType::F32 && pg.shape.size() == 2 &&
                    pg.shape[0] == fk.gm && pg.shape[1] == fk.gn && pg.st[0] == 0 && pg.st[1] == 1;
  const TiledDot* self = &t;
  t.before = [self](int64_t i0, int64_t m, int64_t j0, int64_t n) { prefill_tile(*self->fk, *self->v, self->C, i0, m, j0, n); };
  t.after = [self](int64_t i0, int64_t m, int64_t j0, int64_t n) {
    for (int64_t r = i0; r < i0 + m; ++r) self->rs->range(r * self->fk->gn + j0, r * self->fk->gn + j0 + n);
  };
  t.hooks = GemmTileHooks{t.v && !fold ? &t.before : nullptr, epi ? &t.after : nullptr};
  t.hooks.bias = fold ? t.v->as<float>() : nullptr;
  c.beta = fk.prefill >= 0 && !fold ? 1.0f : 0.0f;  // C = v, then C += A*B (fold_gemm_sum)
  return true;
}

// Whether kernel k's only reads of input q are as the GEMM's A operand (not the prefill, a
// broadcast scalar or an epilogue load): then only the A rows of its own tiles are read.
bool input_only_gemm_a(const FusedKernel& fk, int q) {
  if (fk.prefill == q) return false;
  for (int s : fk.slot_input) if (s == q) return false;
  for (const Prog& p : fk.passes)
    for (const Ins& i : p.ins)
      if (i.ext == q && (i.t == Ins::LoadPtr || i.t == Ins::LoadConv || i.t == Ins::LoadGather || i.t == Ins::LoadRow)) return false;
  return true;
}
}  // namespace

bool run_dot_gemm(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out,
                  const float** gemm) {
  {
    std::unique_ptr<TiledDot> t(new TiledDot);
    if (plan_tiled_dot(fk, in, out, *t)) {
      *gemm = t->C;
      const PackedGemmCall& c = t->call;
      if (t->store) g_store_epilogue_runs.fetch_add(1, std::memory_order_relaxed);
      host_sgemm_packed(c.ta, c.M, c.N, c.K, c.A, c.lda, *c.B, c.C, c.ldc, c.beta, c.hooks);
      return true;
    }
  }
  float* C = gemm_target(fk, in, out);
  *gemm = C;
  const float* A = in[fk.dot_a]->as<float>();
  const float* B = in[fk.dot_b]->as<float>();
  const float beta = fk.prefill >= 0 ? 1.0f : 0.0f;  // C = v, then C += A*B (fold_gemm_sum)
  // a frozen B (constant weights) is packed once per kernel, bit-identical results (prepack.h)
  auto packed = fk.prepack ? prepacked_b(*fk.prepack, *in[fk.dot_b], fk.tb, fk.gm, fk.gn, fk.gk) : nullptr;
  const int64_t lda = fk.ta ? fk.gm : fk.gk, ldb = fk.tb ? fk.gk : fk.gn;
  // 2-D tiles with hooks for per-call operands when the grid applies to this shape
  // (gemm_grid.cpp, session 5); the prepacked case took the tiled path above
  const bool grid = !packed && host_sgemm_grid_b_tiles(fk.ta, fk.gm, fk.gn, fk.gk, nullptr, nullptr) > 0;
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
    host_sgemm_hooked(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, lda, B, ldb, C, fk.gn, 0.0f, &hooks);
    return true;
  }
  if (grid && tile_epilogue_enabled() && !fk.adam && !fk.nt_out) {
    const bool epi = !fk.dot_is_output && !fk.passes.empty();
    std::unique_ptr<RunState> rs(epi ? new RunState(fk, in, out, C) : nullptr);
    const Buffer* v = fk.prefill >= 0 ? in[fk.prefill] : nullptr;
    const GemmTileFn before = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) { prefill_tile(fk, *v, C, i0, m, j0, n); };
    const GemmTileFn after = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
      for (int64_t r = i0; r < i0 + m; ++r) rs->range(r * fk.gn + j0, r * fk.gn + j0 + n);
    };
    GemmTileHooks hooks{v ? &before : nullptr, epi ? &after : nullptr};
    host_sgemm_hooked(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, lda, B, ldb, C, fk.gn, beta, &hooks);
    return true;
  }
  if (fk.prefill >= 0) prefill_tile(fk, *in[fk.prefill], C, 0, fk.gm, 0, fk.gn);
  // tiled over the backend's pool, OpenBLAS single-threaded per tile (gemm.h says why)
  if (packed) host_sgemm_packed(fk.ta, fk.gm, fk.gn, fk.gk, A, lda, *packed, C, fk.gn, beta);
  else host_sgemm(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, lda, B, ldb, C, fk.gn, beta);
  return fk.dot_is_output || fk.passes.empty();
}
}  // namespace fused_detail

int fused_dot_a(const FusedKernel& fk) { return fk.kind == Kernel::Dot ? fk.dot_a : -1; }

bool run_fused_dot_chain(const std::vector<FusedCall>& calls) {
  const size_t n = calls.size();
  if (n < 2 || !host_sgemm_chain_enabled() || !host_sgemm_grid_enabled() || host_num_threads() <= 1) return false;
  // cheap shape checks first: batch 1 (one row: column tiles, no row blocks) never chains, and
  // must not pay the planning below (a RunState per kernel) on every call
  for (const FusedCall& c : calls)
    if (c.fk->kind != Kernel::Dot || c.fk->ta || c.fk->gm <= 1 || c.fk->gm != calls[0].fk->gm) return false;
  // kernel j reads kernel j - 1's only output as its A (row-major, the dot's own M x N space),
  // and nothing else any earlier kernel of the chain writes; no two kernels write or read each
  // other's buffers otherwise (C scratch included: checked after planning)
  for (size_t j = 1; j < n; ++j) {
    const FusedKernel& p = *calls[j - 1].fk;
    const FusedKernel& k = *calls[j].fk;
    const std::vector<Buffer*>& pout = *calls[j - 1].out;
    if (pout.size() != 1 || p.out_dtype[0] != DType::F32 || p.out_scalar[0] || pout[0]->numel() != p.gm * p.gn) return false;
    if ((*calls[j].in)[k.dot_a] != pout[0] || k.gm != p.gm || k.gk != p.gn || !input_only_gemm_a(k, k.dot_a)) return false;
  }
  std::vector<std::unique_ptr<TiledDot>> t;
  for (const FusedCall& c : calls) {
    t.emplace_back(new TiledDot);
    if (!plan_tiled_dot(*c.fk, *c.in, *c.out, *t.back())) return false;
  }
  // the memory each kernel writes (C and outputs) must not be anything another kernel of the
  // chain reads or writes, except kernel j's A = kernel j - 1's output
  auto writes = [&](size_t i, const void* d) {
    if (t[i]->C == d) return true;
    for (const Buffer* b : *calls[i].out) if (b->data == d) return true;
    return false;
  };
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      if (writes(i, t[j]->C)) return false;
      for (const Buffer* b : *calls[j].out) if (writes(i, b->data)) return false;
      for (size_t q = 0; q < calls[j].in->size(); ++q) {
        const Buffer* b = (*calls[j].in)[q];
        if (writes(i, b->data) && !(i + 1 == j && static_cast<int>(q) == calls[j].fk->dot_a)) return false;
      }
    }
  std::vector<PackedGemmCall> g;
  for (size_t i = 0; i < n; ++i) {
    g.push_back(t[i]->call);
    g.back().a_from_prev = i > 0;
    if (t[i]->store) g_store_epilogue_runs.fetch_add(1, std::memory_order_relaxed);
  }
  host_sgemm_packed_chain(g.data(), static_cast<int64_t>(n));
  return true;
}


}  // namespace jxla
