// fused_jit.cpp - see fused_jit.h. An assembler for the handful of VEX-encoded AVX2 instructions
// the element-wise ops need (always the 3-byte VEX prefix, 256-bit, r/m either a ymm register or
// [base + rax + disp32] / [rsi + disp32]), a liveness register allocator, and the loop:
//
//   rdi = pointer array, rsi = scalar table, rdx = n * 4 (bytes, a multiple of 32 U)
//   prologue: load up to 6 pointers into rcx, r8, r9, r10, r11, rdi; rax = 0
//   loop:     prefetch each loaded stream 2 KiB ahead; U copies of the op list (copy u at byte offset 32 u, registers u*T .. u*T + T-1)
//             rax += 32 U; if rax < rdx goto loop
//   vzeroupper; ret
//
// Registers: each copy has T ymm registers assigned by liveness (a destination never aliases an
// operand, as some ops are several instructions); ymm14 holds a scalar operand loaded from the
// table, ymm15 is a mask scratch. U = min(4, 14 / T): four independent groups per iteration keep
// the multiply/sqrt pipelines busy. Only caller-saved registers are touched (System V ABI).
// Semantics, op by op, as fused_ops_impl.inc (the interpreter's loops):
//   neg: xor sign bit; abs: and ~sign; relu: x & (x >nle_uq 0) (x if x > 0 or NaN, else +0);
//   max/min: vmaxps/vminps (x > y ? x : y), then x where x is NaN, then y where y is NaN;
//   compares: vcmpps with the ordered/unordered predicate C's operator has, & 1.0f;
//   and/or/xor: (x != 0) op (y != 0) & 1.0f; select: p != 0 ? a : b (vblendvps);
//   floor/ceil: vroundps 9/10 (exact); sqrt, + - * /: the correctly rounded IEEE instructions.
#include "backends/host/fused_jit.h"
#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace jxla {

struct JitProgram {
  using Fn = void (*)(float* const*, const float*, int64_t);
  std::vector<uint8_t> code;
  void* mem = nullptr;
  size_t size = 0;
  int step = 8;
  Fn fn = nullptr;
  ~JitProgram() {
    if (mem) munmap(mem, size);
  }
};

namespace {
constexpr int kRax = 0, kRcx = 1, kRdx = 2, kRsi = 6, kRdi = 7;
constexpr int kPtrReg[] = {kRcx, 8, 9, 10, 11, kRdi};  // rdi last: it holds the array until then
constexpr int kMaxPtr = 6;
constexpr int kS1 = 14, kS2 = 15;                       // scalar operand, mask scratch
// Software prefetch distance of the loaded streams (bytes). The sqrt-bound 8-op chain fills the
// out-of-order window with waiting arithmetic, so fewer loads are in flight than the triad's;
// prefetching 2 KiB ahead measured 10-20% faster on 16M floats (0 / 1 / 2 / 4 KiB compared,
// 2 threads, docs/fusion.md). A prefetch past the end of an array never faults.
constexpr int kPrefetch = 2048;
// scalar table rows (8 floats each)
constexpr int kSign = 0, kAbs = 1, kOne = 2, kZero = 3, kSlot0 = 4;
// vcmpps predicates (quiet forms)
constexpr int kEqOq = 0, kUnordQ = 3, kNeqUq = 4, kLtOq = 17, kLeOq = 18, kNleUq = 22, kGeOq = 29, kGtOq = 30;

struct Mem {
  int base;
  bool index;  // + rax
  int32_t disp;
};

struct Asm {
  std::vector<uint8_t> b;
  void u8(int v) { b.push_back(static_cast<uint8_t>(v)); }
  void u32(int32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<int>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff));
  }
  // VEX.256 (L = 1, W = 0), pp: 0 none / 1 66; map: 1 0F / 3 0F3A. r/m is rmreg or *m.
  void vex(int pp, int map, int op, int reg, int vvvv, int rmreg, const Mem* m) {
    const int rm = m ? m->base : rmreg;
    u8(0xC4);
    u8(((((reg >> 3) & 1) ^ 1) << 7) | (1 << 6) | ((((rm >> 3) & 1) ^ 1) << 5) | map);
    u8(((~vvvv & 15) << 3) | (1 << 2) | pp);
    u8(op);
    if (!m) {
      u8(0xC0 | ((reg & 7) << 3) | (rm & 7));
      return;
    }
    if (m->index) {  // mod 10, SIB: scale 1, index rax, base
      u8(0x80 | ((reg & 7) << 3) | 4);
      u8((kRax << 3) | (m->base & 7));
    } else {  // mod 10, base (never rsp/r12 here, which would need a SIB)
      u8(0x80 | ((reg & 7) << 3) | (m->base & 7));
    }
    u32(m->disp);
  }
  void rr(int op, int d, int s1, int s2) { vex(0, 1, op, d, s1, s2, nullptr); }
  void rm(int op, int d, int s1, Mem m) { vex(0, 1, op, d, s1, 0, &m); }
  void cmp_r(int d, int s1, int s2, int pred) { vex(0, 1, 0xC2, d, s1, s2, nullptr); u8(pred); }
  void cmp_m(int d, int s1, Mem m, int pred) { vex(0, 1, 0xC2, d, s1, 0, &m); u8(pred); }
  void blendv(int d, int s1, int s2, int mask) { vex(1, 3, 0x4A, d, s1, s2, nullptr); u8(mask << 4); }
  void round(int d, int s, int imm) { vex(1, 3, 0x08, d, 0, s, nullptr); u8(imm); }
  void unop(int op, int d, int s) { vex(0, 1, op, d, 0, s, nullptr); }  // sqrt 51, movaps 28
  void load(int d, Mem m) { vex(0, 1, 0x10, d, 0, 0, &m); }
  void store(Mem m, int s, bool nt) { vex(0, 1, nt ? 0x2B : 0x11, s, 0, 0, &m); }
};

Mem table(int row) { return Mem{kRsi, false, row * 32}; }

bool unary_ok(Op op) {
  switch (op) {
    case Op::Neg: case Op::Abs: case Op::Relu: case Op::Sqrt: case Op::Rsqrt: case Op::Floor: case Op::Ceil:
    case Op::Not: case Op::Convert: return true;
    default: return false;
  }
}
int compare_pred(Op op) {
  switch (op) {
    case Op::Eq: return kEqOq;
    case Op::Ne: return kNeqUq;
    case Op::Lt: return kLtOq;
    case Op::Le: return kLeOq;
    case Op::Gt: return kGtOq;
    case Op::Ge: return kGeOq;
    default: return -1;
  }
}
bool binary_ok(Op op) {
  switch (op) {
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Max: case Op::Min:
    case Op::And: case Op::Or: case Op::Xor: return true;
    default: return compare_pred(op) >= 0;
  }
}

// Emits the op of one copy: d is its register, x[] its operands' registers.
void emit_op(Asm& as, const JitIns& I, int d, const int* x) {
  const int a = x[0], b = x[1], c = x[2];
  switch (I.kind) {
    case JitIns::Unary:
      if (I.ne0) {
        as.cmp_m(d, a, table(kZero), kNeqUq);
        as.rm(0x54, d, d, table(kOne));
        return;
      }
      switch (I.op) {
        case Op::Neg: as.rm(0x57, d, a, table(kSign)); return;
        case Op::Abs: as.rm(0x54, d, a, table(kAbs)); return;
        case Op::Relu:
          as.cmp_m(kS2, a, table(kZero), kNleUq);
          as.rr(0x54, d, a, kS2);
          return;
        case Op::Sqrt: as.unop(0x51, d, a); return;
        case Op::Rsqrt:  // 1 / sqrt(x): two correctly rounded steps, as the interpreter
          as.unop(0x51, kS2, a);
          as.load(d, table(kOne));
          as.rr(0x5E, d, d, kS2);
          return;
        case Op::Floor: as.round(d, a, 9); return;
        case Op::Ceil: as.round(d, a, 10); return;
        case Op::Not:
          as.cmp_m(d, a, table(kZero), kEqOq);
          as.rm(0x54, d, d, table(kOne));
          return;
        default: as.unop(0x28, d, a); return;  // convert between f32/bool codes: identity
      }
    case JitIns::Binary:
      switch (I.op) {
        case Op::Add: as.rr(0x58, d, a, b); return;
        case Op::Sub: as.rr(0x5C, d, a, b); return;
        case Op::Mul: as.rr(0x59, d, a, b); return;
        case Op::Div: as.rr(0x5E, d, a, b); return;
        case Op::Max: case Op::Min:
          as.rr(I.op == Op::Max ? 0x5F : 0x5D, d, a, b);
          as.cmp_r(kS2, a, a, kUnordQ);
          as.blendv(d, d, a, kS2);
          as.cmp_r(kS2, b, b, kUnordQ);
          as.blendv(d, d, b, kS2);
          return;
        case Op::And: case Op::Or: case Op::Xor:
          as.cmp_m(kS2, a, table(kZero), kNeqUq);
          as.cmp_m(d, b, table(kZero), kNeqUq);
          as.rr(I.op == Op::And ? 0x54 : I.op == Op::Or ? 0x56 : 0x57, d, d, kS2);
          as.rm(0x54, d, d, table(kOne));
          return;
        default:
          as.cmp_r(d, a, b, compare_pred(I.op));
          as.rm(0x54, d, d, table(kOne));
          return;
      }
    default:  // Select: p != 0 ? a : b
      as.cmp_m(kS2, a, table(kZero), kNeqUq);
      as.blendv(d, c, b, kS2);
      return;
  }
}

void* make_executable(const std::vector<uint8_t>& code, size_t* size) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  *size = (code.size() + page - 1) / page * page;
  void* m = mmap(nullptr, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  std::memcpy(m, code.data(), code.size());
  if (mprotect(m, *size, PROT_READ | PROT_EXEC) != 0) {
    munmap(m, *size);
    return nullptr;
  }
  return m;
}

bool hw_ok() {
  static const bool ok = [] {
    __builtin_cpu_init();
    const char* isa = std::getenv("JXLA_ISA");
    if (isa && std::strcmp(isa, "sse2") == 0) return false;
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return ok;
}
std::atomic<int> g_user{-1};  // -1: JXLA_JIT decides
bool env_ok() {
  static const bool ok = [] {
    const char* v = std::getenv("JXLA_JIT");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return ok;
}
}  // namespace

bool jit_enabled() {
  int u = g_user.load(std::memory_order_relaxed);
  return hw_ok() && (u >= 0 ? u == 1 : env_ok());
}
void jit_set_enabled(bool on) { g_user.store(on ? 1 : 0); }
namespace {
std::atomic<int64_t> g_min_elements{8192};
}
int64_t jit_min_elements() { return g_min_elements.load(std::memory_order_relaxed); }
void jit_set_min_elements(int64_t n) { g_min_elements.store(n); }
int jit_max_pointers() { return kMaxPtr; }
int jit_step(const JitProgram& p) { return p.step; }
const std::vector<uint8_t>& jit_code(const JitProgram& p) { return p.code; }
int64_t jit_table_floats(int nslot) { return (kSlot0 + static_cast<int64_t>(nslot)) * 8; }

void jit_fill_table(float* t, const float* sval, int nslot) {
  const uint32_t bits[4] = {0x80000000u, 0x7fffffffu, 0x3f800000u, 0u};
  for (int r = 0; r < kSlot0; ++r)
    for (int i = 0; i < 8; ++i) std::memcpy(t + r * 8 + i, &bits[r], 4);
  for (int s = 0; s < nslot; ++s)
    for (int i = 0; i < 8; ++i) t[(kSlot0 + s) * 8 + i] = sval[s];
}

std::shared_ptr<JitProgram> jit_compile(const std::vector<JitIns>& ins, int nptr, bool nt_store) {
  if (!hw_ok() || nptr > kMaxPtr || ins.empty()) return nullptr;
  const int n = static_cast<int>(ins.size());
  // validate: supported ops, operands defined earlier, at most one scalar operand per op
  std::vector<int> last(n, -1);
  for (int j = 0; j < n; ++j) {
    const JitIns& I = ins[j];
    switch (I.kind) {
      case JitIns::Load: if (I.ptr < 0 || I.ptr >= nptr) return nullptr; break;
      case JitIns::Scalar: if (I.slot < 0) return nullptr; break;
      case JitIns::Unary: if (!I.ne0 && !unary_ok(I.op)) return nullptr; break;
      case JitIns::Binary: if (!binary_ok(I.op)) return nullptr; break;
      case JitIns::Select: break;
    }
    if (I.store >= nptr) return nullptr;
    const int arity = I.kind == JitIns::Unary ? 1 : I.kind == JitIns::Binary ? 2 : I.kind == JitIns::Select ? 3 : 0;
    int scalars = 0;
    for (int k = 0; k < arity; ++k) {
      int v = k == 0 ? I.a : k == 1 ? I.b : I.c;
      if (v < 0 || v >= j) return nullptr;
      if (ins[v].kind == JitIns::Scalar) ++scalars;
      last[v] = j;
    }
    if (scalars > 1) return nullptr;
  }
  // registers by liveness: the destination is taken before the operands' registers are freed,
  // so it never aliases an operand (max/min/select are several instructions)
  std::vector<int> rof(n, -1), fr;
  std::vector<bool> freed(n, false);
  int T = 0;
  for (int j = 0; j < n; ++j) {
    const JitIns& I = ins[j];
    if (I.kind != JitIns::Scalar) {
      if (fr.empty()) rof[j] = T++;
      else { rof[j] = fr.back(); fr.pop_back(); }
    }
    for (int v : {I.a, I.b, I.c})
      if (v >= 0 && last[v] == j && rof[v] >= 0 && !freed[v]) { fr.push_back(rof[v]); freed[v] = true; }
    if (rof[j] >= 0 && last[j] < j) { fr.push_back(rof[j]); freed[j] = true; }  // only stored, never read
  }
  if (T == 0) T = 1;
  const int U = 14 / T >= 4 ? 4 : 14 / T >= 2 ? 2 : 14 / T;  // 1, 2 or 4: tasks of 2,048-float blocks have no tail
  if (U == 0) return nullptr;

  Asm as;
  for (int p = 0; p < nptr; ++p) {  // mov ptr_reg, [rdi + 8p]
    const int r = kPtrReg[p];
    as.u8(0x48 | ((r >> 3) << 2));
    as.u8(0x8B);
    as.u8(0x40 | ((r & 7) << 3) | kRdi);
    as.u8(8 * p);
  }
  as.u8(0x31); as.u8(0xC0);  // xor eax, eax
  const size_t loop = as.b.size();
  {  // prefetcht0 [ptr + rax + kPrefetch + 64k] for each loaded stream: one per cache line
    std::vector<bool> seen(nptr, false);
    for (const JitIns& I : ins)
      if (I.kind == JitIns::Load && !seen[I.ptr]) {
        seen[I.ptr] = true;
        const int base = kPtrReg[I.ptr];
        for (int off = 0; off < 32 * U; off += 64) {
          if (base >= 8) as.u8(0x41);  // REX.B
          as.u8(0x0F); as.u8(0x18);
          as.u8(0x80 | (1 << 3) | 4);  // mod 10, /1 (t0), SIB
          as.u8((kRax << 3) | (base & 7));
          as.u32(kPrefetch + off);
        }
      }
  }
  for (int j = 0; j < n; ++j) {
    const JitIns& I = ins[j];
    for (int u = 0; u < U; ++u) {
      int x[3] = {-1, -1, -1};
      int k = 0;
      for (int v : {I.a, I.b, I.c}) {
        if (v < 0) break;
        if (ins[v].kind == JitIns::Scalar) {
          as.load(kS1, table(kSlot0 + ins[v].slot));
          x[k++] = kS1;
        } else {
          x[k++] = u * T + rof[v];
        }
      }
      int d = I.kind == JitIns::Scalar ? -1 : u * T + rof[j];
      if (I.kind == JitIns::Load) as.load(d, Mem{kPtrReg[I.ptr], true, 32 * u});
      else if (I.kind != JitIns::Scalar) emit_op(as, I, d, x);
      if (I.store >= 0) {
        if (d < 0) { as.load(kS1, table(kSlot0 + I.slot)); d = kS1; }
        as.store(Mem{kPtrReg[I.store], true, 32 * u}, d, nt_store);
      }
    }
  }
  as.u8(0x48); as.u8(0x05); as.u32(32 * U);  // add rax, 32U
  as.u8(0x48); as.u8(0x39); as.u8(0xC0 | (kRdx << 3) | kRax);  // cmp rax, rdx
  as.u8(0x0F); as.u8(0x82);  // jb loop
  as.u32(static_cast<int32_t>(static_cast<int64_t>(loop) - static_cast<int64_t>(as.b.size() + 4)));
  as.u8(0xC5); as.u8(0xF8); as.u8(0x77);  // vzeroupper
  as.u8(0xC3);                             // ret

  auto p = std::make_shared<JitProgram>();
  p->code = std::move(as.b);
  p->step = 8 * U;
  p->mem = make_executable(p->code, &p->size);
  if (!p->mem) return nullptr;
  p->fn = reinterpret_cast<JitProgram::Fn>(p->mem);
  return p;
}

void jit_run(const JitProgram& p, float* const* ptrs, const float* table, int64_t n) {
  p.fn(ptrs, table, n * 4);
}

}  // namespace jxla
