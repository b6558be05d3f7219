// test_dispatch.cpp - the data structures of the dispatch fast path: topo_order/capture with
// their per-thread flat node index (graphs larger than its first table, so it grows; repeated
// captures reuse it), and the registry's intrusive PendingSet (insert, swap-remove in any order,
// idempotent erase, sync of what is left). Independent references: a naive O(n^2) order check
// and a recount of the live tensors.
#include <algorithm>
#include <random>
#include <vector>
#include "ir/builder.h"
#include "ir/graph.h"
#include "runtime/buffer.h"
#include "runtime/device.h"
#include "runtime/lazy.h"
#include "tests/check.h"

using namespace jxla;

static NodeRef leaf(int64_t n) {
  BufferRef b = alloc_buffer(DType::F32, {n}, host_device());
  std::fill(b->as<float>(), b->as<float>() + n, 1.5f);
  return make_data(b);
}

// A DAG with sharing: node i reads nodes i-1 and i/2 (diamonds everywhere).
static std::vector<NodeRef> dag(const NodeRef& x, int n) {
  std::vector<NodeRef> v{x};
  for (int i = 1; i < n; ++i) v.push_back(b_binary(i % 2 ? Op::Add : Op::Mul, v[i - 1], v[i / 2]));
  return v;
}

static bool inputs_first(const std::vector<const Node*>& order) {
  for (size_t i = 0; i < order.size(); ++i)
    for (auto& in : order[i]->inputs) {
      auto it = std::find(order.begin(), order.end(), in.get());
      if (it == order.end() || it >= order.begin() + static_cast<long>(i)) return false;
    }
  return true;
}

int main() {
  NodeRef x = leaf(4), y = leaf(4);
  // topo order: every node once, inputs first, across a graph 10x the index's first table
  std::vector<NodeRef> g = dag(x, 700);
  std::vector<const Node*> order = topo_order({g.back().get(), g[350].get(), g.back().get()});
  CHECK_EQ(order.size(), static_cast<size_t>(700));
  CHECK(inputs_first(order));
  std::vector<const Node*> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());

  // capture: the same structure over other data has the same fingerprint, a different one not;
  // a small capture in between (the index shrinks its use, not its table) changes nothing
  Capture c1 = capture({g.back().get()});
  CHECK_EQ(c1.data_leaves.size(), static_cast<size_t>(1));
  Capture small = capture({b_unary(Op::Exp, y).get()});
  CHECK(small.fingerprint != c1.fingerprint);
  std::vector<NodeRef> g2 = dag(y, 700);
  Capture c2 = capture({g2.back().get()});
  CHECK_EQ(c2.fingerprint, c1.fingerprint);
  CHECK_EQ(c2.fingerprint2, c1.fingerprint2);
  CHECK(c2.data_leaves[0] == y.get());
  std::vector<NodeRef> g3 = dag(y, 699);
  CHECK(capture({g3.back().get()}).fingerprint != c1.fingerprint);
  // the roots' order is part of the fingerprint
  Capture ab = capture({g[10].get(), g[20].get()}), ba = capture({g[20].get(), g[10].get()});
  CHECK(ab.fingerprint != ba.fingerprint);

  // PendingSet through the registry: 500 pending tensors freed in a shuffled order
  int64_t base_pending = pending_tensor_count(), base_live = live_tensor_count();
  std::vector<TensorImpl*> ts;
  for (int i = 0; i < 500; ++i) ts.push_back(tensor_new(b_binary(Op::Add, x, i % 2 ? y : x)));
  ts.push_back(tensor_new(leaf(2)));  // data: never pending
  CHECK_EQ(pending_tensor_count(), base_pending + 500);
  CHECK_EQ(live_tensor_count(), base_live + 501);
  std::mt19937 rng(7);
  std::shuffle(ts.begin(), ts.end() - 1, rng);
  for (int i = 0; i < 300; ++i) tensor_free(ts[i]);
  CHECK_EQ(pending_tensor_count(), base_pending + 200);
  // re-assigning a pending tensor keeps it registered once
  tensor_assign(ts[300], b_binary(Op::Mul, x, y));
  CHECK_EQ(pending_tensor_count(), base_pending + 200);
  // assigning data drops it from the registry
  tensor_assign(ts[301], leaf(4));
  CHECK_EQ(pending_tensor_count(), base_pending + 199);
  sync_thread();  // materializes the 199 left and empties the registry
  CHECK_EQ(pending_tensor_count(), static_cast<int64_t>(0));
  for (size_t i = 300; i < ts.size(); ++i) {
    CHECK(ts[i]->get()->is_data());
    tensor_free(ts[i]);
  }
  CHECK_EQ(live_tensor_count(), base_live);
  return check_finish();
}
