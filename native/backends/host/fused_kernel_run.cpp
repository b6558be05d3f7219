// fused_kernel_run.cpp - the block interpreter of compiled fused kernels (fused_kernel.cpp
// builds the instruction lists): loop and dot-epilogue passes over [0, N) in blocks of kBlock
// elements spread over the pool, row kernels row by row (scalar sweeps, reduction passes, the
// final pass), the hand-fused Adam update. Dot kernels first run their GEMM
// (fused_kernel_dot.cpp), which may already have run the last pass inside its tiles.
// Numerics: f32 arithmetic (+ - * / sqrt match the reference exactly, being correctly rounded);
// sums use 16 f32 lanes per block combined in double (error bound in docs/fusion.md).
// Element-wise loop kernels whose ops the AVX2 code generator covers (fused_jit.h) run its
// machine code instead (every op applied in ymm registers, bit-identical results); the
// interpreter then only does the last < 32 elements of the kernel. JXLA_JIT=0 turns that off.
// Invariants: a block's values live in per-thread registers (scratch), so tasks share nothing
// but the read-only RunState; every element of an output is written by exactly one task.
#include "backends/host/fused_kernel_run.h"
#include <immintrin.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include "backends/host/fused_adam.h"
#include "backends/host/fused_jit.h"
#include "backends/host/fused_kernel.h"
#include "backends/host/thread_pool.h"

namespace jxla {
namespace fused_detail {
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
}  // namespace fused_detail

namespace {
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

std::atomic<int64_t> g_jit_runs{0};
}  // namespace

int64_t fused_jit_runs() { return g_jit_runs.load(); }

namespace fused_detail {
RunState::RunState(const FusedKernel& k, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out, const float* gemm)
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
void RunState::range(int64_t i0, int64_t i1) const {
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
}  // namespace fused_detail

void run_fused_kernel(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out) {
  const float* gemm = nullptr;
  if (fk.kind == Kernel::Dot && run_dot_gemm(fk, in, out, &gemm)) return;
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
