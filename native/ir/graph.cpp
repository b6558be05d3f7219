// graph.cpp - topological ordering, capture + fingerprint of live IR, canonicalization, verifier.
// topo_order and capture run on every sync, so they index nodes with a flat open-addressing
// table kept per thread (no per-node heap allocation, no rehash once warm); see PtrIndex.
#include "ir/graph.h"
#include <algorithm>
#include <unordered_map>
#include "ir/builder.h"
#include "ir/error.h"
#include "ir/hash.h"
#include "runtime/buffer.h"

namespace jxla {

namespace {
// Node* -> uint32 map with linear probing. clear() bumps a generation stamp instead of wiping
// the table, so a thread that syncs the same-sized graph every step never touches the allocator.
// Invariant: capacity is a power of two and at least twice the number of live keys.
class PtrIndex {
 public:
  void clear(size_t expect) {
    size_t want = 16;
    while (want < 2 * expect) want <<= 1;
    if (want > slots_.size()) { slots_.assign(want, Slot{}); gen_ = 0; }
    if (++gen_ == 0) { std::fill(slots_.begin(), slots_.end(), Slot{}); gen_ = 1; }
    size_ = 0;
  }
  // The value slot of key, inserted as 0 when absent.
  uint32_t& operator[](const Node* key) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    Slot* s = probe(key);
    if (s->gen != gen_) { s->gen = gen_; s->key = key; s->val = 0; ++size_; }
    return s->val;
  }
 private:
  struct Slot { const Node* key = nullptr; uint32_t gen = 0; uint32_t val = 0; };
  Slot* probe(const Node* key) {
    size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(hash_mix(reinterpret_cast<uintptr_t>(key))) & mask;
    while (slots_[i].gen == gen_ && slots_[i].key != key) i = (i + 1) & mask;
    return &slots_[i];
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    uint32_t g = gen_;
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    gen_ = 1;
    size_ = 0;
    for (const Slot& s : old) if (s.gen == g) { Slot* d = probe(s.key); *d = Slot{s.key, gen_, s.val}; ++size_; }
  }
  std::vector<Slot> slots_;
  uint32_t gen_ = 0;
  size_t size_ = 0;
};
thread_local PtrIndex t_state, t_pos;
}  // namespace

std::vector<const Node*> topo_order(const std::vector<const Node*>& roots) {
  std::vector<const Node*> order;
  PtrIndex& state = t_state;  // 1 = on stack, 2 = done
  state.clear(64);
  std::vector<std::pair<const Node*, size_t>> st;
  for (const Node* r : roots) {
    if (state[r] == 2) continue;
    st.push_back({r, 0});
    state[r] = 1;
    while (!st.empty()) {
      auto& top = st.back();
      const Node* n = top.first;
      if (top.second < n->inputs.size()) {
        const Node* c = n->inputs[top.second++].get();
        uint32_t& s = state[c];
        if (s == 0) { s = 1; st.push_back({c, 0}); }
        continue;
      }
      state[n] = 2;
      order.push_back(n);
      st.pop_back();
    }
  }
  return order;
}

Capture capture(const std::vector<const Node*>& roots) {
  Capture c;
  c.roots = roots;
  c.order = topo_order(roots);
  PtrIndex& pos = t_pos;
  pos.clear(c.order.size());
  uint64_t h = 0x12345678abcdefULL, h2 = 0xfedcba9876543210ULL;
  c.refs.assign(c.order.size(), 0);
  c.in_pos.reserve(c.order.size() * 2);
  for (size_t i = 0; i < c.order.size(); ++i) {
    const Node* n = c.order[i];
    pos[n] = static_cast<uint32_t>(i);
    uint64_t v = n->local_hash;
    if (n->is_data()) { v = hash_combine(v, 0xda7a); c.data_leaves.push_back(n); }
    h = hash_combine(h, v);
    h2 = hash_combine(h2 ^ 0x5bd1e995, hash_mix(v + i));
    for (auto& in : n->inputs) {
      uint64_t p = pos[in.get()];
      ++c.refs[p];
      c.in_pos.push_back(static_cast<uint32_t>(p));
      h = hash_combine(h, p);
      h2 = hash_combine(h2, p * 31 + 7);
    }
  }
  h = hash_combine(h, 0x7);
  c.root_pos.reserve(roots.size());
  for (const Node* r : roots) {
    uint64_t p = pos[r];
    c.root_pos.push_back(static_cast<uint32_t>(p));
    h = hash_combine(h, p);
    h2 = hash_combine(h2, p + 1);
  }
  c.fingerprint = h;
  c.fingerprint2 = h2;
  return c;
}

Graph canonicalize(const Capture& c) {
  Graph g;
  std::unordered_map<const Node*, NodeRef> map;
  for (const Node* n : c.order) {
    if (n->is_data()) {
      Attrs a;
      a.set_int("index", static_cast<int64_t>(g.params.size()));
      a.set_str("dtype", dtype_name(n->dtype));
      a.set_ints("shape", n->shape);
      NodeRef p = make_node(Op::Parameter, n->dtype, n->shape, {}, std::move(a), n->device);
      g.params.push_back(p);
      map[n] = p;
      g.nodes.push_back(p);
      continue;
    }
    std::vector<NodeRef> in;
    for (auto& i : n->inputs) in.push_back(map.at(i.get()));
    NodeRef m = make_node(n->op, n->dtype, n->shape, std::move(in), n->attrs, n->device);
    map[n] = m;
    g.nodes.push_back(m);
  }
  for (const Node* r : c.roots) g.outputs.push_back(map.at(r));
  return g;
}

void verify(const Graph& g) {
  std::unordered_map<const Node*, size_t> pos;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node* n = g.nodes[i].get();
    if (pos.count(n)) internal("verifier: node %", i, " (", op_name(n->op), ") appears twice");
    for (auto& in : n->inputs)
      if (!pos.count(in.get())) internal("verifier: node %", i, " (", op_name(n->op), ") uses a value not defined before it");
    if (n->is_data()) internal("verifier: node %", i, " holds data in a canonical graph");
    if (n->op == Op::Parameter) {
      int64_t idx = n->attrs.get_int("parameter", "index");
      if (idx < 0 || idx >= static_cast<int64_t>(g.params.size()) || g.params[idx].get() != n)
        internal("verifier: parameter %", i, " has index ", idx, " not matching the parameter list");
    } else {
      Attrs a = n->attrs;
      TypeShape t;
      try {
        t = infer(n->op, n->inputs, a);
      } catch (const Error& e) {
        internal("verifier: node %", i, " (", op_name(n->op), ") fails its shape rule: ", e.what());
      }
      if (t.dtype != n->dtype || t.shape != n->shape)
        internal("verifier: node %", i, " (", op_name(n->op), ") is typed ", dtype_name(n->dtype), shape_str(n->shape),
                 " but its rule gives ", dtype_name(t.dtype), shape_str(t.shape));
    }
    pos[n] = i;
  }
  for (auto& p : g.params) if (!pos.count(p.get())) internal("verifier: a parameter is not in the node list");
  for (auto& o : g.outputs) if (!pos.count(o.get())) internal("verifier: an output is not in the node list");
}

}  // namespace jxla
