// fused_kernel.cpp - compiles a fused kernel into instruction lists and runs them blockwise.
// Iteration space: a loop or dot kernel covers the linear index range [0, N) of its root in
// blocks of blk elements (parallel over blocks); a row kernel covers M rows of L elements
// (parallel over rows, each row in blocks). Every full-space value of a block lives in a
// per-thread register of blk floats, so intermediates never reach memory. blk is chosen per
// kernel so that all its registers fit in half the L2 cache (kRegBudget): an Adam update with
// ~40 values would otherwise stream 16 KiB registers from L3. Row kernels also have scalar-space values (one per row:
// reductions and what is computed from them) kept in a per-row scalar array.
// Passes of a row kernel: [scalar sweep] then, per reduction, a full pass over the row that
// accumulates it followed by a scalar sweep, then the final full pass writing full-space outputs.
// Values computed in several passes are recomputed (cheap element-wise work) rather than stored.
// Numerics: f32 arithmetic (+ - * / sqrt match the reference exactly, being correctly rounded);
// sums use 16 f32 lanes per block combined in double (error bound in docs/fusion.md).
#include "backends/host/fused_kernel.h"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <unordered_map>
#include "backends/host/fused_ops.h"
#include "backends/host/gemm.h"
#include "backends/host/thread_pool.h"
#include "ir/error.h"
#include "passes/fusion.h"

namespace jxla {

namespace {
constexpr int64_t kBlock = 4096;            // the largest block (and the size of Const blocks)
constexpr int64_t kMinBlock = 256;
constexpr int64_t kRegBudget = 256 * 1024;  // bytes of registers per thread

struct Gather {  // element i of a broadcast/transpose output reads src[sum(idx_d * st_d)]
  Shape shape;
  std::vector<int64_t> st;
};

struct Ins {
  enum T { LoadPtr, LoadConv, LoadGather, LoadSplat, LoadRow, LoadGemm, Const, Iota, Unary, Binary, Select, Clamp, Reduce } t;
  Op op = Op::Add;
  int dst = -1, a = -1, b = -1, c = -1;
  int ext = -1;        // kernel input index (loads)
  float value = 0;     // Const
  int64_t iota_axis = 0;
  Gather g;            // LoadGather, Iota (shape)
  std::shared_ptr<std::vector<float>> cblock;  // Const: one block of the value, shared read-only
  int out = -1;        // kernel output index to store this value into
};

struct Prog {
  bool scalar = false;
  int reduce = -1;  // value id accumulated by this full pass (row kernels)
  Op rop = Op::ReduceSum;
  std::vector<Ins> ins;
};
}  // namespace

struct FusedKernel {
  Kernel::Kind kind;
  int64_t N = 0, M = 1, L = 1;
  int V = 0;
  int64_t blk = kBlock;  // elements per block: a power of two in [kMinBlock, kBlock]
  std::vector<int> phys;  // value id -> register slot (loop/dot kernels reuse dead values' slots)
  int P = 0;              // register slots per thread
  std::vector<Prog> passes;
  std::vector<DType> in_dtype;
  std::vector<DType> out_dtype;
  std::vector<int> out_value;       // value id of each output
  std::vector<bool> out_scalar;
  // dot
  bool ta = false, tb = false;
  int64_t gm = 0, gn = 0, gk = 0;
  int dot_a = -1, dot_b = -1;  // input indices of the GEMM operands
  bool dot_is_output = false;
  int gemm_into_out = -1;      // output index the GEMM writes to (epilogue runs in place), or -1: scratch
};

namespace {
struct Builder {
  const Kernel& k;
  FusedKernel& fk;
  std::unordered_map<const Node*, int> vid;       // value ids
  std::unordered_map<const Node*, int> in_idx;    // kernel inputs
  std::unordered_map<const Node*, bool> member;
  std::unordered_map<const Node*, int> out_idx;
  std::unordered_map<const Node*, bool> avail;    // scalar values ready (row kernels)

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
    } else if (n == k.dot) {
      I.t = Ins::LoadGemm;
    } else if (n->op == Op::Full) {
      I.t = Ins::Const;
      I.value = static_cast<float>(n->attrs.get_float("full", "value"));
      if (n->dtype == DType::Bool) I.value = I.value != 0 ? 1.0f : 0.0f;
      I.cblock = std::make_shared<std::vector<float>>(kBlock, I.value);
    } else if (n->op == Op::Iota) {
      I.t = Ins::Iota;
      I.g.shape = n->shape;
      I.iota_axis = n->attrs.get_int("iota", "axis");
    } else if (fusible_load(n)) {
      const Node* src = n->inputs[0].get();
      if (member.count(src)) {  // row-broadcast of a scalar value of this kernel
        I.t = Ins::LoadRow;
        I.a = id(src);
      } else {
        // a one-element input broadcast over the block (learning rates, Adam's betas, scalar
        // constants fed as data) is splatted once per thread and kernel run, not once per block
        I.t = src->numel() == 1 && !p.scalar ? Ins::LoadSplat : Ins::LoadGather;
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
        case OpKind::Binary: case OpKind::Compare: case OpKind::Logical: I.t = Ins::Binary; break;
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
// Linear-scan slot assignment for single-pass (loop and dot) kernels: a value's slot is freed
// after its last read and reused by later values, so an Adam update with ~40 values needs a
// handful of slots and its block stays in L1/L2. Splats are pinned (their slot must survive
// across blocks, see LoadSplat). A value's slot is allocated before its operands' slots are
// freed, so an instruction never writes the slot it reads (the kernels take __restrict
// pointers). Row kernels keep one slot per value: their values live across passes.
void assign_registers(FusedKernel& fk) {
  fk.phys.assign(static_cast<size_t>(fk.V), -1);
  if (fk.kind == Kernel::Row || fk.passes.size() != 1 || fk.passes[0].scalar) {
    for (int v = 0; v < fk.V; ++v) fk.phys[v] = v;
    fk.P = fk.V;
    return;
  }
  const std::vector<Ins>& ins = fk.passes[0].ins;
  std::vector<int> last(static_cast<size_t>(fk.V), -1);
  for (size_t i = 0; i < ins.size(); ++i)
    for (int o : {ins[i].a, ins[i].b, ins[i].c})
      if (o >= 0) last[o] = static_cast<int>(i);
  std::vector<int> free_slots;
  std::vector<bool> pinned(static_cast<size_t>(fk.V), false);
  int P = 0;
  for (size_t i = 0; i < ins.size(); ++i) {
    const Ins& I = ins[i];
    bool writes = I.t != Ins::LoadPtr && I.t != Ins::LoadGemm && I.t != Ins::Const && I.t != Ins::Reduce;
    if (writes && fk.phys[I.dst] < 0) {
      if (!free_slots.empty() && I.t != Ins::LoadSplat) { fk.phys[I.dst] = free_slots.back(); free_slots.pop_back(); }
      else fk.phys[I.dst] = P++;
      if (I.t == Ins::LoadSplat) pinned[I.dst] = true;
    }
    int ops[3] = {I.a, I.b, I.c};
    for (int j = 0; j < 3; ++j) {
      int o = ops[j];
      if (o < 0 || last[o] != static_cast<int>(i) || pinned[o] || fk.phys[o] < 0) continue;
      if ((j > 0 && ops[0] == o) || (j > 1 && ops[1] == o)) continue;  // freed once
      free_slots.push_back(fk.phys[o]);
    }
  }
  for (int v = 0; v < fk.V; ++v)
    if (fk.phys[v] < 0) fk.phys[v] = 0;  // loads from buffers and constants: no slot is written
  fk.P = std::max(P, 1);
}
}  // namespace

std::shared_ptr<FusedKernel> compile_fused_kernel(const Kernel& k) {
  auto fk = std::make_shared<FusedKernel>();
  fk->kind = k.kind;
  Builder b{k, *fk, {}, {}, {}, {}, {}};
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
    fk->dot_is_output = root == k.dot;
    for (size_t i = 0; i < k.outputs.size(); ++i)
      if (k.outputs[i] == k.dot) fk->gemm_into_out = static_cast<int>(i);  // the GEMM result is returned
    // otherwise the GEMM writes the root's buffer and the epilogue runs in place: the root is
    // computed last in each block, after every read of the GEMM block
    if (fk->gemm_into_out < 0 && root->dtype == DType::F32) fk->gemm_into_out = 0;
    fk->N = k.dot->numel();
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
  if (!targets.empty()) {
    Prog p;
    std::unordered_map<const Node*, bool> done;
    for (const Node* t : targets) b.emit(t, p, done);
    fk->passes.push_back(std::move(p));
  }
  assign_registers(*fk);
  while (fk->blk > kMinBlock && fk->blk * 4 * std::max(fk->P, 1) > kRegBudget) fk->blk /= 2;
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
    else if (sl == 0) std::fill_n(d + done, len, rd(off));
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
  uint64_t run;  // unique per run_fused_kernel call: tags the splats filled in a thread's registers
};

// Runs one pass over [i0, i0 + n) (full space) or over row i0 with n = 1 (scalar space).
void exec(const Ctx& c, const Prog& p, int64_t i0, int64_t n, int64_t row, float* regs, float* sc, const float** vp,
          uint64_t* tags, double* acc) {
  const FusedKernel& fk = c.fk;
  for (const Ins& I : p.ins) {
    float* dst = p.scalar ? sc + I.dst : regs + static_cast<int64_t>(fk.phys[I.dst]) * fk.blk;
    // a computed f32 output is written straight into its buffer (no register + copy), except
    // into the buffer the GEMM result is read from (the epilogue's in-place case)
    if (I.out >= 0 && !p.scalar && I.t >= Ins::Unary && I.t <= Ins::Clamp && c.out[I.out]->dtype == DType::F32 &&
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
      case Ins::LoadSplat:
        // the register of a value is written only by the instruction defining it, so a splat
        // filled earlier in this run on this thread is still intact
        if (tags[I.dst] != c.run) {
          const Buffer* b = c.in[I.ext];
          std::fill_n(dst, fk.blk, b->dtype == DType::F32 ? b->as<float>()[0] : (b->as<uint8_t>()[0] ? 1.0f : 0.0f));
          tags[I.dst] = c.run;
        }
        break;
      case Ins::LoadRow: { float v = sc[I.a]; for (int64_t i = 0; i < n; ++i) dst[i] = v; break; }
      case Ins::LoadGemm: res = c.gemm + i0; break;
      case Ins::Const: res = I.cblock->data(); break;
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
      else if (o->as<float>() + at != res) std::memcpy(o->as<float>() + at, res, static_cast<size_t>(n) * 4);
    }
  }
}

struct Scratch {
  std::vector<float> regs, sc;
  std::vector<const float*> vp;
  std::vector<uint64_t> tags;  // per value: the run whose splat its register holds
};
Scratch& scratch(int V) {
  thread_local Scratch s;
  if (s.regs.size() < static_cast<size_t>(V) * kBlock) {
    s.regs.resize(static_cast<size_t>(V) * kBlock);
    std::fill(s.tags.begin(), s.tags.end(), 0);  // contents did not survive the move
  }
  if (s.sc.size() < static_cast<size_t>(V)) { s.sc.resize(V); s.vp.resize(V); s.tags.resize(V, 0); }
  return s;
}
std::atomic<uint64_t> g_run{0};

void store_scalar(const Ctx& c, int value, int64_t row, float v) {
  for (size_t o = 0; o < c.fk.out_value.size(); ++o)
    if (c.fk.out_value[o] == value && c.fk.out_scalar[o]) {
      Buffer* b = c.out[o];
      if (b->dtype == DType::Bool) b->as<uint8_t>()[row] = v != 0.0f;
      else b->as<float>()[row] = v;
    }
}
}  // namespace

void run_fused_kernel(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out) {
  const FusedOps& ops = fused_ops();
  std::vector<float> gemm_scratch;
  const float* gemm = nullptr;
  if (fk.kind == Kernel::Dot) {
    float* C;
    if (fk.dot_is_output) C = out[0]->as<float>();
    else if (fk.gemm_into_out >= 0) C = out[fk.gemm_into_out]->as<float>();
    else { gemm_scratch.resize(static_cast<size_t>(fk.N)); C = gemm_scratch.data(); }
    const float* A = in[fk.dot_a]->as<float>();
    const float* B = in[fk.dot_b]->as<float>();
    // tiled over the backend's pool, OpenBLAS single-threaded per tile (gemm.h says why)
    host_sgemm(fk.ta, fk.tb, fk.gm, fk.gn, fk.gk, A, fk.ta ? fk.gm : fk.gk, B, fk.tb ? fk.gk : fk.gn, C, fk.gn);
    gemm = C;
    if (fk.dot_is_output) return;
  }
  Ctx c{fk, in, out, gemm, ops, ++g_run};
  const int threads = host_num_threads();
  if (fk.kind != Kernel::Row) {
    const Prog& p = fk.passes.back();
    const int64_t kB = fk.blk;
    int64_t blocks = (fk.N + kB - 1) / kB;
    int64_t per = std::max<int64_t>(1, blocks / (threads * 4));
    int64_t tasks = (blocks + per - 1) / per;
    parallel_for(tasks, [&](int64_t t) {
      Scratch& s = scratch(fk.V);
      for (int64_t bl = t * per; bl < std::min(blocks, (t + 1) * per); ++bl) {
        int64_t i0 = bl * kB, n = std::min(kB, fk.N - i0);
        exec(c, p, i0, n, 0, s.regs.data(), s.sc.data(), s.vp.data(), s.tags.data(), nullptr);
      }
    });
    return;
  }
  const int64_t M = fk.M, L = fk.L;
  int64_t rows_per = std::max<int64_t>(1, std::min<int64_t>(M / (threads * 4) + 1, (1 << 16) / L + 1));
  int64_t tasks = (M + rows_per - 1) / rows_per;
  parallel_for(tasks, [&](int64_t t) {
    Scratch& s = scratch(fk.V);
    for (int64_t r = t * rows_per; r < std::min(M, (t + 1) * rows_per); ++r) {
      for (const Prog& p : fk.passes) {
        if (p.scalar) { exec(c, p, r, 1, r, s.regs.data(), s.sc.data(), s.vp.data(), s.tags.data(), nullptr); continue; }
        double acc = p.rop == Op::ReduceSum ? 0.0 : p.rop == Op::ReduceProd ? 1.0 : p.rop == Op::ReduceMax ? -HUGE_VAL : HUGE_VAL;
        for (int64_t c0 = 0; c0 < L; c0 += fk.blk)
          exec(c, p, r * L + c0, std::min(fk.blk, L - c0), r, s.regs.data(), s.sc.data(), s.vp.data(), s.tags.data(), &acc);
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
