// node.cpp - the hash-cons table. Sharded, mutex-protected; a node's destructor removes its own
// entry. Lookups promote candidates with weak_from_this().lock(), which fails for a node whose
// last reference is already gone, so a dying node is never handed out again.
#include "ir/node.h"
#include <atomic>
#include <mutex>
#include <vector>
#include "ir/hash.h"
#include "runtime/buffer.h"

namespace jxla {

namespace {
constexpr int kShards = 16;
// A shard is a chained hash table whose chains run through the nodes themselves
// (Node::cons_next), so registering a node allocates nothing (docs/training.md "Session 4:
// tracing cost"). Buckets are picked with hash bits above the shard bits; the table doubles when
// it holds more nodes than buckets.
struct Shard {
  std::mutex mu;
  std::vector<Node*> buckets = std::vector<Node*>(64, nullptr);
  size_t count = 0;
  Node*& head(uint64_t h) { return buckets[(h >> 4) & (buckets.size() - 1)]; }
  void insert(Node* n) {
    if (++count > buckets.size()) {
      std::vector<Node*> old(buckets.size() * 2, nullptr);
      old.swap(buckets);
      for (Node* c : old)
        while (c) {
          Node* next = c->cons_next;
          Node*& h = head(c->cons_hash);
          c->cons_next = h;
          h = c;
          c = next;
        }
    }
    Node*& h = head(n->cons_hash);
    n->cons_next = h;
    h = n;
  }
  void remove(Node* n) {
    for (Node** p = &head(n->cons_hash); *p; p = &(*p)->cons_next)
      if (*p == n) { *p = n->cons_next; --count; return; }
  }
};
static_assert(kShards == 16, "Shard::head skips 4 shard bits");
Shard* shards() {
  static Shard* s = new Shard[kShards];  // immortal: nodes may die during static destruction
  return s;
}
std::atomic<int64_t> g_live{0};

uint64_t local_hash_of(Op op, DType dt, const Shape& sh, const Attrs& at, Device* dev) {
  uint64_t h = hash_combine(static_cast<uint64_t>(op), static_cast<uint64_t>(dt));
  h = hash_combine(h, hash_bytes(sh.data(), sh.size() * sizeof(int64_t)));
  h = hash_combine(h, sh.size());
  h = hash_combine(h, at.hash());
  return hash_combine(h, reinterpret_cast<uintptr_t>(dev));
}

bool same(const Node& n, Op op, DType dt, const Shape& sh, const std::vector<NodeRef>& in, const Attrs& at, Device* dev) {
  if (n.op != op || n.dtype != dt || n.device != dev || n.shape != sh || n.inputs.size() != in.size() || n.data) return false;
  for (size_t i = 0; i < in.size(); ++i) if (n.inputs[i].get() != in[i].get()) return false;
  return n.attrs == at;
}

// Releases a dying node's inputs without recursion: a long chain would otherwise overflow the
// stack, as each node's destructor releases its inputs. Released inputs go to a per-thread work
// list that the outermost destructor drains.
thread_local std::vector<NodeRef>* t_release = nullptr;
void release_inputs(std::vector<NodeRef> in) {
  if (t_release) {
    for (auto& x : in) t_release->push_back(std::move(x));
    return;
  }
  std::vector<NodeRef> work = std::move(in);
  t_release = &work;
  while (!work.empty()) {
    NodeRef x = std::move(work.back());
    work.pop_back();
    x.reset();
  }
  t_release = nullptr;
}
}  // namespace

// Nodes are made with std::make_shared (node and control block in ONE allocation, see
// docs/training.md "Session 4: tracing cost"), so the table bookkeeping lives in the destructor
// instead of a custom deleter. The destructor runs when the last strong reference is gone; the
// entry is removed first, under the shard lock, while every field is still intact, so a
// concurrent lookup either sees the entry (and lock() of the expired weak_this fails) or not.
Node::~Node() {
  if (consed) {
    Shard& s = shards()[cons_hash % kShards];
    std::lock_guard<std::mutex> g(s.mu);
    s.remove(this);
  }
  --g_live;
  release_inputs(std::move(inputs));
}

NodeRef make_node(Op op, DType dtype, Shape shape, std::vector<NodeRef> inputs, Attrs attrs, Device* dev) {
  uint64_t lh = local_hash_of(op, dtype, shape, attrs, dev);
  uint64_t ch = lh;
  for (auto& i : inputs) ch = hash_combine(ch, reinterpret_cast<uintptr_t>(i.get()));
  Shard& s = shards()[ch % kShards];
  std::lock_guard<std::mutex> g(s.mu);
  for (const Node* c = s.head(ch); c; c = c->cons_next) {
    if (c->cons_hash == ch && same(*c, op, dtype, shape, inputs, attrs, dev)) {
      if (auto sp = c->weak_from_this().lock()) return sp;
    }
  }
  std::shared_ptr<Node> n = std::make_shared<Node>();
  n->op = op; n->dtype = dtype; n->shape = std::move(shape); n->inputs = std::move(inputs);
  n->attrs = std::move(attrs); n->device = dev; n->local_hash = lh; n->cons_hash = ch;
  n->consed = true;
  ++g_live;
  s.insert(n.get());
  return n;
}

NodeRef make_data(std::shared_ptr<Buffer> buf) {
  std::shared_ptr<Node> n = std::make_shared<Node>();
  n->op = Op::Parameter; n->dtype = buf->dtype; n->shape = buf->shape; n->device = buf->device;
  n->local_hash = local_hash_of(Op::Parameter, n->dtype, n->shape, n->attrs, n->device);
  n->cons_hash = n->local_hash;
  n->data = std::move(buf);
  ++g_live;
  return n;
}

int64_t live_node_count() { return g_live.load(); }

}  // namespace jxla
