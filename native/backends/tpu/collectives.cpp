// collectives.cpp - exact pod collectives on the reference kernels (see collectives.h).
#include "backends/tpu/collectives.h"
#include <algorithm>
#include <cstring>
#include "backends/host/elem.h"
#include "backends/host/reference.h"
#include "backends/tpu/cost.h"
#include "backends/tpu/tpu_device.h"
#include "ir/error.h"
#include "runtime/metrics.h"

namespace jxla {
namespace tpu {

namespace {
BufferRef apply(Op op, DType dt, const Shape& sh, const std::vector<const Buffer*>& in, Attrs at = Attrs()) {
  std::vector<NodeRef> ins;
  for (const Buffer* b : in) ins.push_back(make_node(Op::Parameter, b->dtype, b->shape, {}, Attrs(), nullptr));
  NodeRef n = make_node(op, dt, sh, ins, std::move(at), nullptr);
  return ref_eval(*n, in, nullptr);
}

BufferRef reduce_all(const std::string& op, const std::vector<BufferRef>& in) {
  const Buffer& x0 = *in[0];
  Op bin = op == "max" ? Op::Max : Op::Add;
  BufferRef acc = in[0];
  for (size_t i = 1; i < in.size(); ++i) acc = apply(bin, x0.dtype, x0.shape, {acc.get(), in[i].get()});
  if (op == "mean") {
    BufferRef cnt = alloc_buffer(x0.dtype, x0.shape, nullptr);
    for (int64_t i = 0; i < cnt->numel(); ++i) setf(*cnt, i, static_cast<double>(in.size()));
    acc = apply(Op::Div, x0.dtype, x0.shape, {acc.get(), cnt.get()});
  }
  return acc;
}

BufferRef copy_to(const Buffer& b, Device* d) {
  BufferRef o = alloc_buffer(b.dtype, b.shape, d);
  std::memcpy(o->data, b.data, static_cast<size_t>(b.nbytes));
  return o;
}
}  // namespace

std::vector<BufferRef> collective(const std::string& kind, const std::string& op, int64_t axis, const std::vector<BufferRef>& in) {
  if (in.empty()) invalid(kind, ": no operands");
  auto* d0 = dynamic_cast<TpuDevice*>(in[0]->device);
  if (!d0) invalid(kind, ": operand 0 is on ", in[0]->device->name(), ", not on a TPU core");
  int n = d0->cores();
  if (static_cast<int>(in.size()) != n)
    invalid(kind, ": ", in.size(), " operands for a pod of ", n, " cores (", d0->core(0)->name(), "): pass one per core");
  for (int i = 0; i < n; ++i) {
    if (in[i]->device != d0->core(i))
      invalid(kind, ": operand ", i, " is on ", in[i]->device->name(), " but must be on core ", i, " (", d0->core(i)->name(), ")");
    if (in[i]->dtype != in[0]->dtype || in[i]->shape != in[0]->shape)
      invalid(kind, ": operand ", i, " is ", dtype_name(in[i]->dtype), shape_str(in[i]->shape), " but operand 0 is ",
              dtype_name(in[0]->dtype), shape_str(in[0]->shape));
  }
  if (op != "sum" && op != "mean" && op != "max") invalid(kind, ": op must be sum, mean or max, got '", op, "'");
  if (op == "mean" && !is_float(in[0]->dtype)) invalid(kind, ": mean needs a floating-point operand, got ", dtype_name(in[0]->dtype));
  const Shape& sh = in[0]->shape;
  int64_t rank = static_cast<int64_t>(sh.size());
  if (kind != "all_reduce") {
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) invalid(kind, ": axis out of range for ", dtype_name(in[0]->dtype), shape_str(sh));
  }
  std::vector<BufferRef> out;
  int64_t bytes = in[0]->nbytes;
  if (kind == "all_reduce") {
    BufferRef r = reduce_all(op, in);
    for (int i = 0; i < n; ++i) out.push_back(copy_to(*r, d0->core(i)));
  } else if (kind == "all_gather") {
    Shape os = sh;
    os[axis] *= n;
    std::vector<const Buffer*> raw;
    for (auto& b : in) raw.push_back(b.get());
    Attrs at; at.set_int("axis", axis);
    BufferRef r = apply(Op::Concat, in[0]->dtype, os, raw, at);
    bytes = r->nbytes;
    for (int i = 0; i < n; ++i) out.push_back(copy_to(*r, d0->core(i)));
  } else if (kind == "reduce_scatter") {
    if (sh[axis] % n) invalid(kind, ": dimension ", axis, " of ", dtype_name(in[0]->dtype), shape_str(sh), " is not divisible by ", n, " cores");
    BufferRef r = reduce_all(op, in);
    int64_t chunk = sh[axis] / n;
    for (int i = 0; i < n; ++i) {
      Shape os = sh;
      os[axis] = chunk;
      std::vector<int64_t> start(sh.size(), 0), limit(sh.begin(), sh.end()), stride(sh.size(), 1);
      start[axis] = i * chunk;
      limit[axis] = (i + 1) * chunk;
      Attrs at; at.set_ints("start", start); at.set_ints("limit", limit); at.set_ints("stride", stride);
      BufferRef part = apply(Op::Slice, r->dtype, os, {r.get()}, at);
      out.push_back(copy_to(*part, d0->core(i)));
    }
  } else {
    invalid("collective: unknown kind '", kind, "' (all_reduce, all_gather, reduce_scatter)");
  }
  // synchronize the cores, then charge the ring on each
  double start = 0;
  for (int i = 0; i < n; ++i) start = std::max(start, d0->core(i)->clock_s());
  double t = ring_seconds(d0->chip(), kind, n, bytes);
  for (int i = 0; i < n; ++i) {
    KernelRecord r;
    r.name = kind + ":" + op;
    r.out = std::string(dtype_name(out[i]->dtype)) + shape_str(out[i]->shape);
    r.bytes = static_cast<double>(bytes);
    r.time_s = t;
    r.bound = "ici";
    d0->core(i)->record_at(std::move(r), start);
  }
  metric_record("DeviceTime", t * 1e9);
  counter_add(kind);
  return out;
}

}  // namespace tpu
}  // namespace jxla
