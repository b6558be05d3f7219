// fused_ops.h - the vectorized per-op loops of the fused engine, one table per instruction set
// (AVX-512, AVX2+FMA, baseline x86-64), the best one chosen once at run time from the CPU's
// features (__builtin_cpu_supports). JXLA_ISA=avx512|avx2|sse2 forces a lower one (tests).
#pragma once
#include <cstdint>
#include "ir/op.h"

namespace jxla {

struct FusedOps {
  const char* isa;
  void (*unary)(Op op, float* d, const float* a, int64_t n);
  void (*binary)(Op op, float* d, const float* a, const float* b, int64_t n);
  // op(a[i], s), or op(s, a[i]) when s_first: one operand is a scalar for the whole block
  void (*binary_s)(Op op, float* d, const float* a, float s, bool s_first, int64_t n);
  // streaming copy (non-temporal stores) into a 16-byte aligned d; the caller fences
  void (*store_nt)(float* d, const float* a, int64_t n);
  void (*select)(float* d, const float* p, const float* a, const float* b, int64_t n);
  void (*clamp)(float* d, const float* x, const float* lo, const float* hi, int64_t n);
  double (*sum)(const float* a, int64_t n);
  float (*maxmin)(bool is_max, const float* a, int64_t n, float init);
};

const FusedOps& fused_ops();
// The table of one instruction set ("avx512", "avx2", "sse2"), or nullptr when this CPU lacks it
// (tests compare every available table with the reference).
const FusedOps* fused_ops_table(const char* isa);

}  // namespace jxla
