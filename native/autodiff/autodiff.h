// autodiff.h - reverse-mode automatic differentiation on the lazy IR.
// vjp() walks the graph of y backwards and builds the gradient as NEW IR (through build()/b_*),
// so gradients stay lazy: forward, backward and an optimizer update trace into one graph.
// Invariants: the forward nodes are never changed; a gradient has the dtype and shape of the
// node it belongs to; only floating-point nodes carry gradients (integer/bool paths are cut);
// a Convert node with attribute stop_gradient=1 (made by stop_gradient()) cuts the path too.
#pragma once
#include <vector>
#include "ir/node.h"

namespace jxla {

// Vector-Jacobian product: the gradient of sum(y * ct) with respect to each node of wrt.
// ct must have y's shape and dtype. An entry of the result is nullptr when y does not depend
// on that node (PyTorch leaves such a .grad untouched).
std::vector<NodeRef> vjp(const NodeRef& y, const NodeRef& ct, const std::vector<NodeRef>& wrt);

// Gradient of a floating-point scalar (numel 1) loss: vjp with a cotangent of ones.
std::vector<NodeRef> grad(const NodeRef& loss, const std::vector<NodeRef>& wrt);

// Identity in value whose gradient is zero (Tensor.detach() of a pending tensor). A data leaf
// becomes a fresh leaf over the same buffer instead (no node needed).
NodeRef stop_gradient(const NodeRef& x);
bool is_stop_gradient(const Node& n);

// The per-op rule: cotangents for each input of n (nullptr = no gradient), given the
// cotangent g of n. need[i] tells whether input i needs one (rules may skip the others).
// Implemented in vjp_rules.cpp (element-wise, shape, indexing, reductions, dot) and
// vjp_conv.cpp (conv2d, pools).
std::vector<NodeRef> vjp_rule(const NodeRef& n, const NodeRef& g, const std::vector<bool>& need);
std::vector<NodeRef> vjp_conv_pool(const NodeRef& n, const NodeRef& g, const std::vector<bool>& need);

}  // namespace jxla
