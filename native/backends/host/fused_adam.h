// fused_adam.h - the Adam update of one parameter recognized inside a fused loop/dot kernel and
// run as ONE hand-fused vector loop instead of the interpreter's op-by-op block passes (the
// interpreter streams every intermediate through an 8 KiB register block: about 4x slower on
// this 14-op expression, measured in docs/training.md). The pattern is exactly what
// optim/Adam.java traces (no weight decay):
//   m' = m*b1 + g*c1;  v' = v*b2 + (g*g)*c2;  p' = p - lr*((m'*s1) / (sqrt(v'*s2) + eps))
// with b1..lr scalars (broadcast one-element inputs or constants) and p, m, v, g full-size f32
// streams (kernel inputs or reshapes of them, or g = the kernel's GEMM result). Operands of add/mul may come in either
// order (IEEE add and mul are commutative, so the result is the same bit for bit). The loop
// performs the same f32 operations as the IR, each correctly rounded, never contracted into an
// FMA: its results equal the reference interpreter's exactly (native/tests/test_fused_adam.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include "passes/pass.h"

namespace jxla {

// Where an operand of the fused loop comes from at run time.
struct AdamSrc {
  enum Kind { Input, Gemm, Scalar } kind = Input;
  int index = -1;  // Input: kernel input index; Scalar: the kernel's scalar slot
};

struct AdamPlan {
  AdamSrc p, m, v, g;                        // streams
  AdamSrc b1, c1, s1, b2, c2, s2, eps, lr;   // scalars
  int out_p = -1, out_m = -1, out_v = -1;    // kernel output index of p', m', v' (-1: not written)
};

// Classifies an operand node of the pattern: a stream (full-size f32 input or the GEMM result)
// or a scalar; false for anything else (then the pattern does not match).
using AdamClassify = std::function<bool(const Node*, AdamSrc*)>;

// True (and *plan filled) when kernel k computes exactly one Adam update: its root is p', its
// outputs are among p', m', v', and every member is part of the pattern, a scalar or the GEMM.
bool match_adam(const Kernel& k, const AdamClassify& classify, AdamPlan* plan);

// Runs elements [i0, i1) of the update. in: p, m, v, g; s: b1, c1, s1, b2, c2, s2, eps, lr;
// out: p', m', v' (nullptr: not written). An output may alias an input (in-place update).
void run_adam(const float* const in[4], const float s[8], float* const out[3], int64_t i0, int64_t i1);

}  // namespace jxla
