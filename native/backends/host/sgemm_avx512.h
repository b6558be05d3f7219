// sgemm_avx512.h - AVX-512 micro-kernels for JXLA's f32 GEMM (sgemm_avx2.cpp's macro-kernel
// calls them on two adjacent 16-column B micro-panels at once when the CPU has AVX-512F, and on
// the last single or partial panel with a column mask).
// Invariants:
//  - Same packed layouts as the AVX2 kernels (sgemm_asrc.h): the R x 32 kernel reads B panels
//    pb (columns 0..15) and pb + 16 kc (columns 16..31), both k-major, and A through an ASrc.
//  - Same arithmetic per element: one FMA chain from 0 over k in order, then c = s, c + s or
//    bias + s, then relu (x if x > 0 or NaN, else +0). A zmm FMA rounds each lane exactly like a
//    ymm FMA, so results are bit-identical to the AVX2 path (test_sgemm_avx512 checks it).
//  - Compiled with target("avx512f"); run only when sgemm_avx512_enabled() (checked at run time).
#pragma once
#include <cstdint>
#include "backends/host/sgemm_asrc.h"

namespace jxla {

// True when the CPU has AVX-512F (and the OS saves zmm state: __builtin_cpu_supports checks
// both through XGETBV).
bool sgemm_avx512_available();
// Whether the GEMM uses the AVX-512 kernels: available and not turned off by
// JXLA_GEMM_ISA=avx2 (read once). Tests switch it with sgemm_avx512_set_enabled.
bool sgemm_avx512_enabled();
// Turns the AVX-512 kernels on (only if available) or off; returns the previous setting.
// Callers must not race it with running GEMMs (tests set it between calls).
bool sgemm_avx512_set_enabled(bool on);

// C[0..R, 0..32) (ldc) = op(A) rows x the two B panels over kc, stored as described above
// (overwrite: c = s; else c + s; bias, if set: bias + s, beta 0 only; relu: on the stores).
// R in 1..6.
void sgemm_avx512_rx32(int R, int64_t kc, sgemm::PackedA a, const float* pb, float* c, int64_t ldc, bool overwrite,
                       const float* bias, bool relu);
void sgemm_avx512_rx32(int R, int64_t kc, sgemm::RowsA a, const float* pb, float* c, int64_t ldc, bool overwrite,
                       const float* bias, bool relu);
void sgemm_avx512_rx32(int R, int64_t kc, sgemm::RowsAEdge a, const float* pb, float* c, int64_t ldc, bool overwrite,
                       const float* bias, bool relu);

// C[0..R, 0..nr) = the same over ONE B panel pb (16 columns, of which the first nr in 1..16 are
// stored; the rest of C is not touched): the last single or partial panel of a block.
void sgemm_avx512_rx16(int R, int nr, int64_t kc, sgemm::PackedA a, const float* pb, float* c, int64_t ldc,
                       bool overwrite, const float* bias, bool relu);
void sgemm_avx512_rx16(int R, int nr, int64_t kc, sgemm::RowsA a, const float* pb, float* c, int64_t ldc,
                       bool overwrite, const float* bias, bool relu);
void sgemm_avx512_rx16(int R, int nr, int64_t kc, sgemm::RowsAEdge a, const float* pb, float* c, int64_t ldc,
                       bool overwrite, const float* bias, bool relu);

}  // namespace jxla
