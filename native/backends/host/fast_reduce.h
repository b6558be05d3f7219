// fast_reduce.h - fast paths for the reductions the fusion pass leaves as single kernels.
// Invariant: a fast path returns exactly the reference interpreter's bits (same accumulation
// type and order), or declines (returns false) and the caller evaluates the reference.
#pragma once
#include "ir/node.h"
#include "runtime/buffer.h"

namespace jxla {

// f32 reduce_sum/max/min over a leading run of axes (a column reduction such as a bias
// gradient): returns false when the node is anything else.
bool fast_reduce(const Node& n, const Buffer& x, Buffer& out);

}  // namespace jxla
