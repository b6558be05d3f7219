// autodiff.cpp - the reverse sweep: finds the nodes between y and the wrt set, visits them in
// reverse topological order, accumulates cotangents by addition and applies each op's VJP rule.
// Invariant: a node's cotangent is complete before its rule runs (reverse topo order), so every
// rule runs once per node.
#include "autodiff/autodiff.h"
#include <unordered_map>
#include <unordered_set>
#include "ir/builder.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/device.h"

namespace jxla {

NodeRef stop_gradient(const NodeRef& x) {
  if (x->is_data()) return make_data(x->data);
  Attrs a;
  a.set_str("dtype", dtype_name(x->dtype));
  a.set_int("stop_gradient", 1);
  // made directly: build() drops same-dtype converts, which would lose the marker
  return make_node(Op::Convert, x->dtype, x->shape, {x}, std::move(a), x->device);
}

bool is_stop_gradient(const Node& n) { return n.op == Op::Convert && n.attrs.get_int_or("stop_gradient", 0) != 0; }

std::vector<NodeRef> vjp(const NodeRef& y, const NodeRef& ct, const std::vector<NodeRef>& wrt) {
  if (!y || !ct) invalid("grad: null tensor");
  if (!is_float(y->dtype)) invalid("grad: the output must be floating point, got ", dtype_name(y->dtype), shape_str(y->shape));
  if (ct->shape != y->shape || ct->dtype != y->dtype)
    invalid("grad: the cotangent ", dtype_name(ct->dtype), shape_str(ct->shape), " must match the output ",
            dtype_name(y->dtype), shape_str(y->shape));
  std::unordered_set<const Node*> targets;
  for (size_t i = 0; i < wrt.size(); ++i) {
    if (!wrt[i]) invalid("grad: wrt tensor ", i, " is null");
    if (!is_float(wrt[i]->dtype))
      invalid("grad: wrt tensor ", i, " has dtype ", dtype_name(wrt[i]->dtype), shape_str(wrt[i]->shape),
              "; only floating-point tensors have gradients");
    if (wrt[i]->device != y->device)
      invalid("grad: wrt tensor ", i, " is on ", wrt[i]->device->name(), " but the output is on ", y->device->name());
    targets.insert(wrt[i].get());
  }
  if (y->is_data() && !targets.count(y.get()))
    invalid("grad: the output ", dtype_name(y->dtype), shape_str(y->shape),
            " is already materialized (a sync or a read consumed its graph); call backward before reading it or syncing");
  std::vector<const Node*> order = topo_order({y.get()});
  // relevant = lies on a path from a target to y through differentiable float nodes
  std::unordered_set<const Node*> relevant;
  for (const Node* n : order) {
    bool r = targets.count(n) > 0;
    if (!r && is_float(n->dtype) && n->info().differentiable && !is_stop_gradient(*n))
      for (auto& in : n->inputs) if (relevant.count(in.get())) { r = true; break; }
    if (r) relevant.insert(n);
  }
  std::unordered_map<const Node*, NodeRef> cot;
  if (relevant.count(y.get())) cot[y.get()] = ct;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node* n = *it;
    auto c = cot.find(n);
    if (c == cot.end() || n->inputs.empty() || !n->info().differentiable || is_stop_gradient(*n)) continue;
    std::vector<bool> need(n->inputs.size());
    bool any = false;
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      need[i] = relevant.count(n->inputs[i].get()) > 0 && is_float(n->inputs[i]->dtype);
      any = any || need[i];
    }
    if (!any) continue;
    NodeRef self = n->shared_from_this();
    std::vector<NodeRef> gs = vjp_rule(self, c->second, need);
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      if (!need[i] || !gs[i]) continue;
      const Node* in = n->inputs[i].get();
      if (gs[i]->shape != in->shape || gs[i]->dtype != in->dtype)
        internal("grad: the rule of ", op_name(n->op), " gave ", dtype_name(gs[i]->dtype), shape_str(gs[i]->shape),
                 " for operand ", i, " of type ", dtype_name(in->dtype), shape_str(in->shape));
      NodeRef& acc = cot[in];
      acc = acc ? b_binary(Op::Add, acc, gs[i]) : gs[i];
    }
    if (!targets.count(n)) cot.erase(c);  // free what is no longer needed
  }
  std::vector<NodeRef> out;
  for (auto& w : wrt) {
    auto c = cot.find(w.get());
    out.push_back(c == cot.end() ? nullptr : c->second);
  }
  return out;
}

std::vector<NodeRef> grad(const NodeRef& loss, const std::vector<NodeRef>& wrt) {
  if (!loss) invalid("grad: null loss");
  if (loss->numel() != 1)
    invalid("grad: the loss must have exactly one element, got ", dtype_name(loss->dtype), shape_str(loss->shape),
            "; pass a cotangent (vjp) for non-scalar outputs");
  if (!is_float(loss->dtype)) invalid("grad: the loss must be floating point, got ", dtype_name(loss->dtype), shape_str(loss->shape));
  return vjp(loss, b_full(1.0, loss->dtype, loss->shape, loss->device), wrt);
}

}  // namespace jxla
