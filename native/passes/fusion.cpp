// fusion.cpp - the fusion pass: partitions the optimized graph into kernels (no graph change).
// Groups grow from a root (visited in reverse topological order, like XLA's instruction
// fusion) by absorbing producers whose every user is already in the group, so no node outside
// a group reads its non-root members and the kernel graph is acyclic. Members that are graph
// outputs are written as extra outputs of the kernel (multi-output fusion). Kinds:
//   loop:   element-wise/reshape chains plus broadcast/transpose loads of materialized values;
//   row:    a loop that also absorbed reductions over trailing axes reached through
//           row-broadcasts (softmax, layer norm, logsumexp: one kernel per row block);
//   dot:    a 2-D f32 GEMM whose element-wise consumers (bias, activation, residual) form an
//           epilogue applied to the GEMM output;
//   single: anything else, run by the reference kernel.
// Heuristics: never duplicate a computed producer (only constant leaves are duplicated), cap
// a kernel at kMaxNodes nodes, fuse nothing when fusion is off (JXLA_FUSION=0: one kernel per
// op; constant leaves stay inline in both modes, like scalar operands in eager frameworks).
#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include "passes/fusion.h"
#include "passes/pass.h"

namespace jxla {

namespace {
constexpr size_t kMaxNodes = 64;
bool fb(DType t) { return t == DType::F32 || t == DType::Bool; }
}  // namespace

bool fusible_elementwise(const Node* n) {
  for (auto& i : n->inputs) if (!fb(i->dtype)) return false;
  switch (n->info().kind) {
    case OpKind::Unary: case OpKind::UnaryFloat: case OpKind::Binary: case OpKind::Clamp:
      return n->dtype == DType::F32 && n->inputs[0]->dtype == DType::F32;
    case OpKind::UnaryLogical: case OpKind::Logical: return n->dtype == DType::Bool;
    case OpKind::Compare: return n->inputs[0]->dtype == DType::F32;
    case OpKind::Convert: case OpKind::Select: case OpKind::Reshape: return fb(n->dtype);
    default: return false;
  }
}

bool fusible_load(const Node* n) {
  return (n->op == Op::Broadcast || n->op == Op::Transpose) && fb(n->dtype);
}

bool inline_leaf(const Node* n) {
  return (n->op == Op::Full && fb(n->dtype)) || (n->op == Op::Iota && n->dtype == DType::F32);
}

bool row_reduce(const Node* n, int64_t* M, int64_t* L) {
  if (n->info().kind != OpKind::Reduce || n->dtype != DType::F32) return false;
  const Shape& xs = n->inputs[0]->shape;
  auto axes = n->attrs.get_ints("reduce", "axes");
  int64_t r = static_cast<int64_t>(xs.size()), k = static_cast<int64_t>(axes.size());
  for (int64_t i = 0; i < k; ++i) if (axes[i] != r - k + i) return false;  // trailing, sorted
  int64_t len = 1;
  for (int64_t i = r - k; i < r; ++i) len *= xs[i];
  if (len < 2 || n->numel() < 1) return false;
  *M = n->numel();
  *L = len;
  return true;
}

bool row_broadcast(const Node* n, int64_t L) {
  if (n->op != Op::Broadcast) return false;
  const Shape& S = n->shape;
  const Shape& xs = n->inputs[0]->shape;
  auto dims = n->attrs.get_ints("broadcast", "dims");
  std::vector<bool> kept(S.size(), false);
  for (size_t d = 0; d < xs.size(); ++d)
    if (xs[d] == S[dims[d]] && S[dims[d]] != 1) kept[dims[d]] = true;
  size_t k = 0;
  for (size_t j = 0; j < S.size(); ++j) if (kept[j]) k = j + 1;
  for (size_t j = 0; j < k; ++j) if (S[j] != 1 && !kept[j]) return false;
  int64_t tail = 1;
  for (size_t j = k; j < S.size(); ++j) tail *= S[j];
  return tail == L && L >= 2;
}

bool gemm_dot(const Node* n, bool* ta, bool* tb, int64_t* M, int64_t* N, int64_t* K) {
  if (n->op != Op::DotGeneral || n->dtype != DType::F32) return false;
  const Shape &l = n->inputs[0]->shape, &r = n->inputs[1]->shape;
  if (l.size() != 2 || r.size() != 2) return false;
  if (!n->attrs.get_ints_or("lhs_batch", {}).empty()) return false;
  auto lc = n->attrs.get_ints("dot_general", "lhs_contract"), rc = n->attrs.get_ints("dot_general", "rhs_contract");
  if (lc.size() != 1 || rc.size() != 1) return false;
  *ta = lc[0] == 0;
  *tb = rc[0] == 1;
  *M = l[*ta ? 1 : 0];
  *K = l[lc[0]];
  *N = r[*tb ? 0 : 1];
  return *M > 0 && *N > 0 && *K > 0;
}

namespace {
struct Group {
  Kernel::Kind kind;
  int64_t numel = 0, M = 1, L = 1;
  const Node* root = nullptr;
  const Node* dot = nullptr;
  std::unordered_set<const Node*> members;
};

class Fusion final : public Pass {
 public:
  explicit Fusion(CompileContext* ctx) : Pass(ctx) {}
  const char* name() const override { return "fusion"; }

  bool run(Graph& g) override {
    bool fuse = ctx_->fusion_enabled;
    std::unordered_map<const Node*, size_t> pos;
    std::unordered_map<const Node*, std::vector<const Node*>> users;
    std::unordered_set<const Node*> is_out;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      pos[g.nodes[i].get()] = i;
      for (auto& in : g.nodes[i]->inputs) users[in.get()].push_back(g.nodes[i].get());
    }
    for (auto& o : g.outputs) is_out.insert(o.get());
    std::vector<Group> groups;
    std::unordered_map<const Node*, int> owner;  // computed (non-leaf) node -> its group

    for (size_t i = g.nodes.size(); i-- > 0;) {
      const Node* n = g.nodes[i].get();
      if (n->op == Op::Parameter || owner.count(n) || inline_leaf(n)) continue;
      Group G;
      G.root = n;
      G.numel = n->numel();
      int64_t M, L;
      bool ta, tb;
      int64_t gm, gn, gk;
      if (fusible_elementwise(n) || fusible_load(n)) G.kind = Kernel::Loop;
      else if (row_reduce(n, &M, &L)) { G.kind = Kernel::Row; G.M = M; G.L = L; }
      else if (gemm_dot(n, &ta, &tb, &gm, &gn, &gk)) { G.kind = Kernel::Dot; G.dot = n; }
      else G.kind = Kernel::Single;
      G.members.insert(n);
      if (G.kind != Kernel::Single) grow(G, users, owner, fuse);
      int id = static_cast<int>(groups.size());
      for (const Node* m : G.members) if (!inline_leaf(m)) owner[m] = id;
      groups.push_back(std::move(G));
    }
    // constant leaves used by a kernel that does not inline them (or returned) are materialized
    for (auto& np : g.nodes) {
      const Node* n = np.get();
      if (!inline_leaf(n)) continue;
      bool need = is_out.count(n) > 0;
      for (const Node* u : users[n]) {
        auto it = owner.find(u);
        if (it == owner.end() || !groups[it->second].members.count(n)) need = true;
      }
      if (!need) continue;
      Group G;
      G.kind = Kernel::Single;
      G.root = n;
      G.members.insert(n);
      owner[n] = static_cast<int>(groups.size());
      groups.push_back(std::move(G));
    }
    std::sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) { return pos[a.root] < pos[b.root]; });
    FusionPlan plan;
    for (Group& G : groups) {
      Kernel k;
      k.kind = G.kind;
      k.rows = G.M;
      k.row_len = G.L;
      k.dot = G.dot;
      for (const Node* m : G.members) k.nodes.push_back(m);
      std::sort(k.nodes.begin(), k.nodes.end(), [&](const Node* a, const Node* b) { return pos[a] < pos[b]; });
      k.outputs.push_back(G.root);
      for (const Node* m : k.nodes)
        if (m != G.root && is_out.count(m) && !inline_leaf(m)) k.outputs.push_back(m);
      std::unordered_set<const Node*> seen;
      for (const Node* m : k.nodes)
        for (auto& in : m->inputs)
          if (!G.members.count(in.get()) && seen.insert(in.get()).second) k.inputs.push_back(in.get());
      plan.kernels.push_back(std::move(k));
    }
    ctx_->plan = std::move(plan);
    return false;  // the graph itself is unchanged
  }

 private:
  // May producer p (an input of member c) join G?
  bool absorbable(Group& G, const Node* c, const Node* p, const std::unordered_map<const Node*, std::vector<const Node*>>& users,
                  const std::unordered_map<const Node*, int>& owner) {
    if (p->op == Op::Parameter || owner.count(p) || G.members.size() >= kMaxNodes) return false;
    int64_t M, L;
    // the row length a row-broadcast consumer must have: the group's, or p's if p is the
    // reduction that turns a loop into a row kernel
    int64_t lstar = -1;
    if (G.kind == Kernel::Row) lstar = G.L;
    else if (G.kind == Kernel::Loop && c->op == Op::Broadcast && p->numel() > 0 && G.numel % p->numel() == 0)
      lstar = G.numel / p->numel();
    bool crb = lstar > 0 && row_broadcast(c, lstar);
    if (fusible_load(c) && !crb) return false;  // loads read materialized operands
    if (c == G.dot) return false;               // GEMM operands are materialized
    if (!inline_leaf(p)) {
      // a returned value may join: the kernel writes it as an extra output (multi-output
      // fusion: live intermediates of a lazy trace are outputs too)
      auto it = users.find(p);
      for (const Node* u : it->second) {
        if (!G.members.count(u)) return false;
        // a load member reads its operand from memory: that operand must stay materialized
        if (fusible_load(u) && !(lstar > 0 && row_broadcast(u, lstar))) return false;
        if (u == G.dot) return false;
      }
    }
    int64_t n = p->numel();
    bool ta, tb;
    int64_t gm, gn, gk;
    switch (G.kind) {
      case Kernel::Loop:
        if (n == G.numel && (fusible_elementwise(p) || fusible_load(p) || inline_leaf(p))) return true;
        if (crb && (fusible_elementwise(p) || inline_leaf(p) || (row_reduce(p, &M, &L) && L == lstar))) {
          G.kind = Kernel::Row; G.M = n; G.L = lstar;  // the loop becomes a row kernel
          return true;
        }
        if (gemm_dot(p, &ta, &tb, &gm, &gn, &gk) && n == G.numel && fusible_elementwise(c)) {
          G.kind = Kernel::Dot; G.dot = p;
          return true;
        }
        return false;
      case Kernel::Row: {
        int64_t full = G.M * G.L;
        if (crb) return n == G.M && (fusible_elementwise(p) || inline_leaf(p) || (row_reduce(p, &M, &L) && M == G.M && L == G.L));
        if (n != full && n != G.M) return false;
        if (fusible_elementwise(p) || fusible_load(p) || inline_leaf(p)) return true;
        return row_reduce(p, &M, &L) && M == G.M && L == G.L && n == G.M;
      }
      case Kernel::Dot:
        return n == G.numel && (fusible_elementwise(p) || fusible_load(p) || inline_leaf(p));
      default: return false;
    }
  }

  void grow(Group& G, const std::unordered_map<const Node*, std::vector<const Node*>>& users,
            const std::unordered_map<const Node*, int>& owner, bool fuse) {
    // to a fixed point: a producer joins once all its users have
    for (bool changed = true; changed;) {
      changed = false;
      std::vector<const Node*> cur(G.members.begin(), G.members.end());
      for (const Node* c : cur)
        for (auto& in : c->inputs) {
          const Node* p = in.get();
          if (G.members.count(p)) continue;
          if (!fuse && !inline_leaf(p)) continue;  // unfused: constants stay inline, nothing else joins
          if (absorbable(G, c, p, users, owner)) { G.members.insert(p); changed = true; }
        }
    }
  }
};
}  // namespace

std::unique_ptr<Pass> make_fusion_pass(CompileContext* ctx) { return std::make_unique<Fusion>(ctx); }

}  // namespace jxla
