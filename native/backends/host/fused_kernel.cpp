// fused_kernel.cpp - compiles a fused kernel (passes/fusion.h Kernel) into instruction lists.
// The interpreter that runs them is fused_kernel_run.cpp; the GEMM of dot kernels (with the
// folded bias prefill and the epilogue in its tiles) is fused_kernel_dot.cpp.
// Iteration space: a loop or dot kernel covers the linear index range [0, N) of its root in
// blocks of kBlock elements (parallel over blocks); a row kernel covers M rows of L elements
// (parallel over rows, each row in blocks). Every full-space value of a block lives in a
// per-thread register of kBlock floats (8 KiB); registers are allocated by liveness (an 8-op
// chain needs 2), so a block's working set stays in L1 and intermediates never reach memory.
// Scalars broadcast over the whole kernel (constants, one-element inputs) are read once per run
// and applied by scalar-operand loops (no splat block is streamed). Row kernels also have
// scalar-space values (one per row: reductions and what is computed from them) kept in a per-row
// scalar array.
// Passes of a row kernel: [scalar sweep] then, per reduction, a full pass over the row that
// accumulates it followed by a scalar sweep, then the final full pass writing full-space outputs.
// Values computed in several passes are recomputed (cheap element-wise work) rather than stored.
// Invariants: a full-space pass never reads a scalar-space value before the sweep computing it
// (checked: internal error); a register destination never aliases an operand register; the root
// is computed last in each block (a dot epilogue may then run in place over the GEMM result).
// Element-wise loop kernels whose ops the AVX2 code generator covers (fused_jit.h) are also
// translated to machine code (build_jit, fused_kernel_jit.cpp).
#include "backends/host/fused_kernel.h"
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include "backends/host/fused_adam.h"
#include "backends/host/fused_jit.h"
#include "backends/host/fused_kernel_internal.h"
#include "ir/error.h"
#include "passes/fusion.h"
#include "runtime/metrics.h"

namespace jxla {

namespace {
struct Builder {
  const Kernel& k;
  FusedKernel& fk;
  std::unordered_map<const Node*, int> vid;       // value ids
  std::unordered_map<const Node*, int> in_idx;    // kernel inputs
  std::unordered_map<const Node*, bool> member;
  std::unordered_map<const Node*, int> out_idx;
  std::unordered_map<const Node*, bool> avail;    // scalar values ready (row kernels)
  std::unordered_map<const Node*, int> slot_of;   // Const / Splat nodes -> scalar slot
  std::unordered_map<int, int> value_slot;        // value id of a Const / Splat -> its slot
  const Node* gemm_sum = nullptr;                 // the add folded into the GEMM (reads C)

  int slot(const Node* n, int ext, float value) {
    auto it = slot_of.find(n);
    if (it != slot_of.end()) return it->second;
    int s = static_cast<int>(fk.slot_input.size());
    fk.slot_input.push_back(ext);
    fk.slot_value.push_back(value);
    slot_of[n] = s;
    value_slot[id(n)] = s;
    return s;
  }

  int id(const Node* n) {
    auto it = vid.find(n);
    if (it != vid.end()) return it->second;
    int v = fk.V++;
    vid[n] = v;
    return v;
  }
  bool scalar_space(const Node* n) const { return fk.kind == Kernel::Row && n->numel() != fk.M * fk.L; }

  Gather gather_of(const Node* n) {
    Gather g;
    g.shape = n->shape;
    const Shape& xs = n->inputs[0]->shape;
    std::vector<int64_t> xst = strides_of(xs);
    g.st.assign(n->shape.size(), 0);
    if (n->op == Op::Transpose) {
      auto perm = n->attrs.get_ints("transpose", "perm");
      for (size_t i = 0; i < perm.size(); ++i) g.st[i] = xst[perm[i]];
    } else {
      auto dims = n->attrs.get_ints("broadcast", "dims");
      for (size_t d = 0; d < xs.size(); ++d)
        if (xs[d] != 1) g.st[dims[d]] = xst[d];
    }
    return g;
  }

  // Emits the instructions computing n (and what it needs) into p; returns its value id.
  int emit(const Node* n, Prog& p, std::unordered_map<const Node*, bool>& done) {
    if (done.count(n) || (p.scalar == false && scalar_space(n) && avail.count(n))) return id(n);
    if (!p.scalar && scalar_space(n) && member.count(n))
      internal("fusion: scalar value ", op_name(n->op), " used in a full pass before it is ready");
    Ins I;
    int v = id(n);
    I.dst = v;
    if (!member.count(n)) {  // a materialized input read in the consumer's space
      I.ext = in_idx.at(n);
      I.t = n->dtype == DType::F32 ? Ins::LoadPtr : Ins::LoadConv;
    } else if (n == k.dot || n == gemm_sum) {
      I.t = Ins::LoadGemm;
    } else if (n->op == Op::Full) {
      I.t = Ins::Const;
      I.value = static_cast<float>(n->attrs.get_float("full", "value"));
      if (n->dtype == DType::Bool) I.value = I.value != 0 ? 1.0f : 0.0f;
      I.cblock = std::make_shared<std::vector<float>>(kBlock, I.value);
      I.slot = slot(n, -1, I.value);
    } else if (n->op == Op::Iota) {
      I.t = Ins::Iota;
      I.g.shape = n->shape;
      I.iota_axis = n->attrs.get_int("iota", "axis");
    } else if (fusible_load(n)) {
      const Node* src = n->inputs[0].get();
      if (member.count(src)) {  // row-broadcast of a scalar value of this kernel
        I.t = Ins::LoadRow;
        I.a = id(src);
      } else if (src->numel() == 1) {  // broadcast of one element: a scalar for the whole run
        I.t = Ins::Splat;
        I.ext = in_idx.at(src);
        I.slot = slot(n, I.ext, 0.0f);
      } else {
        I.t = Ins::LoadGather;
        I.ext = in_idx.at(src);
        I.g = gather_of(n);
      }
    } else {
      std::vector<int> a;
      for (auto& in : n->inputs) a.push_back(emit(in.get(), p, done));
      I.a = a[0];
      if (a.size() > 1) I.b = a[1];
      if (a.size() > 2) I.c = a[2];
      I.op = n->op;
      switch (n->info().kind) {
        case OpKind::Select: I.t = Ins::Select; break;
        case OpKind::Clamp: I.t = Ins::Clamp; break;
        case OpKind::Binary: case OpKind::Compare: case OpKind::Logical: {
          I.t = Ins::Binary;
          auto sa = value_slot.find(I.a), sb = value_slot.find(I.b);
          bool as = sa != value_slot.end(), bs = sb != value_slot.end();
          if (bs && !as) I.sb = sb->second;
          if (as && !bs) I.sa = sa->second;
          break;
        }
        case OpKind::Convert:
          I.t = Ins::Unary;
          if (n->dtype == DType::Bool && n->inputs[0]->dtype == DType::F32) { I.t = Ins::Binary; I.op = Op::Ne; I.b = -2; }
          break;
        default: I.t = Ins::Unary; break;
      }
    }
    auto oi = out_idx.find(n);
    if (oi != out_idx.end() && scalar_space(n) == p.scalar) I.out = oi->second;
    done[n] = true;
    p.ins.push_back(I);
    return v;
  }

  void scalar_sweep() {
    Prog p;
    p.scalar = true;
    std::unordered_map<const Node*, bool> done;
    for (const Node* n : k.nodes) {
      if (!scalar_space(n) || avail.count(n) || n->info().kind == OpKind::Reduce) continue;
      bool ready = true;
      for (auto& in : n->inputs)
        if (member.count(in.get()) && !avail.count(in.get())) ready = false;
      if (!ready) continue;
      // operands that are scalar values of this kernel are already computed
      for (auto& in : n->inputs) if (avail.count(in.get())) done[in.get()] = true;
      emit(n, p, done);
      avail[n] = true;
    }
    if (!p.ins.empty()) fk.passes.push_back(std::move(p));
  }
};
}  // namespace

namespace {
// Output fusion of a bias or residual into the GEMM itself: when the dot's only reader is
// add(dot, v) with v a broadcast of a materialized f32 input (bias) or such an input of the
// dot's shape (residual), and neither the dot nor the add is returned on its own (the add may
// be the root), C is prefilled with v and the GEMM runs with beta = 1: C = A*B + v. The prefill
// replaces OpenBLAS's own beta = 0 pass over C, so the add costs about nothing, and the
// epilogue reads the sum as the GEMM result. Numerics: v enters the f32 accumulation first
// instead of being added to the rounded product: same error bound (gamma_(K+1) |A||B| + |v|)).
void fold_gemm_sum(const Kernel& k, Builder& b, FusedKernel& fk) {
  if (fk.gemm_into_out != 0 || fk.dot_is_output) return;
  const Node* user = nullptr;
  int users = 0;
  for (const Node* n : k.nodes)
    for (auto& in : n->inputs)
      if (in.get() == k.dot) { ++users; user = n; }
  if (users != 1 || user->op != Op::Add || user->dtype != DType::F32 || user->shape != k.dot->shape) return;
  for (size_t i = 1; i < k.outputs.size(); ++i) if (k.outputs[i] == user) return;
  const Node* v = user->inputs[0].get() == k.dot ? user->inputs[1].get() : user->inputs[0].get();
  if (v == k.dot || v->dtype != DType::F32) return;
  if (!b.member.count(v)) {
    fk.prefill = b.in_idx.at(v);
  } else if (fusible_load(v) && !b.member.count(v->inputs[0].get()) && v->inputs[0]->dtype == DType::F32) {
    fk.prefill = b.in_idx.at(v->inputs[0].get());
    fk.prefill_gather = true;
    fk.prefill_g = b.gather_of(v);
  } else {
    return;
  }
  b.gemm_sum = user;
}

// The folded prefill is a row bias: element r * gn + j of the dot's space reads src[j] (the
// broadcast of a vector along every dimension but the last, which is the dot's N).
bool row_bias(const Gather& g, int64_t gn) {
  if (g.shape.empty() || g.shape.back() != gn || g.st.back() != 1) return false;
  for (size_t d = 0; d + 1 < g.st.size(); ++d)
    if (g.st[d] != 0) return false;
  return true;
}

// Session 6: a dot kernel whose epilogue is only a folded row bias and/or relu of the GEMM
// result in place can run it in the micro-kernel's stores (FusedKernel::epi_kernel).
void match_store_epilogue(const Kernel& k, FusedKernel& fk) {
  if (fk.dot_is_output || fk.gemm_into_out != 0 || k.outputs.size() != 1 || fk.out_dtype[0] != DType::F32) return;
  if (fk.prefill >= 0 && !(fk.prefill_gather && row_bias(fk.prefill_g, fk.gn))) return;  // a residual: prefill
  bool relu = false;
  if (fk.passes.size() == 1) {  // exactly out0 = relu(gemm)
    const Prog& p = fk.passes[0];
    if (p.scalar || p.ins.size() != 2) return;
    const Ins &g = p.ins[0], &r = p.ins[1];
    if (g.t != Ins::LoadGemm || g.out >= 0 || r.t != Ins::Unary || r.op != Op::Relu || r.a != g.dst || r.out != 0) return;
    relu = true;
  } else if (!fk.passes.empty()) {
    return;
  }
  if (fk.prefill < 0 && !relu) return;
  fk.epi_kernel = true;
  fk.epi_relu = relu;
}

bool cheap_unary(Op op) {  // a vector loop in fused_ops_impl.inc (no per-element library call)
  switch (op) {
    case Op::Neg: case Op::Abs: case Op::Relu: case Op::Sqrt: case Op::Rsqrt: case Op::Exp: case Op::Sigmoid:
    case Op::Floor: case Op::Ceil: case Op::Round: case Op::Sign: case Op::Not: case Op::Convert: case Op::Log:
    case Op::Tanh: return true;
    default: return false;
  }
}

bool writes_register(const Ins& I) {
  switch (I.t) {
    case Ins::LoadPtr: case Ins::LoadGemm: case Ins::Const: case Ins::Splat: case Ins::Reduce: return false;
    default: return true;
  }
}
// value ids a full-space instruction reads from registers or pointers (LoadRow's a is scalar-space)
int reads(const Ins& I, int* r) {
  if (I.t < Ins::Unary) return 0;
  int k = 0;
  for (int v : {I.a, I.b, I.c}) if (v >= 0) r[k++] = v;
  return k;
}

// Register allocation of a full-space pass by liveness: a value's register is free again after
// its last reader. An instruction's register is taken before its operands' registers are freed,
// so a destination never aliases an operand (the per-op loops use __restrict). An 8-op chain
// needs 2 registers instead of 8, so the working set of a block stays in L1.
void allocate_registers(Prog& p, int V, int* max_regs) {
  std::vector<int> last(V, -1), reg_of(V, -1), free_regs;
  int r[3], nreg = 0;
  for (size_t j = 0; j < p.ins.size(); ++j)
    for (int k = 0, m = reads(p.ins[j], r); k < m; ++k) last[r[k]] = static_cast<int>(j);
  for (size_t j = 0; j < p.ins.size(); ++j) {
    Ins& I = p.ins[j];
    if (writes_register(I)) {
      if (free_regs.empty()) I.reg = nreg++;
      else { I.reg = free_regs.back(); free_regs.pop_back(); }
      reg_of[I.dst] = I.reg;
    }
    for (int k = 0, m = reads(I, r); k < m; ++k)
      if (last[r[k]] == static_cast<int>(j) && reg_of[r[k]] >= 0) { free_regs.push_back(reg_of[r[k]]); reg_of[r[k]] = -1; }
    if (writes_register(I) && last[I.dst] < static_cast<int>(j) && reg_of[I.dst] >= 0) {  // never read here
      free_regs.push_back(reg_of[I.dst]);
      reg_of[I.dst] = -1;
    }
  }
  *max_regs = std::max(*max_regs, nreg);
}
}  // namespace


std::shared_ptr<FusedKernel> compile_fused_kernel(const Kernel& k) {
  auto fk = std::make_shared<FusedKernel>();
  fk->kind = k.kind;
  Builder b{k, *fk, {}, {}, {}, {}, {}, {}, {}, nullptr};
  for (size_t i = 0; i < k.inputs.size(); ++i) { b.in_idx[k.inputs[i]] = static_cast<int>(i); fk->in_dtype.push_back(k.inputs[i]->dtype); }
  for (const Node* n : k.nodes) b.member[n] = true;
  for (size_t i = 0; i < k.outputs.size(); ++i) {
    b.out_idx[k.outputs[i]] = static_cast<int>(i);
    fk->out_dtype.push_back(k.outputs[i]->dtype);
  }
  const Node* root = k.outputs[0];
  fk->N = root->numel();
  if (k.kind == Kernel::Row) { fk->M = k.rows; fk->L = k.row_len; }
  if (k.kind == Kernel::Dot) {
    if (!gemm_dot(k.dot, &fk->ta, &fk->tb, &fk->gm, &fk->gn, &fk->gk)) internal("fusion: dot kernel without a GEMM");
    fk->dot_a = b.in_idx.at(k.dot->inputs[0].get());
    fk->dot_b = b.in_idx.at(k.dot->inputs[1].get());
    fk->prepack = std::make_shared<PrepackCache>();
    fk->dot_is_output = root == k.dot;
    for (size_t i = 0; i < k.outputs.size(); ++i)
      if (k.outputs[i] == k.dot) fk->gemm_into_out = static_cast<int>(i);  // the GEMM result is returned
    // otherwise the GEMM writes the root's buffer and the epilogue runs in place: the root is
    // computed last in each block, after every read of the GEMM block
    if (fk->gemm_into_out < 0 && root->dtype == DType::F32) fk->gemm_into_out = 0;
    fk->N = k.dot->numel();
    fold_gemm_sum(k, b, *fk);
  }
  for (const Node* o : k.outputs) { fk->out_value.push_back(b.id(o)); fk->out_scalar.push_back(b.scalar_space(o)); }
  if (k.kind == Kernel::Row) {
    b.scalar_sweep();
    for (const Node* n : k.nodes) {
      if (n->info().kind != OpKind::Reduce) continue;
      Prog p;
      p.reduce = b.id(n);
      p.rop = n->op;
      std::unordered_map<const Node*, bool> done;
      b.emit(n->inputs[0].get(), p, done);
      // the reduce instruction accumulates its operand
      Ins r;
      r.t = Ins::Reduce;
      r.a = b.id(n->inputs[0].get());
      r.dst = p.reduce;
      p.ins.push_back(r);
      fk->passes.push_back(std::move(p));
      b.avail[n] = true;
      b.scalar_sweep();
    }
  }
  // the final pass writes the full-space outputs: extra outputs first, the root last
  std::vector<const Node*> targets;
  for (size_t i = 1; i < k.outputs.size(); ++i)
    if (!b.scalar_space(k.outputs[i]) && k.outputs[i] != k.dot) targets.push_back(k.outputs[i]);
  if (!(k.kind == Kernel::Dot && fk->dot_is_output) && !b.scalar_space(root)) targets.push_back(root);
  // nothing left to do when the folded sum is the only output: C already holds it
  if (k.kind == Kernel::Dot && b.gemm_sum == root && k.outputs.size() == 1) targets.clear();
  if (!targets.empty()) {
    Prog p;
    std::unordered_map<const Node*, bool> done;
    for (const Node* t : targets) b.emit(t, p, done);
    fk->passes.push_back(std::move(p));
  }
  if (k.kind == Kernel::Dot && !fk->passes.empty()) {
    // A cheap epilogue runs on the calling thread: right after a multi-threaded OpenBLAS call
    // its workers still spin for a while, and a pool worker sharing their core can be preempted
    // holding a task, stalling the region for a scheduler time slice (measured: median 0.98 ms
    // but up to 17 ms in parallel, 0.85-1.06 ms serial on 1M elements; docs/fusion.md).
    // Epilogues with per-element library calls (erf, tanh, log, ...) are worth parallelizing.
    fk->serial_epilogue = true;
    for (const Ins& I : fk->passes.back().ins)
      if ((I.t == Ins::Unary && !cheap_unary(I.op)) || (I.t == Ins::Binary && I.op == Op::Pow)) fk->serial_epilogue = false;
  }
  if (k.kind == Kernel::Dot) match_store_epilogue(k, *fk);
  static const bool adam_on = !std::getenv("JXLA_FUSED_ADAM") || std::strcmp(std::getenv("JXLA_FUSED_ADAM"), "0") != 0;
  if (adam_on && (k.kind == Kernel::Loop || k.kind == Kernel::Dot)) {
    // operands of a hand-fused pattern (JXLA_FUSED_ADAM=0 turns it off: A/B measurements): full-size f32 inputs, the GEMM result, scalar slots
    auto classify = [&](const Node* n, AdamSrc* s) -> bool {
      auto input = [&](const Node* x) {
        auto it = b.in_idx.find(x);
        s->kind = AdamSrc::Input;
        s->index = it == b.in_idx.end() ? -1 : it->second;
        return s->index >= 0 && x->dtype == DType::F32 && n->dtype == DType::F32 && n->numel() == fk->N;
      };
      if (n == k.dot) {
        s->kind = AdamSrc::Gemm;
        return b.gemm_sum == nullptr && !fk->dot_is_output;
      }
      if (!b.member.count(n)) return input(n);
      // a reshape of an input reads the same row-major data
      if (n->op == Op::Reshape && !b.member.count(n->inputs[0].get())) return input(n->inputs[0].get());
      s->kind = AdamSrc::Scalar;
      if (n->op == Op::Full && n->dtype == DType::F32) {
        s->index = b.slot(n, -1, static_cast<float>(n->attrs.get_float("full", "value")));
        return true;
      }
      const Node* src = fusible_load(n) ? n->inputs[0].get() : nullptr;
      if (!src || b.member.count(src) || src->numel() != 1 || src->dtype != DType::F32 || !b.in_idx.count(src)) return false;
      s->index = b.slot(n, b.in_idx.at(src), 0.0f);
      return true;
    };
    fk->adam = match_adam(k, classify, &fk->adam_plan);
    if (fk->adam) counter_add("FusedAdamKernels");  // compiled kernels that run the hand-fused update
  }
  for (Prog& p : fk->passes) {
    if (p.scalar) continue;
    allocate_registers(p, fk->V, &fk->R);
    for (const Ins& I : p.ins) if (I.t == Ins::LoadPtr) p.stream_in.push_back(I.ext);
  }
  // Outputs far larger than the last-level cache are streamed (non-temporal stores): they cannot
  // stay cached for the next kernel anyway, and a normal store first reads each line (measured in
  // docs/fusion.md). Loop and dot kernels only: their blocks start at multiples of kBlock, so the
  // stores are aligned.
  if (k.kind != Kernel::Row) {
    int64_t bytes = 0;
    for (const Node* o : k.outputs) if (o->dtype == DType::F32 && o != k.dot) bytes += o->numel() * 4;
    fk->nt_out = bytes >= kStreamMinBytes;
  }
  if (!fk->adam) build_jit(*fk);  // a hand-fused Adam update never runs the passes
  return fk;
}

const AdamPlan* fused_adam_plan(const FusedKernel& fk) { return fk.adam ? &fk.adam_plan : nullptr; }

}  // namespace jxla
