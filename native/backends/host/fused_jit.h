// fused_jit.h - a small x86-64 AVX2 code generator for element-wise fused loop kernels.
// The block interpreter (fused_kernel.cpp) runs one op at a time over an L1 block, so every op
// loads and stores its block: an 8-op chain is compute-bound at ~0.85 ns/element in cache. The
// JIT emits one loop that applies the whole op list to U groups of 8 floats held in ymm
// registers (loads, ops, stores; no intermediate ever leaves a register).
// Scope: contiguous f32 loads, scalar operands (constants and broadcast one-element inputs, read
// from a per-run table), neg/abs/relu/sqrt/rsqrt/floor/ceil/not/identity convert, + - * / max
// min, compares, and/or/xor, f32->bool (!= 0) and select; f32 stores (optionally non-temporal).
// Anything else returns no program and the kernel stays on the interpreter.
// Invariants: results are bit-identical to the interpreter's per-op loops (fused_ops_impl.inc)
// except for the payload of a NaN produced from two NaN operands (both are NaN); every emitted
// program is read-only + executable (W^X); n passed to jit_run is a positive multiple of
// jit_step(); JXLA_JIT=0 (or jit_set_enabled(false)) turns the JIT off at run time.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>
#include "ir/op.h"

namespace jxla {

struct JitIns {
  enum Kind { Load, Scalar, Unary, Binary, Select } kind = Unary;
  Op op = Op::Add;
  int a = -1, b = -1, c = -1;  // operands: indices of earlier JitIns (SSA)
  int ptr = -1;                // Load: pointer index to read
  int slot = -1;               // Scalar: index in the scalar table
  int store = -1;              // pointer index the result is stored to, or -1
  bool ne0 = false;            // Unary: the f32 -> bool convert (a != 0 ? 1 : 0)
};

struct JitProgram;
// Compiles ins into a loop over n floats (nptr pointers, at most jit_max_pointers()); nullptr
// when an op is outside the JIT's scope, the values do not fit in registers, the CPU lacks AVX2
// or the system refuses executable memory.
std::shared_ptr<JitProgram> jit_compile(const std::vector<JitIns>& ins, int nptr, bool nt_store);
int jit_max_pointers();
int jit_step(const JitProgram& p);  // floats per loop iteration (8 * U)
// Scalar table of a run: (4 + nslot) * 8 floats, built by jit_fill_table from the slot values.
int64_t jit_table_floats(int nslot);
void jit_fill_table(float* table, const float* sval, int nslot);
// Runs the program over n floats; ptrs[i] already points at the first element.
void jit_run(const JitProgram& p, float* const* ptrs, const float* table, int64_t n);
// The program's machine code (tests disassemble it in failure messages).
const std::vector<uint8_t>& jit_code(const JitProgram& p);

bool jit_enabled();  // AVX2 present, JXLA_JIT != 0, not forced off by JXLA_ISA=sse2 or a test
void jit_set_enabled(bool on);
// Kernels of fewer elements stay on the interpreter (default 8,192): emitting and mapping a
// program costs ~30 us, which a small kernel would not earn back for many runs (and a graph
// compiled once, run once, pays it in full). Tests set 0 to cover tails and tiny sizes.
int64_t jit_min_elements();
void jit_set_min_elements(int64_t n);

}  // namespace jxla
