// function.cpp - compiled functions: capture of traced IR with placeholder parameters,
// binding of captured constants, exact and batch-padded calls, and compilation for a target
// device other than the trace device (re-homed graph, constants uploaded once per device;
// constants already on the target, captured under a trace target, are used in place).
#include "runtime/function.h"
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/compiler.h"
#include "runtime/device.h"
#include "runtime/executable.h"
#include "runtime/lazy.h"
#include "runtime/metrics.h"

namespace jxla {

namespace {
std::string sig_str(DType dt, const Shape& s) { return std::string(dtype_name(dt)) + shape_str(s); }

// The same graph with every node on `dev`. Canonical graphs carry the trace device only in their
// nodes' device field; the IR and every shape rule are device-independent.
Graph rehome(const Graph& g, Device* dev) {
  Graph r;
  std::unordered_map<const Node*, NodeRef> m;
  for (auto& n : g.nodes) {
    std::vector<NodeRef> in;
    for (auto& i : n->inputs) in.push_back(m.at(i.get()));
    NodeRef x = make_node(n->op, n->dtype, n->shape, std::move(in), n->attrs, dev);
    m[n.get()] = x;
    r.nodes.push_back(x);
  }
  for (auto& p : g.params) r.params.push_back(m.at(p.get()));
  for (auto& o : g.outputs) r.outputs.push_back(m.at(o.get()));
  return r;
}

// Device copies of captured host constants, shared by every function compiled for that device:
// a model's weights are uploaded once however many signatures or buckets it compiles, as XLA
// keeps one device buffer per weight. An entry is valid while its host buffer is alive (so the
// address cannot have been reused; buffers are immutable) and its device copy is alive (held by
// some function). Expired entries are swept on insertion.
struct Upload {
  std::weak_ptr<Buffer> host, dev;
};
std::mutex g_upload_mu;
std::map<std::pair<const Buffer*, Device*>, Upload>& uploads() {
  static auto* m = new std::map<std::pair<const Buffer*, Device*>, Upload>();
  return *m;
}

BufferRef upload(const BufferRef& b, Device* dev) {
  std::lock_guard<std::mutex> g(g_upload_mu);
  auto& m = uploads();
  auto key = std::make_pair(static_cast<const Buffer*>(b.get()), dev);
  auto it = m.find(key);
  if (it != m.end()) {
    BufferRef h = it->second.host.lock(), d = it->second.dev.lock();
    if (h == b && d) return d;
  }
  for (auto i = m.begin(); i != m.end();) i = (i->second.host.expired() || i->second.dev.expired()) ? m.erase(i) : std::next(i);
  BufferRef d = transfer(b, dev);
  // the entry is only right while b's contents never change: freeze b, so buffer donation
  // (runtime/lazy.cpp) never updates it in place
  b->frozen.store(true, std::memory_order_release);
  m[key] = Upload{b, d};
  counter_add("FunctionConstantUpload");
  return d;
}
}  // namespace

Function::Function(const std::vector<NodeRef>& params, const std::vector<NodeRef>& outputs, Device* target) {
  if (outputs.empty()) invalid("function_create: a function needs at least one output");
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> roots;
  for (size_t i = 0; i < params.size(); ++i) {
    const NodeRef& p = params[i];
    if (!p) invalid("function_create: parameter ", i, " is null");
    if (!p->is_data())
      invalid("function_create: parameter ", i, " (", sig_str(p->dtype, p->shape),
              ") is a pending computation; parameters must be data tensors (placeholders)");
    if (!seen.insert(p.get()).second) invalid("function_create: parameter ", i, " is passed twice");
    roots.push_back(p.get());
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i]) invalid("function_create: output ", i, " is null");
  dev_ = params.empty() ? outputs[0]->device : params[0]->device;
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i]->device != dev_)
      invalid("function_create: parameter ", i, " is on ", params[i]->device->name(), " but parameter 0 is on ", dev_->name());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Device* od = outputs[i]->device;
    // traced for a target T (trace target set, builder.h), an output may be on T (a function of
    // T-resident weights only) or on the host (host and T operands mixed): re-homing moves both
    bool ok = od == dev_ || (target && (od == target || od->is_host()));
    if (!ok)
      invalid("function_create: output ", i, " is on ", od->name(), " but the function runs on ",
              target ? target->name() : dev_->name());
    roots.push_back(outputs[i].get());
  }
  // The parameters are the first roots and are leaves, so the depth-first order visits them
  // first: the capture's data leaves are [params in caller order..., constants...], which is
  // exactly the parameter numbering canonicalize() gives the graph.
  Capture cap = capture(roots);
  for (size_t i = 0; i < params.size(); ++i)
    if (cap.data_leaves.at(i) != params[i].get()) internal("function_create: parameter order was not preserved");
  Device* trace_dev = dev_;
  if (target) dev_ = target;
  for (size_t i = params.size(); i < cap.data_leaves.size(); ++i) {
    const BufferRef& c = cap.data_leaves[i]->data;
    if (c->device == dev_) consts_.push_back(c);
    else if (c->device->is_host()) consts_.push_back(upload(c, dev_));
    else
      invalid("function_create: captured constant ", sig_str(c->dtype, c->shape), " is on ", c->device->name(),
              " but the function runs on ", dev_->name(), "; trace with host or ", dev_->name(), " weights");
  }
  // captured constants are immutable values: mark them so kernels may cache derived data
  // (prepacked GEMM weights) keyed by the buffer's id
  for (auto& c : consts_) c->frozen.store(true, std::memory_order_release);
  for (auto& p : params) params_.push_back({p->dtype, p->shape});
  for (auto& o : outputs) outs_.push_back({o->dtype, o->shape});
  int64_t t0 = now_ns();
  Graph g = canonicalize(cap);
  // drop the parameters that were roots only to fix their order
  g.outputs.erase(g.outputs.begin(), g.outputs.begin() + static_cast<std::ptrdiff_t>(params.size()));
  bool on_target = dev_ == trace_dev;
  for (size_t i = 0; on_target && i < g.nodes.size(); ++i) on_target = g.nodes[i]->device == dev_;
  if (!on_target) g = rehome(g, dev_);
  exe_ = compile_graph(std::move(g), dev_);
  for (int i : exe_->donatable_params())
    if (i >= 0 && static_cast<size_t>(i) < params_.size()) donatable_.push_back(i);
  metric_record("CompileTime", static_cast<double>(now_ns() - t0));
  counter_add("FunctionCompile");
}

void Function::check_input(size_t i, const Buffer& b, bool padded, int64_t* batch) const {
  const FunctionSig& s = params_[i];
  if (b.device != dev_ && !b.device->is_host())
    invalid("function_call: input ", i, " is on ", b.device->name(), " but the function runs on ", dev_->name());
  bool ok = b.dtype == s.dtype && b.shape.size() == s.shape.size();
  for (size_t d = 0; ok && d < s.shape.size(); ++d)
    ok = b.shape[d] == s.shape[d] || (padded && d == 0 && b.shape[0] <= s.shape[0]);
  if (!ok)
    invalid("function_call: input ", i, " is ", sig_str(b.dtype, b.shape), " but the function expects ",
            sig_str(s.dtype, s.shape), padded ? " (the leading dimension may be smaller)" : "");
  if (padded) {
    if (s.shape.empty()) invalid("function_call: input ", i, " is a scalar; batch padding needs rank >= 1");
    if (*batch < 0) *batch = b.shape[0];
    else if (*batch != b.shape[0])
      invalid("function_call: input ", i, " has batch ", b.shape[0], " but input 0 has batch ", *batch);
  }
}

std::vector<BufferRef> Function::call(const std::vector<BufferRef>& inputs) const { return call_donated(inputs, {}); }

std::vector<BufferRef> Function::call_donated(const std::vector<BufferRef>& inputs, const std::vector<char>& donated) const {
  if (inputs.size() != params_.size())
    invalid("function_call: ", inputs.size(), " inputs given, the function takes ", params_.size());
  int64_t unused = -1;
  for (size_t i = 0; i < inputs.size(); ++i) check_input(i, *inputs[i], false, &unused);
  std::vector<BufferRef> all = to_device(inputs);
  all.insert(all.end(), consts_.begin(), consts_.end());
  // only a donatable parameter that is the caller's own buffer (not a fresh transfer) is donated
  std::vector<char> flags(all.size(), 0);
  int64_t ndonated = 0;
  for (int i : donatable_) {
    size_t k = static_cast<size_t>(i);
    if (k < donated.size() && donated[k] && inputs[k]->device == dev_) {
      flags[k] = 1;
      ++ndonated;
    }
  }
  int64_t t0 = now_ns();
  std::vector<BufferRef> outs = ndonated ? exe_->run_donated(all, flags) : exe_->run(all);
  if (ndonated) counter_add("DonatedBuffers", ndonated);
  metric_record("ExecuteTime", static_cast<double>(now_ns() - t0));
  return outs;
}

std::vector<BufferRef> Function::call_padded(const std::vector<BufferRef>& inputs) const {
  if (inputs.size() != params_.size())
    invalid("function_call: ", inputs.size(), " inputs given, the function takes ", params_.size());
  if (params_.empty()) invalid("function_call: batch padding needs at least one input");
  int64_t b = -1;
  for (size_t i = 0; i < inputs.size(); ++i) check_input(i, *inputs[i], true, &b);
  int64_t B = params_[0].shape[0];
  for (auto& p : params_)
    if (p.shape[0] != B) invalid("function_call: batch padding needs one leading dimension for all parameters");
  if (b == B) return call(inputs);
  std::vector<BufferRef> padded, moved = to_device(inputs);
  for (size_t i = 0; i < moved.size(); ++i) {
    BufferRef p = alloc_buffer(params_[i].dtype, params_[i].shape, dev_);
    // rows [0, b) from the input, rows [b, B) zero: padding rows never reach the caller
    std::memset(p->data, 0, static_cast<size_t>(p->nbytes));
    if (moved[i]->nbytes) std::memcpy(p->data, moved[i]->data, static_cast<size_t>(moved[i]->nbytes));
    padded.push_back(std::move(p));
  }
  counter_add("BucketedCall");
  std::vector<BufferRef> outs = call(padded);
  for (auto& o : outs) {
    if (o->shape.empty() || o->shape[0] != B) continue;
    Shape s = o->shape;
    s[0] = b;
    BufferRef r = alloc_buffer(o->dtype, s, dev_);
    if (r->nbytes) std::memcpy(r->data, o->data, static_cast<size_t>(r->nbytes));
    o = std::move(r);
  }
  return outs;
}

std::vector<BufferRef> Function::to_device(const std::vector<BufferRef>& inputs) const {
  std::vector<BufferRef> r;
  r.reserve(inputs.size() + consts_.size());
  for (auto& b : inputs) r.push_back(b->device == dev_ ? b : transfer(b, dev_));  // host -> device
  return r;
}

std::string Function::describe() const { return exe_->describe(); }

}  // namespace jxla
