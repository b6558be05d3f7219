// reference_internal.h - kernels shared between the reference interpreter's files.
#pragma once
#include "ir/node.h"
#include "runtime/buffer.h"

namespace jxla {

void ref_dot(const Node& n, const Buffer& l, const Buffer& r, Buffer& out);
void ref_conv2d(const Node& n, const Buffer& x, const Buffer& w, Buffer& out);
void ref_pool2d(const Node& n, const Buffer& x, Buffer& out);
// top_k indices (reference_sort.cpp): s64 positions of the k largest/smallest along the axis.
void ref_top_k(const Node& n, const Buffer& x, Buffer& out);
// Copies x permuted by perm (out dim i = x dim perm[i]) into a new buffer of x's dtype.
BufferRef permute_buffer(const Buffer& x, const std::vector<int64_t>& perm);

// A dot_general as a batched matmul: the lhs permuted by lp is [B, M, K], the rhs permuted by
// rp is [B, K, N] (batch dims, then free dims, then contracting dims in attribute order).
struct DotLayout {
  int64_t B = 1, M = 1, K = 1, N = 1;
  std::vector<int64_t> lp, rp;
};
DotLayout dot_layout(const Node& n, const Shape& l, const Shape& r);

}  // namespace jxla
