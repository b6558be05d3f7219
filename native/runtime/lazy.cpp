// lazy.cpp - registry bookkeeping, graph capture and execution of pending tensors.
#include "runtime/lazy.h"
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/device.h"
#include "runtime/executable.h"
#include "runtime/metrics.h"

namespace jxla {

namespace {
std::atomic<int64_t> g_live_tensors{0};
std::atomic<uint64_t> g_tensor_seq{0};
thread_local std::shared_ptr<Registry> t_reg;
Registry* this_thread_registry(std::shared_ptr<Registry>* out) {
  if (!t_reg) t_reg = std::make_shared<Registry>();
  *out = t_reg;
  return t_reg.get();
}

// Runs the roots (all on dev) as one graph; returns one buffer per root.
std::vector<BufferRef> execute_roots(const std::vector<const Node*>& roots, Device* dev) {
  Capture cap = capture(roots);
  metric_record("TensorsGraphSize", static_cast<double>(cap.order.size()), MetricUnit::Count);
  std::shared_ptr<Executable> exe = compile_cached(cap, dev);
  std::vector<BufferRef> params;
  params.reserve(cap.data_leaves.size());
  for (const Node* n : cap.data_leaves) params.push_back(n->data);
  int64_t t0 = now_ns();
  std::vector<BufferRef> outs = exe->run(params);
  metric_record("ExecuteTime", static_cast<double>(now_ns() - t0));
  counter_add("KernelCount", exe->kernel_count());
  return outs;
}

// Materializes tensors whose registries are already locked by the caller.
void materialize(const std::vector<TensorImpl*>& ts) {
  // group pending roots by device
  std::map<Device*, std::vector<TensorImpl*>> by_dev;
  for (TensorImpl* t : ts) {
    NodeRef n = t->get();
    if (!n->is_data()) by_dev[n->device].push_back(t);
  }
  for (auto& kv : by_dev) {
    std::vector<NodeRef> keep;  // holds the nodes alive during execution
    std::vector<const Node*> roots;
    for (TensorImpl* t : kv.second) { keep.push_back(t->get()); roots.push_back(keep.back().get()); }
    std::vector<BufferRef> outs = execute_roots(roots, kv.first);
    for (size_t i = 0; i < roots.size(); ++i) {
      // one data leaf per tensor (sharing the buffer): two handles that held the same pending
      // node must not become one autodiff variable after the sync
      NodeRef d = make_data(outs[i]);
      TensorImpl* t = kv.second[i];
      std::lock_guard<std::mutex> g(t->mu);
      t->node = d;
    }
  }
}
}  // namespace

TensorImpl* tensor_new(NodeRef node) {
  auto* t = new TensorImpl();
  bool pending = !node->is_data();
  t->node = std::move(node);
  t->seq = ++g_tensor_seq;
  ++g_live_tensors;
  if (pending) {
    std::shared_ptr<Registry> r;
    Registry* reg = this_thread_registry(&r);
    std::lock_guard<std::mutex> g(reg->mu);
    reg->pending.insert(t);
    t->reg = std::move(r);
  }
  return t;
}

void tensor_free(TensorImpl* t) {
  if (!t) return;
  if (t->reg) {
    std::lock_guard<std::mutex> g(t->reg->mu);
    t->reg->pending.erase(t);
  }
  t->magic = 0;
  --g_live_tensors;
  delete t;
}

int64_t live_tensor_count() { return g_live_tensors.load(); }

void sync_thread() {
  std::shared_ptr<Registry> r;
  Registry* reg = this_thread_registry(&r);
  std::lock_guard<std::mutex> g(reg->mu);
  counter_add("MarkStep");
  std::vector<TensorImpl*> ts;
  for (TensorImpl* t : reg->pending) if (!t->get()->is_data()) ts.push_back(t);
  // deterministic order: by creation sequence, so equal programs give equal fingerprints
  std::sort(ts.begin(), ts.end(), [](const TensorImpl* a, const TensorImpl* b) { return a->seq < b->seq; });
  materialize(ts);
  for (TensorImpl* t : ts) { reg->pending.erase(t); t->reg.reset(); }
  // drop entries that were materialized by reads
  for (auto it = reg->pending.begin(); it != reg->pending.end();) {
    if ((*it)->get()->is_data()) { (*it)->reg.reset(); it = reg->pending.erase(it); }
    else ++it;
  }
}

void sync_tensors(const std::vector<TensorImpl*>& ts) {
  // lock every distinct registry involved, in address order
  std::vector<std::shared_ptr<Registry>> regs;
  for (TensorImpl* t : ts) {
    std::lock_guard<std::mutex> g(t->mu);
    if (t->reg && std::find(regs.begin(), regs.end(), t->reg) == regs.end()) regs.push_back(t->reg);
  }
  std::sort(regs.begin(), regs.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  for (auto& r : regs) locks.emplace_back(r->mu);
  materialize(ts);
}

void tensor_assign(TensorImpl* t, NodeRef node) {
  bool pending = !node->is_data();
  std::shared_ptr<Registry> r;
  if (pending) this_thread_registry(&r);
  std::shared_ptr<Registry> old;
  {
    std::lock_guard<std::mutex> g(t->mu);
    old = t->reg;
  }
  if (old && old != r) {  // leave the old registry (another thread's, or none needed now)
    std::lock_guard<std::mutex> g(old->mu);
    old->pending.erase(t);
  }
  if (r && old != r) {
    std::lock_guard<std::mutex> g(r->mu);
    r->pending.insert(t);
  }
  std::lock_guard<std::mutex> g(t->mu);
  t->node = std::move(node);
  t->reg = pending ? r : (old == r ? r : nullptr);
}

BufferRef tensor_data(TensorImpl* t) {
  NodeRef n = t->get();
  if (!n->is_data()) {
    sync_tensors({t});
    n = t->get();
  }
  return n->data;
}

BufferRef transfer(const BufferRef& b, Device* to) {
  if (b->device == to) return b;
  int64_t t0 = now_ns();
  BufferRef o = alloc_buffer(b->dtype, b->shape, to);
  std::memcpy(o->data, b->data, static_cast<size_t>(b->nbytes));
  metric_record(to->is_host() ? "TransferFromDeviceTime" : "TransferToDeviceTime", static_cast<double>(now_ns() - t0));
  return o;
}

}  // namespace jxla
