// fused_kernel_internal.h - the compiled form of a fused kernel, shared by fused_kernel.cpp
// (compiler + block interpreter) and fused_kernel_jit.cpp (translation to the AVX2 code
// generator). Invariants: see fused_kernel.cpp's header comment.
#pragma once
#include <memory>
#include <utility>
#include <vector>
#include "backends/host/fused_adam.h"
#include "backends/host/fused_jit.h"
#include "backends/host/prepack.h"
#include "ir/node.h"
#include "ir/shape.h"
#include "passes/pass.h"

namespace jxla {
// the interpreter's types live in their own namespace so their (implicit, inline) member functions
// can never be merged at link time with an unrelated jxla::Gather / Ins / Prog elsewhere
namespace fused_detail {

// 2,048 floats: measured 15-20% faster than 4,096 on the 8-op chain (docs/fusion.md)
constexpr int64_t kBlock = 2048;
constexpr int64_t kStreamMinBytes = int64_t(32) << 20;

struct Gather {  // element i of a broadcast/transpose output reads src[sum(idx_d * st_d)]
  Shape shape;
  std::vector<int64_t> st;
};

struct Ins {
  enum T { LoadPtr, LoadConv, LoadGather, LoadRow, LoadGemm, Const, Splat, Iota, Unary, Binary, Select, Clamp, Reduce } t;
  Op op = Op::Add;
  int dst = -1, a = -1, b = -1, c = -1;
  int ext = -1;        // kernel input index (loads)
  int reg = -1;        // register written (full-space passes; assigned by allocate_registers)
  int slot = -1;       // Const / Splat: index of the value in the per-run scalar table
  int sa = -1, sb = -1;  // Binary: slot of operand a / b when it is a Const or Splat (scalar loop)
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
  std::vector<int> stream_in;  // f32 inputs read in place (LoadPtr): prefetched a block ahead
};
}  // namespace fused_detail
using namespace fused_detail;

struct FusedKernel {
  Kernel::Kind kind;
  int64_t N = 0, M = 1, L = 1;
  int V = 0;
  int R = 0;                        // registers (kBlock floats each) per thread
  std::vector<int> slot_input;      // per scalar slot: the kernel input of a Splat, or -1 (Const)
  std::vector<float> slot_value;    // per scalar slot: the Const's value
  bool nt_out = false;              // stream f32 outputs with non-temporal stores (large loop/dot kernels)
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
  // bias/residual folded into the GEMM: C is prefilled with this input (gathered through
  // prefill_g when prefill_gather) and the GEMM accumulates onto it (beta = 1); -1: none
  int prefill = -1;
  bool prefill_gather = false;
  Gather prefill_g;
  std::shared_ptr<PrepackCache> prepack;  // dot: packed constant B operands (prepack.h)
  // session 6: the whole epilogue is a row bias (the folded prefill, a broadcast of a vector
  // along the rows) and/or relu of the GEMM result, written in place: on the 2-D tile grids the
  // micro-kernel's stores apply it (gemm.h GemmTileHooks bias/relu), no pass over C at all
  bool epi_kernel = false;
  bool epi_relu = false;
  bool serial_epilogue = false;  // run the epilogue on the calling thread (see run_fused_kernel)
  // element-wise loop kernels: the whole op list compiled to machine code (fused_jit.h), run on
  // the part of each task's range that is a multiple of its step; the interpreter does the tail
  std::shared_ptr<JitProgram> jit;
  std::vector<std::pair<bool, int>> jit_ptrs;  // per JIT pointer: (is an output, its index)
  // the kernel is one Adam update: run as a hand-fused loop, not by the passes (fused_adam.h)
  bool adam = false;
  AdamPlan adam_plan;
};

// Translates the single pass of an element-wise loop kernel for the code generator; leaves
// fk.jit empty when an instruction is outside its scope (fused_kernel_jit.cpp).
void build_jit(FusedKernel& fk);

}  // namespace jxla
