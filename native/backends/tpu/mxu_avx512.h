// mxu_avx512.h - AVX-512 pass kernels of the MXU engine, each bit-identical to
// mxu_pass_reference under a condition packing proves (mxu_kernel.cpp chooses per pass):
//  * Fma512: f32 FMA on zmm over the same f32 panels as the AVX2 kernels, for passes whose
//    products are all exact (products_exact: then fma == mul + add, as for the AVX2 FMA kernel).
//  * Bf16Dp: VDPBF16PS (AVX512-BF16) over bf16 pair panels, for passes where dp_bf16_exact holds.
// Why VDPBF16PS and not AMX: a probe (test_tpu_mxu_amx; docs/tpu-model.md, session 7) showed
// that TDPBF16PS does NOT reproduce the k-ordered f32 chain (3372 of 8192 outputs on
// mixed-exponent bf16 data; only exactly representable sums agree), while VDPBF16PS matched
// 8192/8192 once each k pair is swapped: per the SDM it adds the odd element's product first,
// then the even one's, each product exact, each add rounded to nearest even, with DAZ on inputs
// and FTZ on outputs. A pair word (x_k, x_k+1) therefore holds bf16(x_k) in its HIGH half
// (element 2i+1, added first) and bf16(x_k+1) in its LOW half; an odd K is padded with a +0 term
// (acc + +0 == acc: the chain starts from +0 and is never -0).
// Measured here, VDPBF16PS zmm retires about one per 0.8 ns against two zmm FMAs per 0.4 ns, so
// Fma512 is preferred and Bf16Dp runs only where Fma512 is switched off (JXLA_TPU_AVX512=0).
// Both kernels are 6 rows x 32 columns (two 16-column W panels, 12 zmm accumulators); the loop
// nest and the combination epilogue are those of mxu_kernel.cpp's run_task.
#pragma once
#include <cstdint>
#include "backends/tpu/mxu_kernel.h"

namespace jxla {
namespace tpu {

// Blocking shared with the AVX2 engine: all kernels read panels at the same offsets.
namespace mxu_blocking {
constexpr int64_t MR = 6, NR = 16;
constexpr int64_t KC = 256, MC = 144, NC = 512;
}  // namespace mxu_blocking

enum class Kernel512 : uint8_t { Fma512, Bf16Dp };

// CPU and OS support (CPUID leaf 7, XGETBV; run-time checks, nothing assumed at build time).
bool mxu_avx512_available();  // AVX-512F
bool mxu_bf16_available();    // AVX-512F and AVX512-BF16
// Available and not switched off by env (JXLA_TPU_AVX512=0; JXLA_TPU_BF16=0 or JXLA_TPU_AMX=0
// for the VDPBF16PS kernel) nor by the setters below (tests, benchmarks).
bool mxu_avx512_enabled();
bool mxu_bf16_enabled();
void set_mxu_avx512_allowed(bool on);
void set_mxu_bf16_allowed(bool on);
// Micro-kernel calls made by each kernel since process start (tests check that it really ran).
uint64_t mxu_avx512_calls(Kernel512 k);

// Converts the f32 packed A panels [p0, p1) of one batch (mxu_kernel.cpp layout: chunk q at
// k0 * Mp, panel p at p * kcs * MR, [kk][MR]) to bf16 pairs at the same offsets ([kk/2][MR]).
void bf16_pack_a(const float* src, uint32_t* dst, int64_t Mp, int64_t K, int64_t p0, int64_t p1);
// The same for W panels ([kk][NR] -> [kk/2][NR]).
void bf16_pack_w(const float* src, uint32_t* dst, int64_t Np, int64_t K, int64_t p0, int64_t p1);

// One pass over a task's block (rows [r0, r1), columns [c0, c1), aligned to MR / NR), loop
// nest and epilogue as mxu_kernel.cpp's run_task: partial sums of k chunks before the last go
// to `mid`; the last chunk writes c = (comb ? c + pass : pass), then NaN -> 0 if nz, then the
// epilogue if epi (the dot's last step only).
// A / W: f32 panels (Fma512) or bf16 pair panels (Bf16Dp), batch-offset by the caller.
void avx512_pass_task(Kernel512 k, const void* A, const void* W, int64_t M, int64_t K, int64_t N, int64_t Mp,
                      int64_t Np, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float* c, float* mid, bool comb,
                      bool nz, const MxuEpilogue* epi);

}  // namespace tpu
}  // namespace jxla
