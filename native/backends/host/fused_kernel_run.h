// fused_kernel_run.h - the per-run state of a compiled fused kernel, shared by the block
// interpreter (fused_kernel_run.cpp) and the GEMM of dot kernels (fused_kernel_dot.cpp), which
// runs the interpreter's last pass inside its tiles. Invariants: a RunState is built once per
// kernel run, before any task starts, and is only read by the tasks (range() is const and
// thread-safe; each thread uses its own scratch registers).
#pragma once
#include <cstdint>
#include <vector>
#include "backends/host/fused_kernel_internal.h"
#include "backends/host/fused_ops.h"
#include "runtime/buffer.h"

namespace jxla {
namespace fused_detail {

struct Ctx {
  const FusedKernel& fk;
  const std::vector<const Buffer*>& in;
  const std::vector<Buffer*>& out;
  const float* gemm;
  const FusedOps& ops;
  const float* sval;    // per scalar slot: its value for this run
  const float* sblock;  // per Splat slot: kBlock copies of its value (Const slots use their cblock)
};

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
  RunState(const FusedKernel& k, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out, const float* gemm);
  void range(int64_t i0, int64_t i1) const;
};

// Element i0 + i (i < n) of a broadcast/transpose view of src (dtype f32 or bool) into d[i].
void gather(const void* src, DType dt, const Gather& g, int64_t i0, int64_t n, float* d);

// The GEMM of a dot kernel (fused_kernel_dot.cpp). Returns true when the kernel is complete (no
// epilogue, or the epilogue ran inside the GEMM's tiles); otherwise *gemm is the GEMM result
// (prefilled bias included) and the caller runs the passes over it.
bool run_dot_gemm(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out,
                  const float** gemm);

}  // namespace fused_detail
}  // namespace jxla
