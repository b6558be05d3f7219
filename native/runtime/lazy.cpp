// lazy.cpp - registry bookkeeping, graph capture and execution of pending tensors.
#include "runtime/lazy.h"
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <thread>
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/device.h"
#include "runtime/executable.h"
#include "runtime/metrics.h"

namespace jxla {

namespace {
std::atomic<int64_t> g_live_tensors{0};
std::atomic<uint64_t> g_seq{0};
thread_local std::shared_ptr<Registry> t_reg;
Registry* this_thread_registry(std::shared_ptr<Registry>* out) {
  if (!t_reg) t_reg = std::make_shared<Registry>();
  *out = t_reg;
  return t_reg.get();
}

// trace guard: depth and the name of the outermost guarded trace (lazy.h)
thread_local int t_guard_depth = 0;
thread_local std::string t_guard_what;
thread_local uint64_t t_guard_seq = 0;  // tensors with seq below it existed before the guard
void check_no_materialize(const char* op) {
  if (t_guard_depth > 0)
    fail(JXLA_ERR_STATE, op, ": tensor data was read (or a sync requested) while ", t_guard_what,
         " is being traced; a compiled step runs only as a whole: return the value as an output instead of reading it");
}

std::atomic<int> g_donation{-1};  // -1: not read yet; then 0/1
bool donation_on() {
  int v = g_donation.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* e = std::getenv("JXLA_DONATE");
    v = (e && std::strcmp(e, "0") == 0) ? 0 : 1;
    int expect = -1;
    g_donation.compare_exchange_strong(expect, v);
    v = g_donation.load(std::memory_order_relaxed);
  }
  return v != 0;
}

// Buffer donation: which donatable parameters of exe may be overwritten in place. The caller
// holds the roots' registry and every root tensor's mutex, so no thread can pick up a root's
// pending node until the roots hold their results. Parameter i (data leaf L, buffer B) is
// donated only when
//  (a) B is held by L and params[i] alone (use_count 2) and is not frozen: no other data leaf
//      (a detached copy, a replica loaded from the same state), no Function constant, no
//      upload cache entry shares it;
//  (b) nothing outside the graph can reach L after the sync: every captured node has exactly
//      the references the graph itself explains (input slots of captured nodes, plus 2 per root
//      tensor: its TensorImpl and materialize's keep list); a node with more (a handle that is
//      not synced now, another thread's pending IR, a node the caller holds) makes it and
//      everything it depends on reachable, and L must not be among them. After the sync the
//      roots hold fresh data leaves, so the graph, and with it L, dies.
// A node is only ever re-obtained through the hash-cons table by building it from its inputs,
// which needs a reference to one of them: that reference is counted in (b).
// Limit: the counts are read one node at a time. Another thread that, during this check, walks
// the inputs of a node of this graph it holds (autodiff on a tensor built from this thread's
// pending, unsynced tensors) and drops its own handle between two reads could go unseen.
// Tracing on another thread's pending tensors while that thread syncs is outside the lazy
// runtime's model (the result depends on the race anyway); JXLA_DONATE=0 turns donation off.
std::vector<char> donation_mask(const Capture& cap, const std::vector<int>& cand, const std::vector<BufferRef>& params,
                                Device* dev, int64_t* count) {
  std::vector<char> donated(params.size(), 0);
  *count = 0;
  const size_t n = cap.order.size();
  std::vector<uint32_t> expect(cap.refs.begin(), cap.refs.end());
  for (uint32_t rp : cap.root_pos) expect[rp] += 2;
  std::vector<char> reach(n, 0);
  std::vector<uint32_t> off(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    const Node* x = cap.order[i];
    off[i + 1] = off[i] + static_cast<uint32_t>(x->inputs.size());
    if (x->weak_from_this().use_count() != static_cast<long>(expect[i])) reach[i] = 1;
  }
  for (size_t i = n; i-- > 0;)
    if (reach[i])
      for (uint32_t e = off[i]; e < off[i + 1]; ++e) reach[cap.in_pos[e]] = 1;
  std::vector<uint32_t> leaf_pos;
  leaf_pos.reserve(cap.data_leaves.size());
  for (size_t i = 0; i < n; ++i) if (cap.order[i]->is_data()) leaf_pos.push_back(static_cast<uint32_t>(i));
  for (int c : cand) {
    size_t i = static_cast<size_t>(c);
    if (i >= params.size() || i >= leaf_pos.size()) continue;
    const BufferRef& b = params[i];
    if (reach[leaf_pos[i]] || b.use_count() != 2 || b->frozen.load(std::memory_order_acquire) || b->device != dev) continue;
    donated[i] = 1;
    ++*count;
  }
  return donated;
}

// Runs the roots (all on dev) as one graph; returns one buffer per root. The caller holds the
// roots' tensor mutexes (see donation_mask).
std::vector<BufferRef> execute_roots(const std::vector<const Node*>& roots, Device* dev) {
  Capture cap = capture(roots);
  // One graph, one device. Only a trace target (builder.h) lets host and device values mix, for
  // a compiled function to re-home; run eagerly, such a graph would read device data in place and
  // compute the device's part with host numerics, so it is refused instead.
  for (const Node* n : cap.order)
    if (n->device != dev)
      fail(JXLA_ERR_STATE, "sync: a value on ", dev->name(), " depends on a value on ", n->device->name(),
           " (", dtype_name(n->dtype), shape_str(n->shape), "); host and device values mix only inside the trace of a "
           "function compiled for that device (Jxla.compile(fn, device)), which must return them instead of reading them");
  metric_record("TensorsGraphSize", static_cast<double>(cap.order.size()), MetricUnit::Count);
  std::shared_ptr<Executable> exe = compile_cached(cap, dev);
  std::vector<BufferRef> params;
  params.reserve(cap.data_leaves.size());
  for (const Node* n : cap.data_leaves) params.push_back(n->data);
  int64_t t0 = now_ns();
  std::vector<BufferRef> outs;
  int64_t ndonated = 0;
  if (!exe->donatable_params().empty() && donation_on()) {
    std::vector<char> donated = donation_mask(cap, exe->donatable_params(), params, dev, &ndonated);
    outs = ndonated ? exe->run_donated(params, donated) : exe->run(params);
  } else {
    outs = exe->run(params);
  }
  if (ndonated) counter_add("DonatedBuffers", ndonated);
  metric_record("ExecuteTime", static_cast<double>(now_ns() - t0));
  counter_add("KernelCount", exe->kernel_count());
  set_last_kernel_count(exe->kernel_count());
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
  // one graph per device; several devices (the cores of a TPU pod) run concurrently
  std::vector<std::vector<NodeRef>> keep(by_dev.size());  // holds the nodes alive during execution
  std::vector<std::vector<const Node*>> roots(by_dev.size());
  std::vector<std::vector<BufferRef>> results(by_dev.size());
  std::vector<std::exception_ptr> errors(by_dev.size());
  std::vector<Device*> devs;
  size_t gi = 0;
  for (auto& kv : by_dev) {
    for (TensorImpl* t : kv.second) { keep[gi].push_back(t->get()); roots[gi].push_back(keep[gi].back().get()); }
    devs.push_back(kv.first);
    ++gi;
  }
  // Hold every root's mutex until it holds its result: no other thread can take a root's
  // pending node (and build on it) while the graph runs, which buffer donation relies on
  // (donation_mask). Address order; a tensor listed twice is locked once. Nothing that runs a
  // graph takes a TensorImpl mutex.
  std::vector<TensorImpl*> lock_order;
  for (auto& kv : by_dev) lock_order.insert(lock_order.end(), kv.second.begin(), kv.second.end());
  std::sort(lock_order.begin(), lock_order.end());
  lock_order.erase(std::unique(lock_order.begin(), lock_order.end()), lock_order.end());
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(lock_order.size());
  for (TensorImpl* t : lock_order) held.emplace_back(t->mu);
  auto run = [&](size_t i) {
    try { results[i] = execute_roots(roots[i], devs[i]); } catch (...) { errors[i] = std::current_exception(); }
  };
  if (devs.size() == 1) run(0);
  else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < devs.size(); ++i) threads.emplace_back(run, i);
    for (auto& th : threads) th.join();
  }
  for (auto& e : errors) if (e) std::rethrow_exception(e);
  gi = 0;
  for (auto& kv : by_dev) {
    const std::vector<const Node*>& rts = roots[gi];
    std::vector<BufferRef>& outs = results[gi];
    ++gi;
    for (size_t i = 0; i < rts.size(); ++i) {
      // one data leaf per tensor (sharing the buffer): two handles that held the same pending
      // node must not become one autodiff variable after the sync
      NodeRef d = make_data(outs[i]);
      TensorImpl* t = kv.second[i];
      t->node = d;  // t->mu is held (held above)
    }
  }
}
}  // namespace

void PendingSet::insert(TensorImpl* t) {
  int64_t i = t->reg_slot.load(std::memory_order_relaxed);
  if (i >= 0 && static_cast<size_t>(i) < v_.size() && v_[i] == t) return;  // already here
  t->reg_slot.store(static_cast<int64_t>(v_.size()), std::memory_order_relaxed);
  v_.push_back(t);
}

void PendingSet::erase(TensorImpl* t) {
  int64_t i = t->reg_slot.load(std::memory_order_relaxed);
  if (i < 0 || static_cast<size_t>(i) >= v_.size() || v_[i] != t) return;  // not in this set
  TensorImpl* last = v_.back();
  v_[i] = last;
  last->reg_slot.store(i, std::memory_order_relaxed);
  v_.pop_back();
  t->reg_slot.store(-1, std::memory_order_relaxed);
}

TensorImpl* tensor_new(NodeRef node) {
  auto* t = new TensorImpl();
  bool pending = !node->is_data();
  t->node = std::move(node);
  t->seq = g_seq.fetch_add(1, std::memory_order_relaxed);
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
  // Take the registry under t->mu: another thread's sync may reset t->reg concurrently (e.g.
  // the GC's deallocator thread frees a tensor still pending in its creator's registry).
  std::shared_ptr<Registry> r;
  {
    std::lock_guard<std::mutex> g(t->mu);
    r = t->reg;
  }
  if (r) {
    std::lock_guard<std::mutex> g(r->mu);
    r->pending.erase(t);
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
  if (t_guard_depth > 0)
    for (TensorImpl* t : reg->pending) if (!t->get()->is_data()) check_no_materialize("sync");
  counter_add("MarkStep");
  std::vector<TensorImpl*> ts;
  for (TensorImpl* t : reg->pending) if (!t->get()->is_data()) ts.push_back(t);
  // Creation order, not the set's (address-dependent) order: the roots' order is part of the
  // graph fingerprint, so the same trace must list them the same way every step.
  std::sort(ts.begin(), ts.end(), [](const TensorImpl* a, const TensorImpl* b) { return a->seq < b->seq; });
  materialize(ts);
  for (TensorImpl* t : ts) {
    reg->pending.erase(t);
    std::lock_guard<std::mutex> g(t->mu);
    t->reg.reset();
  }
  // drop entries that were materialized by reads
  std::vector<TensorImpl*> done;
  for (TensorImpl* t : reg->pending) if (t->get()->is_data()) done.push_back(t);
  for (TensorImpl* t : done) {
    { std::lock_guard<std::mutex> g(t->mu); t->reg.reset(); }
    reg->pending.erase(t);
  }
}

int64_t pending_tensor_count() {
  std::shared_ptr<Registry> r;
  Registry* reg = this_thread_registry(&r);
  std::lock_guard<std::mutex> g(reg->mu);
  return static_cast<int64_t>(reg->pending.size());
}

void sync_tensors(const std::vector<TensorImpl*>& ts) {
  if (t_guard_depth > 0)
    for (TensorImpl* t : ts) if (!t->get()->is_data()) check_no_materialize("read");
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

void trace_guard_begin(const char* what) {
  if (t_guard_depth++ == 0) {
    t_guard_what = what && *what ? what : "a step";
    t_guard_seq = g_seq.load(std::memory_order_relaxed);
  }
}
void trace_guard_check_transfer(const TensorImpl* t) {
  if (t_guard_depth > 0 && t->seq < t_guard_seq)
    fail(JXLA_ERR_STATE, "to_device: a tensor made before ", t_guard_what,
         " (an input, a parameter) is moved to another device inside the trace; the copy would be captured as a "
         "constant and never see new values: move inputs to the device before the step");
}
void trace_guard_end() {
  if (t_guard_depth > 0 && --t_guard_depth == 0) t_guard_what.clear();
}
bool trace_guard_active() { return t_guard_depth > 0; }

void set_donation_enabled(bool on) { g_donation.store(on ? 1 : 0); }
bool donation_enabled() { return donation_on(); }

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
  if (b->device->is_host() || to->is_host() || !to->on_peer_transfer(*o, b->device)) {
    if (!b->device->is_host()) b->device->on_transfer(*b, false);
    if (!to->is_host()) to->on_transfer(*o, true);
  }
  metric_record(to->is_host() ? "TransferFromDeviceTime" : "TransferToDeviceTime", static_cast<double>(now_ns() - t0));
  return o;
}

}  // namespace jxla
