// reference_internal.h - kernels shared between the reference interpreter's files.
#pragma once
#include "ir/node.h"
#include "runtime/buffer.h"

namespace jxla {

void ref_dot(const Node& n, const Buffer& l, const Buffer& r, Buffer& out);
void ref_conv2d(const Node& n, const Buffer& x, const Buffer& w, Buffer& out);
void ref_pool2d(const Node& n, const Buffer& x, Buffer& out);
// Copies x permuted by perm (out dim i = x dim perm[i]) into a new buffer of x's dtype.
BufferRef permute_buffer(const Buffer& x, const std::vector<int64_t>& perm);

}  // namespace jxla
