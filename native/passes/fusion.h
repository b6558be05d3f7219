// fusion.h - shape facts the fusion pass and the fused executable agree on.
#pragma once
#include "ir/node.h"

namespace jxla {

// An element-wise (or reshape) node the fused engine computes in f32 (bool as 0/1).
bool fusible_elementwise(const Node* n);
// A broadcast/transpose the engine evaluates as an indexed load of a materialized operand.
bool fusible_load(const Node* n);
// A constant leaf the engine computes inline (full f32/bool, iota f32).
bool inline_leaf(const Node* n);
// A reduction over trailing axes: out has M elements, each reducing L contiguous inputs.
bool row_reduce(const Node* n, int64_t* M, int64_t* L);
// A broadcast whose output element i reads operand element i / L.
bool row_broadcast(const Node* n, int64_t L);
// A 2-D f32 dot_general the GEMM handles: out[M,N] = op(lhs)[M,K] * op(rhs)[K,N].
bool gemm_dot(const Node* n, bool* trans_a, bool* trans_b, int64_t* M, int64_t* N, int64_t* K);

}  // namespace jxla
