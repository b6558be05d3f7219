// fused_kernel.h - a compiled fused kernel: its instruction programs (per pass) and the code
// that runs them blockwise. See fused_kernel.cpp.
#pragma once
#include <memory>
#include <vector>
#include "passes/pass.h"
#include "runtime/buffer.h"

namespace jxla {

struct FusedKernel;
// Compiles one Loop/Row/Dot kernel of a plan.
std::shared_ptr<FusedKernel> compile_fused_kernel(const Kernel& k);
// Runs it: in[i] binds k.inputs[i], out[i] receives k.outputs[i] (allocated by the caller).
void run_fused_kernel(const FusedKernel& fk, const std::vector<const Buffer*>& in, const std::vector<Buffer*>& out);
// The hand-fused Adam update this kernel runs (fused_adam.h), or nullptr. The executable reads
// it to offer the update's p, m, v buffers for in-place writing (buffer donation).
struct AdamPlan;
const AdamPlan* fused_adam_plan(const FusedKernel& fk);
// Runs of kernels through JIT-compiled code (fused_jit.h) since the start of the process (tests
// check that the JIT path is the one exercised).
int64_t fused_jit_runs();
// Dot kernels on a 2-D GEMM tile grid (prepacked weights, or per-call operands where
// host_sgemm_grid_b_tiles applies) run the bias prefill and the element-wise epilogue inside
// each GEMM tile (gemm.h GemmTileHooks) instead of serial passes over C. On by default;
// JXLA_TILE_EPILOGUE=0 (read once) or tile_epilogue_set_enabled(false) turns it off (A/B runs,
// tests). Results are bit-identical either way.
bool tile_epilogue_enabled();
void tile_epilogue_set_enabled(bool on);
// Session 6: on those grids, an epilogue that is only a row bias and/or relu (matmul + bias +
// relu) is applied by the GEMM micro-kernel's stores instead (no prefill, no pass over C).
// JXLA_STORE_EPILOGUE=0 (read once) or store_epilogue_set_enabled(false) turns that off: the
// tile hooks then run it as before. Bit-identical either way. store_epilogue_runs counts the
// dot kernel runs that took it (tests).
bool store_epilogue_enabled();
void store_epilogue_set_enabled(bool on);
int64_t store_epilogue_runs();
// Consecutive dot kernels of an executable where kernel j's GEMM operand A is kernel j - 1's
// only output (an MLP's layers): run as ONE GEMM region (gemm.h host_sgemm_packed_chain) when
// every kernel takes the prepacked tile path and no kernel writes memory another one uses
// (other than that A). Returns false, having run nothing, when the chain does not apply; the
// caller then runs the kernels one by one. Results are bit-identical either way
// (JXLA_GEMM_CHAIN=0 turns it off).
struct FusedCall {
  const FusedKernel* fk;
  const std::vector<const Buffer*>* in;
  const std::vector<Buffer*>* out;
};
bool run_fused_dot_chain(const std::vector<FusedCall>& calls);
// A dot kernel's input index of its GEMM operand A (-1 for other kernels).
int fused_dot_a(const FusedKernel& fk);

}  // namespace jxla
