// dce.cpp - dead code elimination: drops every node no output depends on. Parameters stay
// (the parameter list is part of the executable's calling convention).
#include <unordered_set>
#include "passes/pass.h"

namespace jxla {
namespace {
class Dce final : public Pass {
 public:
  const char* name() const override { return "dce"; }
  bool run(Graph& g) override {
    std::vector<const Node*> roots;
    for (auto& o : g.outputs) roots.push_back(o.get());
    std::vector<const Node*> live = topo_order(roots);
    std::unordered_set<const Node*> keep(live.begin(), live.end());
    for (auto& p : g.params) keep.insert(p.get());
    std::vector<NodeRef> nodes;
    for (auto& n : g.nodes) if (keep.count(n.get())) nodes.push_back(n);
    bool changed = nodes.size() != g.nodes.size();
    g.nodes = std::move(nodes);
    return changed;
  }
};
}  // namespace
std::unique_ptr<Pass> make_dce_pass() { return std::make_unique<Dce>(); }
}  // namespace jxla
