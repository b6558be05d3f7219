// fused_kernel.cpp - compiles a fused kernel into instruction lists and runs them blockwise.
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
// Numerics: f32 arithmetic (+ - * / sqrt match the reference exactly, being correctly rounded);
// sums use 16 f32 lanes per block combined in double (error bound in docs/fusion.md).
// Element-wise loop kernels whose ops the AVX2 code generator covers (fused_jit.h) run its
// machine code instead (every op applied in ymm registers, bit-identical results); the
// interpreter then only does the last < 32 elements of the kernel. JXLA_JIT=0 turns that off.
#include "backends/host/fused_kernel.h"
#include <immintrin.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include "backends/host/fused_adam.h"
#include "backends/host/fused_jit.h"
#include "backends/host/fused_kernel_internal.h"
#include "backends/host/fused_ops.h"
#include "backends/host/gemm.h"
#include "backends/host/thread_pool.h"
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

namespace {
void gather(const void* src, DType dt, const Gather& g, int64_t i0, int64_t n, float* d) {
  const size_t r = g.shape.size();
  auto rd = [&](int64_t off) -> float {
    return dt == DType::F32 ? static_cast<const float*>(src)[off] : static_cast<const uint8_t*>(src)[off] ? 1.0f : 0.0f;
  };
  if (r == 0) { for (int64_t i = 0; i < n; ++i) d[i] = rd(0); return; }
  int64_t idx[16];
  int64_t* ix = r <= 16 ? idx : nullptr;
  std::vector<int64_t> big;
  if (!ix) { big.resize(r); ix = big.data(); }
  int64_t f = i0;
  for (size_t k = r; k-- > 0;) { int64_t s = g.shape[k]; ix[k] = s ? f % s : 0; f = s ? f / s : 0; }
  int64_t done = 0;
  const int64_t last = g.shape[r - 1], sl = g.st[r - 1];
  while (done < n) {
    int64_t off = 0;
    for (size_t k = 0; k < r; ++k) off += ix[k] * g.st[k];
    int64_t len = std::min(n - done, last - ix[r - 1]);
    if (dt == DType::F32 && sl == 1) std::memcpy(d + done, static_cast<const float*>(src) + off, static_cast<size_t>(len) * 4);
    else if (sl == 0) { float v = rd(off); for (int64_t i = 0; i < len; ++i) d[done + i] = v; }
    else for (int64_t i = 0; i < len; ++i) d[done + i] = rd(off + i * sl);
    done += len;
    ix[r - 1] += len;
    for (size_t k = r - 1; k > 0 && ix[k] >= g.shape[k]; --k) { ix[k] = 0; ++ix[k - 1]; }
  }
}

struct Ctx {
  const FusedKernel& fk;
  const std::vector<const Buffer*>& in;
  const std::vector<Buffer*>& out;
  const float* gemm;
  const FusedOps& ops;
  const float* sval;    // per scalar slot: its value for this run
  const float* sblock;  // per Splat slot: kBlock copies of its value (Const slots use their cblock)
};

// Runs one pass over [i0, i0 + n) (full space) or over row i0 with n = 1 (scalar space).
void exec(const Ctx& c, const Prog& p, int64_t i0, int64_t n, int64_t row, float* regs, float* sc, const float** vp,
          double* acc) {
  const FusedKernel& fk = c.fk;
  // software prefetch of the next block of each streamed input, spread over the instructions:
  // the memory system keeps working while this block computes from L1
  const int64_t pf_end = std::min(i0 + n + kBlock, p.scalar ? int64_t(0) : fk.N) * 4;
  const int64_t pf_lines = (kBlock * 4 / 64 + static_cast<int64_t>(p.ins.size()) - 1) / static_cast<int64_t>(p.ins.size());
  int64_t pf_at = (i0 + n) * 4;
  for (const Ins& I : p.ins) {
    if (pf_at < pf_end) {
      for (int e : p.stream_in) {
        const char* base = static_cast<const char*>(c.in[e]->data);
        for (int64_t l = 0, at = pf_at; l < pf_lines && at < pf_end; ++l, at += 64) _mm_prefetch(base + at, _MM_HINT_T0);
      }
      pf_at += pf_lines * 64;
    }
    // loads of pointers, constants and splats write no register (reg = -1, dst unused)
    float* dst = p.scalar ? sc + I.dst : (I.reg >= 0 ? regs + static_cast<int64_t>(I.reg) * kBlock : nullptr);
    // a computed f32 output is written straight into its buffer (no register + copy), except
    // into the buffer the GEMM result is read from (the epilogue's in-place case) and when it is
    // streamed (computed in a register, then copied with non-temporal stores)
    if (I.out >= 0 && !p.scalar && !fk.nt_out && I.t >= Ins::Unary && I.t <= Ins::Clamp && c.out[I.out]->dtype == DType::F32 &&
        c.out[I.out]->as<float>() != c.gemm)
      dst = c.out[I.out]->as<float>() + i0;
    const float* res = dst;
    switch (I.t) {
      case Ins::LoadPtr: res = c.in[I.ext]->as<float>() + i0; break;
      case Ins::LoadConv: {
        const uint8_t* s = c.in[I.ext]->as<uint8_t>() + i0;
        for (int64_t i = 0; i < n; ++i) dst[i] = s[i] ? 1.0f : 0.0f;
        break;
      }
      case Ins::LoadGather: gather(c.in[I.ext]->data, fk.in_dtype[I.ext], I.g, i0, n, dst); break;
      case Ins::LoadRow: { float v = sc[I.a]; for (int64_t i = 0; i < n; ++i) dst[i] = v; break; }
      case Ins::LoadGemm: res = c.gemm + i0; break;
      case Ins::Const: res = I.cblock->data(); break;
      case Ins::Splat: res = c.sblock + static_cast<int64_t>(I.slot) * kBlock; break;
      case Ins::Iota: {
        const Gather& g = I.g;
        for (int64_t i = 0; i < n; ++i) {
          int64_t f = i0 + i, v = 0;
          for (size_t k = g.shape.size(); k-- > 0;) {
            int64_t s = g.shape[k];
            if (static_cast<int64_t>(k) == I.iota_axis) v = f % s;
            f /= s;
          }
          dst[i] = static_cast<float>(v);
        }
        break;
      }
      case Ins::Unary: c.ops.unary(I.op, dst, vp[I.a], n); break;
      case Ins::Binary:
        if (I.b == -2) {  // f32 -> bool convert: v != 0
          for (int64_t i = 0; i < n; ++i) dst[i] = vp[I.a][i] != 0.0f ? 1.0f : 0.0f;
        } else if (I.sb >= 0) {
          c.ops.binary_s(I.op, dst, vp[I.a], c.sval[I.sb], false, n);
        } else if (I.sa >= 0) {
          c.ops.binary_s(I.op, dst, vp[I.b], c.sval[I.sa], true, n);
        } else {
          c.ops.binary(I.op, dst, vp[I.a], vp[I.b], n);
        }
        break;
      case Ins::Select: c.ops.select(dst, vp[I.a], vp[I.b], vp[I.c], n); break;
      case Ins::Clamp: c.ops.clamp(dst, vp[I.a], vp[I.b], vp[I.c], n); break;
      case Ins::Reduce: {
        const float* x = vp[I.a];
        switch (p.rop) {
          case Op::ReduceSum: *acc += c.ops.sum(x, n); break;
          case Op::ReduceMax: { float m = c.ops.maxmin(true, x, n, -HUGE_VALF); *acc = (std::isnan(*acc) || std::isnan(m)) ? NAN : std::max(*acc, double(m)); break; }
          case Op::ReduceMin: { float m = c.ops.maxmin(false, x, n, HUGE_VALF); *acc = (std::isnan(*acc) || std::isnan(m)) ? NAN : std::min(*acc, double(m)); break; }
          default: for (int64_t i = 0; i < n; ++i) *acc *= x[i]; break;
        }
        continue;
      }
    }
    if (p.scalar && res != dst) { dst[0] = res[0]; res = dst; }
    vp[I.dst] = res;
    if (I.out >= 0) {
      Buffer* o = c.out[I.out];
      int64_t at = p.scalar ? row : i0;
      if (o->dtype == DType::Bool) { uint8_t* q = o->as<uint8_t>() + at; for (int64_t i = 0; i < n; ++i) q[i] = res[i] != 0.0f; }
      else if (o->as<float>() + at == res) {}
      else if (fk.nt_out && !p.scalar) c.ops.store_nt(o->as<float>() + at, res, n);
      else std::memcpy(o->as<float>() + at, res, static_cast<size_t>(n) * 4);
    }
  }
}

struct Scratch {
  std::vector<float> regs, sc;
  std::vector<const float*> vp;
};
Scratch& scratch(int V, int R) {
  thread_local Scratch s;
  if (s.regs.size() < static_cast<size_t>(R) * kBlock) s.regs.resize(static_cast<size_t>(R) * kBlock);
  if (s.sc.size() < static_cast<size_t>(V)) { s.sc.resize(V); s.vp.resize(V); }
  return s;
}

void store_scalar(const Ctx& c, int value, int64_t row, float v) {
  for (size_t o = 0; o < c.fk.out_value.size(); ++o)
    if (c.fk.out_value[o] == value && c.fk.out_scalar[o]) {
      Buffer* b = c.out[o];
      if (b->dtype == DType::Bool) b->as<uint8_t>()[row] = v != 0.0f;
      else b->as<float>()[row] = v;
    }
}
}  // namespace

namespace {
std::atomic<int64_t> g_jit_runs{0};
std::atomic<bool>& tile_epilogue_flag() {
  static std::atomic<bool> on{!std::getenv("JXLA_TILE_EPILOGUE") || std::strcmp(std::getenv("JXLA_TILE_EPILOGUE"), "0") != 0};
  return on;
}
}  // namespace
int64_t fused_jit_runs() { return g_jit_runs.load(); }
bool tile_epilogue_enabled() { return tile_epilogue_flag().load(std::memory_order_relaxed); }
void tile_epilogue_set_enabled(bool on) { tile_epilogue_flag() = on; }

namespace {
// Per-run state of a kernel's passes: the scalar table (constants and broadcast one-element
// inputs, read once), splat blocks and the JIT's constant table. range() runs the last pass over
// [i0, i1) of the full space (loop and dot kernels): the body of one parallel task, also run per
// row segment of a GEMM tile when the epilogue is fused into the tiles.
struct RunState {
  const FusedKernel& fk;
  float sval_small[16];
  std::vector<float> sval_big, sblock, table;
  float* sval = sval_small;
  bool jit = false;
  int64_t step = 1;
  Ctx c;
  RunState(const FusedKernel& k, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out, const float* gemm)
      : fk(k), c{k, in, out, gemm, fused_ops(), nullptr, nullptr} {
    const size_t nslot = fk.slot_input.size();
    if (nslot > 16) { sval_big.resize(nslot); sval = sval_big.data(); }
    size_t nsplat = 0;
    for (size_t i = 0; i < nslot; ++i) {
      int e = fk.slot_input[i];
      if (e < 0) { sval[i] = fk.slot_value[i]; continue; }
      ++nsplat;
      sval[i] = fk.in_dtype[e] == DType::F32 ? in[e]->as<float>()[0] : (in[e]->as<uint8_t>()[0] ? 1.0f : 0.0f);
    }
    c.sval = sval;
    if (fk.adam) return;
    if (nsplat) {  // blocks of splat values for the ops that read them as arrays (not binary_s)
      const int64_t fill = std::min<int64_t>(kBlock, std::max(fk.N, fk.L));
      sblock.resize(nslot * static_cast<size_t>(kBlock));
      for (size_t i = 0; i < nslot; ++i)
        if (fk.slot_input[i] >= 0) std::fill_n(sblock.data() + i * kBlock, fill, sval[i]);
    }
    c.sblock = sblock.data();
    if (fk.kind == Kernel::Row) return;
    jit = fk.jit && jit_enabled();
    if (jit && fk.nt_out)  // streaming stores need 32-byte aligned rows (Buffers are 64-byte aligned)
      for (const auto& q : fk.jit_ptrs)
        if (q.first && (reinterpret_cast<uintptr_t>(out[q.second]->data) & 31)) jit = false;
    if (jit) {
      g_jit_runs.fetch_add(1, std::memory_order_relaxed);
      table.resize(static_cast<size_t>(jit_table_floats(static_cast<int>(nslot))));
      jit_fill_table(table.data(), sval, static_cast<int>(nslot));
      step = jit_step(*fk.jit);
    }
  }
  void range(int64_t i0, int64_t i1) const {
    const Prog& p = fk.passes.back();
    if (jit) {
      const int64_t nv = (i1 - i0) / step * step;
      if (nv > 0) {
        float* ptrs[8];
        for (size_t q = 0; q < fk.jit_ptrs.size(); ++q) {
          int idx = fk.jit_ptrs[q].second;
          ptrs[q] = (fk.jit_ptrs[q].first ? c.out[idx]->as<float>() : const_cast<float*>(c.in[idx]->as<float>())) + i0;
        }
        jit_run(*fk.jit, ptrs, table.data(), nv);
      }
      if (nv < i1 - i0) {  // the tail (< step floats, only at the end of the range)
        Scratch& s = scratch(fk.V, fk.R);
        exec(c, p, i0 + nv, i1 - i0 - nv, 0, s.regs.data(), s.sc.data(), s.vp.data(), nullptr);
      }
      return;
    }
    Scratch& s = scratch(fk.V, fk.R);
    for (int64_t b0 = i0; b0 < i1; b0 += kBlock)
      exec(c, p, b0, std::min(kBlock, i1 - b0), 0, s.regs.data(), s.sc.data(), s.vp.data(), nullptr);
  }
};

// Fills C (ldc = gn) with the folded bias/residual (fold_gemm_sum) over rows [i0, i0 + m) and
// columns [j0, j0 + n): element (r, j) is linear index r * gn + j of the dot's space.
void prefill_tile(const FusedKernel& fk, const Buffer& v, float* C, int64_t i0, int64_t m, int64_t j0, int64_t n) {
  for (int64_t r = i0; r < i0 + m; ++r) {
    const int64_t at = r * fk.gn + j0;
    if (fk.prefill_gather) gather(v.data, DType::F32, fk.prefill_g, at, n, C + at);
    else std::memcpy(C + at, v.as<float>() + at, static_cast<size_t>(n) * 4);
  }
}
}  // namespace

const AdamPlan* fused_adam_plan(const FusedKernel& fk) { return fk.adam ? &fk.adam_plan : nullptr; }

namespace {
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
}  // namespace

void run_fused_kernel(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out) {
  const float* gemm = nullptr;
  if (fk.kind == Kernel::Dot) {
    float* C;
    if (fk.dot_is_output) C = out[0]->as<float>();
    else if (fk.gemm_into_out >= 0) C = out[fk.gemm_into_out]->as<float>();
    else C = gemm_scratch(fk.N);
    // a donated output (the executable writes an in-place update into an input's buffer) must
    // not receive the GEMM result: the epilogue still reads that input
    if (!fk.dot_is_output)
      for (const Buffer* b : in)
        if (b->data == C) { C = gemm_scratch(fk.N); break; }
    gemm = C;
    const float* A = in[fk.dot_a]->as<float>();
    const float* B = in[fk.dot_b]->as<float>();
    const float beta = fk.prefill >= 0 ? 1.0f : 0.0f;  // C = v, then C += A*B (fold_gemm_sum)
    // a frozen B (constant weights) is packed once per kernel, bit-identical results (prepack.h)
    auto packed = fk.prepack ? prepacked_b(*fk.prepack, *in[fk.dot_b], fk.tb, fk.gm, fk.gn, fk.gk) : nullptr;
    if (packed && tile_epilogue_enabled() && !fk.adam && !fk.nt_out) {
      // 2-D tiles over the pool (gemm.h): each tile is prefilled, multiplied and run through the
      // element-wise epilogue by the thread that owns it while it is in cache, so no serial pass
      // over C is left on the calling thread. Same per-element arithmetic as the passes below.
      const bool epi = !fk.dot_is_output && !fk.passes.empty();
      std::unique_ptr<RunState> rs(epi ? new RunState(fk, in, out, gemm) : nullptr);
      const Buffer* v = fk.prefill >= 0 ? in[fk.prefill] : nullptr;
      const GemmTileFn before = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) { prefill_tile(fk, *v, C, i0, m, j0, n); };
      const GemmTileFn after = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
        for (int64_t r = i0; r < i0 + m; ++r) rs->range(r * fk.gn + j0, r * fk.gn + j0 + n);
      };
      GemmTileHooks hooks{v ? &before : nullptr, epi ? &after : nullptr};
      host_sgemm_packed(fk.ta, fk.gm, fk.gn, fk.gk, A, fk.ta ? fk.gm : fk.gk, *packed, C, fk.gn, beta, &hooks);
      return;
    }
    if (fk.prefill >= 0) prefill_tile(fk, *in[fk.prefill], C, 0, fk.gm, 0, fk.gn);
    // tiled over the backend's pool, OpenBLAS single-threaded per tile (gemm.h says why)
    if (packed) host_sgemm_packed(fk.ta, fk.gm, fk.gn, fk.gk, A, fk.ta ? fk.gm : fk.gk, *packed, C, fk.gn, beta);
    else host_sgemm(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, fk.ta ? fk.gm : fk.gk, B, fk.tb ? fk.gk : fk.gn, C, fk.gn, beta);
    if (fk.dot_is_output || fk.passes.empty()) return;
  }
  RunState rs(fk, in, out, gemm);
  const float* sval = rs.sval;
  if (fk.adam) {
    const AdamPlan& a = fk.adam_plan;
    auto src = [&](const AdamSrc& x) { return x.kind == AdamSrc::Gemm ? gemm : in[x.index]->as<float>(); };
    auto dst = [&](int o) { return o >= 0 ? out[o]->as<float>() : nullptr; };
    const float* streams[4] = {src(a.p), src(a.m), src(a.v), src(a.g)};
    const float sc[8] = {sval[a.b1.index], sval[a.c1.index], sval[a.s1.index], sval[a.b2.index],
                         sval[a.c2.index], sval[a.s2.index], sval[a.eps.index], sval[a.lr.index]};
    float* const outs[3] = {dst(a.out_p), dst(a.out_m), dst(a.out_v)};
    // chunks of 16 Ki elements (64 KiB per stream): small updates run inline, large ones on the pool
    const int64_t chunk = 16384, tasks = (fk.N + chunk - 1) / chunk;
    parallel_for(tasks, [&](int64_t t) { run_adam(streams, sc, outs, t * chunk, std::min(fk.N, (t + 1) * chunk)); });
    return;
  }
  const Ctx& c = rs.c;
  const int threads = host_num_threads();
  if (fk.kind != Kernel::Row) {
    int64_t blocks = (fk.N + kBlock - 1) / kBlock;
    int64_t per = std::max<int64_t>(1, blocks / (threads * 4));
    int64_t tasks = (blocks + per - 1) / per;
    if (fk.serial_epilogue) { per = blocks; tasks = 1; }  // one task runs inline on this thread
    // JIT: tasks of at most 32 blocks (64 Ki floats, the triad's chunk): on a shared machine a
    // preempted worker then delays the region by a small task, not by 1/8 of the kernel
    if (rs.jit && !fk.serial_epilogue && per > 32) { per = 32; tasks = (blocks + per - 1) / per; }
    parallel_for(tasks, [&](int64_t t) {
      rs.range(t * per * kBlock, std::min(fk.N, (t + 1) * per * kBlock));
      if (fk.nt_out) _mm_sfence();  // streaming stores are weakly ordered: drain them on this thread
    });
    return;
  }
  const int64_t M = fk.M, L = fk.L;
  int64_t rows_per = std::max<int64_t>(1, std::min<int64_t>(M / (threads * 4) + 1, (1 << 16) / L + 1));
  int64_t tasks = (M + rows_per - 1) / rows_per;
  parallel_for(tasks, [&](int64_t t) {
    Scratch& s = scratch(fk.V, fk.R);
    for (int64_t r = t * rows_per; r < std::min(M, (t + 1) * rows_per); ++r) {
      for (const Prog& p : fk.passes) {
        if (p.scalar) { exec(c, p, r, 1, r, s.regs.data(), s.sc.data(), s.vp.data(), nullptr); continue; }
        double acc = p.rop == Op::ReduceSum ? 0.0 : p.rop == Op::ReduceProd ? 1.0 : p.rop == Op::ReduceMax ? -HUGE_VAL : HUGE_VAL;
        for (int64_t c0 = 0; c0 < L; c0 += kBlock)
          exec(c, p, r * L + c0, std::min(kBlock, L - c0), r, s.regs.data(), s.sc.data(), s.vp.data(), &acc);
        if (p.reduce >= 0) {
          float v = static_cast<float>(acc);
          s.sc[p.reduce] = v;
          s.vp[p.reduce] = &s.sc[p.reduce];
          store_scalar(c, p.reduce, r, v);
        }
      }
    }
  });
}

}  // namespace jxla
