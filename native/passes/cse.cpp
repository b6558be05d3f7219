// cse.cpp - common subexpression elimination. Hash-consing already merges structurally equal
// nodes when they are built, so this pass (1) puts the operands of commutative ops in a
// canonical order (a+b and b+a become one node) and (2) rebuilds the graph, letting
// make_node merge what became equal, then drops duplicates from the node list.
#include <unordered_map>
#include "passes/pass.h"

namespace jxla {
namespace {
bool commutative(Op op) {
  switch (op) {
    case Op::Add: case Op::Mul: case Op::Max: case Op::Min: case Op::Eq: case Op::Ne:
    case Op::And: case Op::Or: case Op::Xor: return true;
    default: return false;
  }
}

class Cse final : public Pass {
 public:
  const char* name() const override { return "cse"; }
  bool run(Graph& g) override {
    // canonical operand order: by position in the (topological) node list
    std::unordered_map<const Node*, size_t> pos;
    for (size_t i = 0; i < g.nodes.size(); ++i) pos[g.nodes[i].get()] = i;
    size_t before = g.nodes.size();
    bool changed = rewrite_graph(g, [&](const NodeRef& n, const std::vector<NodeRef>& in) -> NodeRef {
      if (!commutative(n->op) || in.size() != 2) return nullptr;
      auto rank = [&](const NodeRef& x) {
        auto it = pos.find(x.get());
        return it == pos.end() ? SIZE_MAX : it->second;  // nodes new to this rebuild go last
      };
      if (rank(in[1]) < rank(in[0])) return with_inputs(n, {in[1], in[0]});
      return nullptr;
    });
    return changed || g.nodes.size() != before;
  }
};
}  // namespace
std::unique_ptr<Pass> make_cse_pass() { return std::make_unique<Cse>(); }
}  // namespace jxla
