// rewrite.cpp - the graph rebuild shared by the rewriting passes. Nodes are immutable and
// hash-consed, so a rewrite maps each old node to a new one bottom-up; identical results merge
// on their own (make_node returns the live twin), which is why CSE is mostly this rebuild.
// Invariant kept: parameters map to themselves; outputs keep their dtype and shape.
#include <unordered_map>
#include <unordered_set>
#include "ir/error.h"
#include "passes/pass.h"

namespace jxla {

NodeRef with_inputs(const NodeRef& n, std::vector<NodeRef> in) {
  bool same = in.size() == n->inputs.size();
  for (size_t i = 0; same && i < in.size(); ++i) same = in[i] == n->inputs[i];
  if (same) return n;
  return make_node(n->op, n->dtype, n->shape, std::move(in), n->attrs, n->device);
}

bool is_full(const Node* n) { return n->op == Op::Full; }
double full_value(const Node* n) { return n->attrs.get_float("full", "value"); }

bool rewrite_graph(Graph& g, const RewriteFn& f) {
  std::unordered_map<const Node*, NodeRef> map;
  bool changed = false;
  std::vector<const Node*> roots;
  std::vector<NodeRef> keep;  // the new nodes stay alive until the graph owns them
  for (const NodeRef& n : g.nodes) {
    NodeRef m;
    if (n->op == Op::Parameter) {
      m = n;
    } else {
      std::vector<NodeRef> in;
      in.reserve(n->inputs.size());
      for (auto& i : n->inputs) in.push_back(map.at(i.get()));
      m = f(n, in);
      if (!m) m = with_inputs(n, std::move(in));
      if (m->dtype != n->dtype || m->shape != n->shape)
        internal("rewrite: ", op_name(n->op), " was replaced by ", op_name(m->op), " of another type ",
                 dtype_name(m->dtype), shape_str(m->shape));
    }
    if (m != n) changed = true;
    map[n.get()] = m;
    keep.push_back(m);
    roots.push_back(m.get());
  }
  std::vector<NodeRef> outs;
  for (auto& o : g.outputs) outs.push_back(map.at(o.get()));
  // topological order of everything (dead nodes included; DCE drops them), each node once
  std::vector<const Node*> order = topo_order(roots);
  std::unordered_map<const Node*, NodeRef> owner;
  for (auto& k : keep) owner[k.get()] = k;
  // nodes created inside a replacement are owned through their users' input lists
  for (const Node* u : order)
    for (auto& in : u->inputs) owner.emplace(in.get(), in);
  std::vector<NodeRef> nodes;
  nodes.reserve(order.size());
  for (const Node* n : order) {
    auto it = owner.find(n);
    if (it == owner.end()) internal("rewrite: lost a node");
    nodes.push_back(it->second);
  }
  if (nodes.size() != g.nodes.size()) changed = true;
  g.nodes = std::move(nodes);
  g.outputs = std::move(outs);
  return changed;
}

}  // namespace jxla
