// mxu.h - the emulated MXU: f32 matmuls decomposed into bf16 passes exactly as XLA's
// dot_algorithm_rewriter defines them, each pass with exact bf16 x bf16 products accumulated in
// f32 in ascending k order (the emulator's definition of the MXU's accumulation order).
//   DEFAULT (0): 1 pass, operands rounded to bf16 (nearest even).
//   HIGH    (1): bf16_3x: x = hi + lo, hi = x with the low 16 bits cleared, lo = bf16(x - hi);
//                result = (lo.hi + hi.lo, NaN -> 0) + hi.hi.
//   HIGHEST (2): bf16_6x: x = hi + mid + lo (mid = trunc(x - hi), lo = bf16(x - hi - mid));
//                result = ((((mid.mid + hi.lo) + lo.hi) + hi.mid) + mid.hi, NaN -> 0) + hi.hi.
// The NaN -> 0 step keeps inf operands from turning into NaN through inf * 0 in the small terms.
// bf16 operands take one pass (their products are exact); f16 operands are widened to f32.
// Two engines compute every pass: the scalar reference (the spec) and the blocked AVX2 engine of
// mxu_kernel.h chosen at run time; both are bit-identical: each product is rounded once by an
// f32 mul (exact for bf16 operands) and each output gets one f32 add per product in ascending k.
#pragma once
#include <cstdint>
#include "ir/node.h"
#include "runtime/buffer.h"

namespace jxla {
namespace tpu {

constexpr int kPrecisionDefault = 0, kPrecisionHigh = 1, kPrecisionHighest = 2;

// The process-wide default for dots without a `precision` attribute (jxla_set_matmul_precision).
int default_precision();
void set_default_precision(int p);  // throws invalid() outside 0..2
// The precision of a dot/conv node: its attribute or the global default.
int node_precision(const Node& n);
// bf16 passes an MXU op of that operand dtype makes at that precision (1, 3 or 6).
int mxu_passes(DType dt, int precision);

float bf16_truncate(float x);  // x with the low 16 bits cleared (XLA's Truncate)
// Splits x into `terms` (1, 2 or 3) bf16 values stored as floats, as described above.
void split_bf16(float x, int terms, float* out);

// c[b] = a[b] (M x K) . w[b] (K x N), row-major, batch-major; operands already hold bf16 values.
void mxu_pass(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N);
void mxu_pass_reference(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N);
// True when mxu_pass / mxu_matmul_f32 use the blocked engine (CPU has AVX2, JXLA_TPU_FASTPATH
// is not 0 and set_mxu_fastpath did not turn it off).
bool mxu_vectorized();
// Turns the blocked engine on (where the CPU supports it) or off (the scalar reference).
void set_mxu_fastpath(bool on);
// Threads the blocked engine runs on (the host thread pool: JXLA_NUM_THREADS, default all cores).
int mxu_threads();
// Full f32 matmul at a precision (1, 3 or 6 passes and the XLA summation).
// pre_w (may be null): w split and packed for this precision by mxu_pack_w (mxu_kernel.h).
// epi (may be null): a bias add / relu applied to the result (MxuEpilogue, mxu_kernel.h).
struct MxuPackedW;
struct MxuEpilogue;
void mxu_matmul_f32(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N, int precision,
                    const MxuPackedW* pre_w = nullptr, const MxuEpilogue* epi = nullptr);
// mxu_dot packs the terms of a frozen (constant) f32 right-hand operand once and reuses them
// (counter TpuPrepackedWeights; JXLA_TPU_PREPACK=0, read once, or this setter: off). Same bits.
void mxu_set_weight_cache_enabled(bool on);
// The same with the scalar reference passes only (the spec the fast path is tested against).
void mxu_matmul_f32_reference(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N, int precision);

// The TPU executable applies a dense layer's bias add and relu in the dot's final stores
// (tpu_executable.cpp; counter TpuDotEpilogues). JXLA_TPU_EPILOGUE=0 (read once) or this
// setter: off (the add and relu run as their own reference kernels). Same bits either way.
bool mxu_epilogue_fusion_enabled();
void mxu_set_epilogue_fusion_enabled(bool on);

// dot_general / conv2d nodes with float operands (f32, bf16, f16) on the emulated MXU.
// epi (may be null; f32 operands and output only): applied to the f32 result, in the kernel's
// final stores when the bias runs along the kernel's columns, else in a pass afterwards.
bool mxu_supports(const Node& n);
void mxu_dot(const Node& n, const Buffer& l, const Buffer& r, Buffer& out, int precision,
             const MxuEpilogue* epi = nullptr);
void mxu_conv2d(const Node& n, const Buffer& x, const Buffer& w, Buffer& out, int precision);

}  // namespace tpu
}  // namespace jxla
