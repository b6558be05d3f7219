// tpu_executable.cpp - runs a canonical graph on an emulated TPU, one kernel per node:
//  - dot_general / conv2d with float operands on the emulated MXU (backends/tpu/mxu.h) at the
//    node's precision (attribute, else the global default read at run time, so a cached
//    executable follows jxla_set_matmul_precision);
//  - every other op through the reference kernels, results allocated in HBM (accounted);
//  - ops the TPU cannot run (anything touching f64) on the host: the graph is split into device
//    and host segments at run time, each value lives where it was produced, and a copy crosses
//    PCIe (charged on the simulated clock) only when the other side needs it. Each such op
//    counts as fallback::<op>.
// Element-wise chains are loop-fused as XLA does (see plan_fusion): members take no HBM and
// no kernel; broadcasts that are not graph outputs never materialize.
// Dense-layer tails (session 8, plan_dense_tails): f32 dot -> add(broadcast of a bias vector
// along the last dimension) [-> relu] runs as one MXU call whose final stores apply the bias
// and relu (MxuEpilogue, mxu_kernel.h; bit-identical to the reference add and relu, which then
// do not run). Only the host work changes: every kernel record, the simulated clock and the
// HBM timeline stay those of the unfused run (the tail still allocates its own buffer, which
// takes the dot buffer's memory by a swap). JXLA_TPU_EPILOGUE=0: off (mxu.h).
// Every kernel adds its modelled time to the device clock and a profile record; the whole run
// is one DeviceTime sample. Intermediates are freed after their last use, so HBM accounting
// sees the real peak, and an exhausted HBM unwinds cleanly (RAII) leaving the device usable.
#include "backends/tpu/tpu_executable.h"
#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include "backends/host/reference.h"
#include "backends/tpu/cost.h"
#include "backends/tpu/mxu.h"
#include "backends/tpu/mxu_kernel.h"
#include "backends/tpu/tpu_device.h"
#include "ir/error.h"
#include "runtime/metrics.h"

namespace jxla {
namespace tpu {

bool runs_on_host(const Node& n) {
  if (n.dtype == DType::F64) return true;
  for (auto& in : n.inputs) if (in->dtype == DType::F64) return true;
  return false;
}

namespace {

struct Value {
  BufferRef dev, host;  // either or both
};

class TpuExecutable final : public Executable {
  // a dense layer's dot -> add(broadcast bias) [-> relu] (plan_dense_tails)
  struct DenseTail {
    const Node *dot = nullptr, *add = nullptr, *bcast = nullptr, *relu = nullptr;  // relu may be null
    const Node* tail = nullptr;  // relu, else add: the kernel whose value the dot's stores compute
    const Node* bias = nullptr;  // the broadcast's input, f32 [N]
    bool bias_first = false;     // add(broadcast, dot)
    bool skip_bcast = false;     // the add is the broadcast's only reader: never evaluated
    size_t dot_pos = 0, decide_pos = 0;  // positions of the dot and of the first node that runs
  };

 public:
  TpuExecutable(Graph g, TpuDevice* dev) : g_(std::move(g)), dev_(dev) {
    plan_fusion();
    plan_dense_tails();
    for (auto& n : g_.nodes)
      if (n->op != Op::Parameter && !fused_into_.count(n.get()) && !(n->op == Op::Broadcast && !outputs_.count(n.get()))) ++kernels_;
  }
  int64_t kernel_count() const override { return kernels_; }
  std::string describe() const override { return print_graph(g_); }

  std::vector<BufferRef> run(const std::vector<BufferRef>& params) override {
    if (params.size() != g_.params.size()) internal("tpu: ", params.size(), " buffers for ", g_.params.size(), " parameters");
    std::unordered_map<const Node*, size_t> last;
    for (size_t i = 0; i < g_.nodes.size(); ++i) for (auto& in : g_.nodes[i]->inputs) last[in.get()] = i;
    std::unordered_map<const Node*, bool> is_out;
    for (auto& o : g_.outputs) is_out[o.get()] = true;
    std::unordered_map<const Node*, Value> val;
    // parameters are bound up front (binding costs nothing), so a dense tail's bias parameter,
    // which comes after its dot in topological order, is there when the dot runs
    for (auto& p : g_.nodes) {
      if (p->op != Op::Parameter) continue;
      BufferRef b = params.at(static_cast<size_t>(p->attrs.get_int("parameter", "index")));
      Value& v = val[p.get()];
      if (b->device->is_host()) v.host = b;
      else v.dev = b;  // this device's data (another device's buffer is read as is)
    }
    const bool tails_on = !tails_.empty() && mxu_epilogue_fusion_enabled();
    std::vector<char> active(tails_.size(), 0);  // this run computes tail t in its dot's stores
    // a bias parameter stays bound until its dot (a parameter's buffer is the caller's: no HBM)
    if (tails_on)
      for (const DenseTail& d : tails_)
        if (d.bias->op == Op::Parameter) last[d.bias] = std::max(last[d.bias], d.dot_pos);
    double sim = 0;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node* n = g_.nodes[i].get();
      if (n->op == Op::Parameter) continue;
      auto tt = tails_on ? tail_of_.find(n) : tail_of_.end();
      if (tt != tail_of_.end()) sim += run_dense_tail(*n, i, tails_[tt->second], active[tt->second], val);
      else sim += dispatch(*n, val);
      for (auto& x : n->inputs) {
        auto it = last.find(x.get());
        if (it != last.end() && it->second == i && !is_out.count(x.get())) val.erase(x.get());
      }
    }
    std::vector<BufferRef> outs;
    for (auto& o : g_.outputs) {
      Value& v = val.at(o.get());
      if (!v.dev) sim += to_device(v);
      outs.push_back(v.dev);
    }
    metric_record("DeviceTime", sim * 1e9);
    return outs;
  }

 private:
  double to_device(Value& v) {
    BufferRef b = alloc_buffer(v.host->dtype, v.host->shape, dev_);
    std::memcpy(b->data, v.host->data, static_cast<size_t>(v.host->nbytes));
    v.dev = b;
    return charge_transfer(*b, true);
  }
  double to_host(Value& v) {
    BufferRef b = alloc_buffer(v.dev->dtype, v.dev->shape, host_device());
    std::memcpy(b->data, v.dev->data, static_cast<size_t>(v.dev->nbytes));
    v.host = b;
    return charge_transfer(*b, false);
  }
  double charge_transfer(const Buffer& b, bool to_device) {
    KernelRecord r;
    r.name = to_device ? "transfer:h2d" : "transfer:d2h";
    r.out = std::string(dtype_name(b.dtype)) + shape_str(b.shape);
    r.bytes = static_cast<double>(b.nbytes);
    r.time_s = transfer_seconds(dev_->chip(), b.nbytes);
    r.bound = "pcie";
    return dev_->record(std::move(r));
  }

  double run_host(const Node& n, std::unordered_map<const Node*, Value>& val) {
    double t = 0;
    std::vector<const Buffer*> in;
    for (auto& x : n.inputs) {
      Value& v = val.at(x.get());
      if (!v.host) t += to_host(v);
      in.push_back(v.host.get());
    }
    Value& out = val[&n];
    out.host = ref_eval(n, in, host_device());
    counter_add(std::string("fallback::") + op_name(n.op));
    KernelRecord r;
    r.name = std::string("fallback::") + op_name(n.op);
    r.out = std::string(dtype_name(n.dtype)) + shape_str(n.shape);
    r.bound = "host";
    dev_->record(std::move(r));  // zero device time: the host works while the device waits
    return t;
  }

  // Loop fusion as XLA does it on TPU: an element-wise (or broadcast/reshape) node whose only
  // user is an element-wise op or a reduction, on the device, and which is not a graph output,
  // is computed inside its user's kernel: no HBM, no kernel of its own. Broadcasts that are not
  // outputs never materialize, whatever their users. The emulator still evaluates members (into
  // unaccounted scratch buffers); the root kernel is charged fused_cost (cost.h).
  void plan_fusion() {
    std::unordered_map<const Node*, int> uses;
    std::unordered_map<const Node*, const Node*> user;
    for (auto& n : g_.nodes)
      for (auto& in : n->inputs) { ++uses[in.get()]; user[in.get()] = n.get(); }
    for (auto& o : g_.outputs) outputs_.insert(o.get());
    auto producer = [](const Node& n) {
      OpKind k = n.info().kind;
      return is_elementwise(k) || k == OpKind::Broadcast || k == OpKind::Reshape;
    };
    auto absorber = [](const Node& n) { return is_elementwise(n.info().kind) || n.info().kind == OpKind::Reduce; };
    for (size_t i = g_.nodes.size(); i-- > 0;) {
      const Node* n = g_.nodes[i].get();
      if (n->op == Op::Parameter || outputs_.count(n) || uses[n] != 1 || !producer(*n) || runs_on_host(*n)) continue;
      const Node* u = user[n];
      if (runs_on_host(*u)) continue;
      auto it = fused_into_.find(u);
      const Node* root = it != fused_into_.end() ? it->second : (absorber(*u) ? u : nullptr);
      if (!root) continue;
      fused_into_[n] = root;
    }
    for (auto& n : g_.nodes) {  // members in topological order, per root
      auto it = fused_into_.find(n.get());
      if (it != fused_into_.end()) members_[it->second].push_back(n.get());
    }
  }

  double run_fused_member(const Node& n, std::unordered_map<const Node*, Value>& val) {
    double t = 0;
    std::vector<const Buffer*> in;
    for (auto& x : n.inputs) {
      Value& v = val.at(x.get());
      if (!v.dev) t += to_device(v);
      in.push_back(v.dev.get());
    }
    val[&n].dev = ref_eval(n, in, nullptr);
    return t;
  }

  double dispatch(const Node& n, std::unordered_map<const Node*, Value>& val) {
    if (runs_on_host(n)) return run_host(n, val);
    if (fused_into_.count(&n) || (n.op == Op::Broadcast && !outputs_.count(&n))) return run_fused_member(n, val);
    return run_device(n, val);
  }

  // A node of a dense tail (position i). At the tail's first node (its dot, or its broadcast
  // when that comes first) the run decides: fused when the bias is on the device already (else
  // every node runs as usual). Fused, the add and relu allocate what their unfused kernels would
  // (the add, a fusion member: unaccounted scratch; the tail: HBM) and take the values by
  // swapping memory with their input's buffer, so every buffer lives and is accounted exactly
  // as unfused; the broadcast never materializes.
  double run_dense_tail(const Node& n, size_t i, const DenseTail& d, char& active,
                        std::unordered_map<const Node*, Value>& val) {
    if (i == d.decide_pos) {
      auto b = val.find(d.bias);
      active = b != val.end() && b->second.dev;
    }
    if (!active) return dispatch(n, val);
    if (&n == d.dot) {
      MxuEpilogue e;
      e.bias = val.at(d.bias).dev->as<float>();
      e.bias_first = d.bias_first;
      e.relu = d.relu != nullptr;
      counter_add("TpuDotEpilogues");
      return run_device(n, val, &e);
    }
    if (&n == d.bcast) return 0;
    const bool tail = &n == d.tail;
    BufferRef o = alloc_buffer(n.dtype, n.shape, tail ? dev_ : nullptr);
    std::swap(o->data, val.at(&n == d.add ? d.dot : d.add).dev->data);  // same dtype and shape: same size
    val[&n].dev = std::move(o);
    return tail ? record_kernel(n, default_precision()) : 0;
  }

  double run_device(const Node& n, std::unordered_map<const Node*, Value>& val, const MxuEpilogue* epi = nullptr) {
    double t = 0;
    std::vector<const Buffer*> in;
    for (auto& x : n.inputs) {
      Value& v = val.at(x.get());
      if (!v.dev) t += to_device(v);
      in.push_back(v.dev.get());
    }
    int prec = (n.op == Op::DotGeneral || n.op == Op::Conv2d) ? node_precision(n) : default_precision();
    Value& out = val[&n];
    if (mxu_supports(n)) {
      BufferRef o = alloc_buffer(n.dtype, n.shape, dev_);
      if (n.op == Op::DotGeneral) mxu_dot(n, *in[0], *in[1], *o, prec, epi);
      else mxu_conv2d(n, *in[0], *in[1], *o, prec);
      out.dev = std::move(o);
    } else {
      out.dev = ref_eval(n, in, dev_);
    }
    return t + record_kernel(n, prec);
  }

  // The kernel record of a device node (a fusion root's covers its members); its modelled time.
  double record_kernel(const Node& n, int prec) {
    KernelCost c;
    KernelRecord r;
    auto mem = members_.find(&n);
    if (mem == members_.end()) {
      c = node_cost(dev_->chip(), n, prec);
      r.name = op_name(n.op);
    } else {
      std::vector<const Node*> group = mem->second;
      group.push_back(&n);
      c = fused_cost(dev_->chip(), group);
      r.name = "fusion";
      for (const Node* m : group) r.name += std::string(m == group.front() ? ":" : ".") + op_name(m->op);
    }
    r.out = std::string(dtype_name(n.dtype)) + shape_str(n.shape);
    r.time_s = c.time_s;
    r.flops = c.flops;
    r.bytes = c.bytes;
    r.bound = c.bound;
    r.mxu_util = c.mxu_util;
    return dev_->record(std::move(r));
  }

  // Dense tails: an f32 dot on the MXU whose only user is an add of a broadcast bias vector
  // (f32 [N] along the last dimension, N the dot's last dimension), optionally followed by the
  // add's only user, a relu. The tail (relu, else add) must be a kernel of its own (a fusion
  // root or standalone) whose members are evaluated normally except the add and, when nothing
  // else reads it, the broadcast. Nothing here runs on the host.
  void plan_dense_tails() {
    std::unordered_map<const Node*, int> uses;
    std::unordered_map<const Node*, const Node*> user;
    for (auto& n : g_.nodes)
      for (auto& in : n->inputs) { ++uses[in.get()]; user[in.get()] = n.get(); }
    std::unordered_map<const Node*, size_t> pos, last_use;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      pos[g_.nodes[i].get()] = i;
      for (auto& in : g_.nodes[i]->inputs) last_use[in.get()] = i;
    }
    auto dev_f32 = [](const Node* n) { return n->dtype == DType::F32 && !runs_on_host(*n); };
    for (auto& dn : g_.nodes) {
      const Node* dot = dn.get();
      if (dot->op != Op::DotGeneral || !mxu_supports(*dot) || !dev_f32(dot) || dot->shape.empty() ||
          outputs_.count(dot) || uses[dot] != 1 || dot->inputs[0]->dtype != DType::F32 ||
          dot->inputs[1]->dtype != DType::F32)
        continue;
      DenseTail d;
      d.dot = dot;
      d.add = user[dot];
      if (d.add->op != Op::Add || !dev_f32(d.add) || d.add->shape != dot->shape) continue;
      d.bias_first = d.add->inputs[1].get() == dot;
      d.bcast = d.add->inputs[d.bias_first ? 0 : 1].get();
      if (d.bcast == dot || d.bcast->op != Op::Broadcast || !dev_f32(d.bcast)) continue;
      d.bias = d.bcast->inputs[0].get();
      const auto dims = d.bcast->attrs.get_ints("broadcast", "dims");
      if (d.bias->dtype != DType::F32 || d.bias->shape.size() != 1 || d.bias->shape[0] != dot->shape.back() ||
          dims.size() != 1 || dims[0] != static_cast<int64_t>(dot->shape.size()) - 1)
        continue;
      const Node* r = uses[d.add] == 1 && !outputs_.count(d.add) ? user[d.add] : nullptr;
      if (r && r->op == Op::Relu && dev_f32(r) && fused_into_.count(d.add) && fused_into_.at(d.add) == r) d.relu = r;
      d.tail = d.relu ? d.relu : d.add;
      if (fused_into_.count(d.tail)) continue;
      d.skip_bcast = !outputs_.count(d.bcast) && uses[d.bcast] == 1;
      d.dot_pos = pos[dot];
      d.decide_pos = d.skip_bcast ? std::min(d.dot_pos, pos[d.bcast]) : d.dot_pos;
      // a computed bias must still be alive when the dot runs (parameters are kept: run())
      if (d.bias->op != Op::Parameter && last_use[d.bias] < d.dot_pos) continue;
      const size_t t = tails_.size();
      tails_.push_back(d);
      for (const Node* m : {d.dot, d.add, d.skip_bcast ? d.bcast : nullptr, d.relu})
        if (m) tail_of_[m] = t;
    }
  }

  Graph g_;
  TpuDevice* dev_;
  int64_t kernels_ = 0;
  std::unordered_set<const Node*> outputs_;
  std::unordered_map<const Node*, const Node*> fused_into_;           // member -> root
  std::unordered_map<const Node*, std::vector<const Node*>> members_;  // root -> members (topo order)
  std::vector<DenseTail> tails_;
  std::unordered_map<const Node*, size_t> tail_of_;  // dot, add, broadcast, relu -> its tail
};

}  // namespace

std::shared_ptr<Executable> make_tpu_executable(Graph g, TpuDevice* dev) {
  return std::make_shared<TpuExecutable>(std::move(g), dev);
}

}  // namespace tpu
}  // namespace jxla
