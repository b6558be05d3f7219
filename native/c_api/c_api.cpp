// c_api.cpp - implements include/jxla/jxla.h. Every entry point catches every C++ exception,
// returns a status and sets the thread-local message; no exception crosses the boundary.
#include <cstring>
#include <string>
#include <unordered_map>
#include "backends/host/reference.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "jxla/jxla.h"
#include "runtime/device.h"
#include "runtime/executable.h"
#include "runtime/lazy.h"
#include "runtime/metrics.h"
#include "c_api/c_api_internal.h"

using namespace jxla;

namespace jxla {
thread_local std::string t_last_error;

jxla_status set_error(int code, const std::string& msg) {
  t_last_error = msg;
  return code;
}

TensorImpl* T(jxla_tensor_t t, const char* arg) {
  auto* p = reinterpret_cast<TensorImpl*>(t);
  if (!p) fail(JXLA_ERR_STATE, arg, ": null tensor handle");
  if (p->magic != TensorImpl::kMagic) fail(JXLA_ERR_STATE, arg, ": the tensor handle was freed");
  return p;
}
Device* D(jxla_device_t d) { return d ? reinterpret_cast<Device*>(d) : host_device(); }

jxla_status copy_string(const std::string& s, char* buf, int64_t cap, int64_t* len) {
  if (len) *len = static_cast<int64_t>(s.size());
  if (buf && cap > 0) {
    size_t n = std::min<size_t>(s.size(), static_cast<size_t>(cap - 1));
    std::memcpy(buf, s.data(), n);
    buf[n] = 0;
  }
  return JXLA_OK;
}
}  // namespace jxla

namespace {
jxla_tensor_t H(TensorImpl* t) { return reinterpret_cast<jxla_tensor_t>(t); }

jxla_tensor_t new_tensor(NodeRef n) {
  count_lazy_trace();
  return H(tensor_new(std::move(n)));
}

Op op_of(int32_t op) {
  if (!op_valid(op)) invalid("op id ", op, " is not in the op table (0..", kNumOps - 1, ")");
  return static_cast<Op>(op);
}

// dynamic-shape ops: materialize inputs and evaluate on the host now
NodeRef eval_dynamic(Op op, const std::vector<TensorImpl*>& ins) {
  std::vector<BufferRef> bufs;
  for (TensorImpl* t : ins) bufs.push_back(tensor_data(t));
  Device* dev = bufs.at(0)->device;
  std::vector<BufferRef> host;
  std::vector<const Buffer*> raw;
  for (auto& b : bufs) { host.push_back(b->device->is_host() ? b : transfer(b, host_device())); raw.push_back(host.back().get()); }
  if (!dev->is_host()) counter_add(std::string("fallback::") + op_name(op));
  BufferRef r = ref_dynamic(op, raw, host_device());
  return make_data(dev->is_host() ? r : transfer(r, dev));
}
}  // namespace


void jxla::read_buffer(const BufferRef& b, DType dd, void* dst, int64_t want) {
  int64_t t0 = now_ns();
  if (b->dtype == dd) {
    if (want) std::memcpy(dst, b->data, static_cast<size_t>(want));
  } else {
    // convert through the reference convert kernel
    Attrs a; a.set_str("dtype", dtype_name(dd));
    NodeRef conv = make_node(Op::Convert, dd, b->shape, {make_data(b)}, a, host_device());
    BufferRef c = ref_eval(*conv, {b.get()}, host_device());
    if (want) std::memcpy(dst, c->data, static_cast<size_t>(want));
  }
  if (!b->device->is_host()) b->device->on_transfer(*b, false);
  metric_record("TransferFromDeviceTime", static_cast<double>(now_ns() - t0));
}

extern "C" {

const char* jxla_last_error(void) { return t_last_error.c_str(); }

int32_t jxla_op_count(void) { return kNumOps; }

jxla_status jxla_op_name(int32_t op, char* buf, int64_t cap, int64_t* len) {
  JXLA_TRY
  return copy_string(op_name(op_of(op)), buf, cap, len);
  JXLA_CATCH
}

jxla_status jxla_op_lookup(const char* name, int32_t* op) {
  JXLA_TRY
  if (!name) invalid("op_lookup: null name");
  Op o;
  if (!op_from_name(name, &o)) invalid("op_lookup: unknown op '", name, "'");
  *op = static_cast<int32_t>(o);
  JXLA_CATCH
}

jxla_status jxla_device_host(jxla_device_t* out) {
  JXLA_TRY
  *out = reinterpret_cast<jxla_device_t>(host_device());
  JXLA_CATCH
}

jxla_status jxla_device_describe(jxla_device_t dev, char* buf, int64_t cap, int64_t* len) {
  JXLA_TRY
  return copy_string(D(dev)->describe(), buf, cap, len);
  JXLA_CATCH
}

jxla_status jxla_device_free(jxla_device_t) { return JXLA_OK; }  // devices are immortal

jxla_status jxla_tensor_from_data(jxla_device_t dev, int32_t dtype, const int64_t* shape, int32_t rank, const void* data,
                                  int64_t nbytes, jxla_tensor_t* out) {
  JXLA_TRY
  if (!dtype_valid(dtype)) invalid("from_data: unknown dtype id ", dtype);
  if (rank < 0 || rank > JXLA_MAX_RANK) invalid("from_data: rank ", rank, " is out of range 0..", JXLA_MAX_RANK);
  if (rank > 0 && !shape) invalid("from_data: null shape");
  Shape sh(shape, shape + rank);
  check_shape("from_data", sh);
  DType dt = static_cast<DType>(dtype);
  int64_t want = numel(sh) * dtype_size(dt);
  if (nbytes != want)
    invalid("from_data: ", nbytes, " bytes given but ", dtype_name(dt), shape_str(sh), " needs ", want);
  if (want > 0 && !data) invalid("from_data: null data");
  int64_t t0 = now_ns();
  BufferRef b = alloc_buffer(dt, sh, D(dev));
  if (want) std::memcpy(b->data, data, static_cast<size_t>(want));
  if (!b->device->is_host()) b->device->on_transfer(*b, true);
  metric_record("TransferToDeviceTime", static_cast<double>(now_ns() - t0));
  *out = H(tensor_new(make_data(std::move(b))));
  JXLA_CATCH
}

jxla_status jxla_tensor_unary(int32_t op, jxla_tensor_t x, jxla_tensor_t* out) {
  JXLA_TRY
  Op o = op_of(op);
  NodeRef n = build(o, {T(x, op_name(o))->get()}, Attrs());
  *out = new_tensor(std::move(n));
  JXLA_CATCH
}

jxla_status jxla_tensor_binary(int32_t op, jxla_tensor_t a, jxla_tensor_t b, jxla_tensor_t* out) {
  JXLA_TRY
  Op o = op_of(op);
  NodeRef n = build(o, {T(a, op_name(o))->get(), T(b, op_name(o))->get()}, Attrs());
  *out = new_tensor(std::move(n));
  JXLA_CATCH
}

jxla_status jxla_tensor_op(int32_t op, const jxla_tensor_t* inputs, int32_t ninputs, const char* attrs, jxla_device_t dev,
                           jxla_tensor_t* out) {
  JXLA_TRY
  Op o = op_of(op);
  const char* nm = op_name(o);
  if (ninputs < 0 || (ninputs > 0 && !inputs)) invalid(nm, ": bad input list");
  std::vector<TensorImpl*> ts;
  std::vector<NodeRef> in;
  for (int32_t i = 0; i < ninputs; ++i) {
    std::string arg = std::string(nm) + " operand " + std::to_string(i);
    ts.push_back(T(inputs[i], arg.c_str()));
    in.push_back(ts.back()->get());
  }
  if (o == Op::Parameter) invalid(nm, ": parameters are made from data (jxla_tensor_from_data)");
  if (op_info(o).kind == OpKind::Dynamic) {
    if (static_cast<int>(in.size()) != op_info(o).arity)
      invalid(nm, ": expected ", op_info(o).arity, " operand(s), got ", in.size());
    *out = new_tensor(eval_dynamic(o, ts));
    return JXLA_OK;
  }
  Attrs at = Attrs::parse(nm, attrs ? attrs : "");
  *out = new_tensor(build(o, std::move(in), std::move(at), D(dev)));
  JXLA_CATCH
}

jxla_status jxla_tensor_to_device(jxla_tensor_t x, jxla_device_t dev, jxla_tensor_t* out) {
  JXLA_TRY
  TensorImpl* t = T(x, "to_device");
  Device* d = D(dev);
  trace_guard_check_transfer(t);  // TrainStep (session 5)
  BufferRef b = tensor_data(t);
  *out = H(tensor_new(make_data(transfer(b, d))));
  JXLA_CATCH
}

jxla_status jxla_tensor_dtype(jxla_tensor_t t, int32_t* dtype) {
  JXLA_TRY
  *dtype = static_cast<int32_t>(T(t, "dtype")->get()->dtype);
  JXLA_CATCH
}

jxla_status jxla_tensor_rank(jxla_tensor_t t, int32_t* rank) {
  JXLA_TRY
  *rank = static_cast<int32_t>(T(t, "rank")->get()->shape.size());
  JXLA_CATCH
}

jxla_status jxla_tensor_shape(jxla_tensor_t t, int64_t* dims, int32_t cap) {
  JXLA_TRY
  NodeRef n = T(t, "shape")->get();
  for (int32_t i = 0; i < cap && i < static_cast<int32_t>(n->shape.size()); ++i) dims[i] = n->shape[i];
  JXLA_CATCH
}

jxla_status jxla_tensor_is_materialized(jxla_tensor_t t, int32_t* yes) {
  JXLA_TRY
  *yes = T(t, "is_materialized")->get()->is_data() ? 1 : 0;
  JXLA_CATCH
}

jxla_status jxla_tensor_read(jxla_tensor_t t, int32_t dst_dtype, void* dst, int64_t nbytes) {
  JXLA_TRY
  TensorImpl* ti = T(t, "read");
  if (!dtype_valid(dst_dtype)) invalid("read: unknown dtype id ", dst_dtype);
  NodeRef n = ti->get();
  DType dd = static_cast<DType>(dst_dtype);
  int64_t want = n->numel() * dtype_size(dd);
  if (nbytes != want)
    invalid("read: destination has ", nbytes, " bytes but ", dtype_name(n->dtype), shape_str(n->shape), " as ",
            dtype_name(dd), " needs ", want);
  if (want && !dst) invalid("read: null destination");
  read_buffer(tensor_data(ti), dd, dst, want);
  JXLA_CATCH
}


jxla_status jxla_tensor_ir(jxla_tensor_t t, char* buf, int64_t cap, int64_t* len) {
  JXLA_TRY
  NodeRef n = T(t, "ir")->get();
  Graph g = canonicalize(capture({n.get()}));
  return copy_string(print_graph(g), buf, cap, len);
  JXLA_CATCH
}

jxla_status jxla_tensor_free(jxla_tensor_t t) {
  JXLA_TRY
  if (!t) return JXLA_OK;
  tensor_free(T(t, "free"));
  JXLA_CATCH
}

jxla_status jxla_sync(void) {
  JXLA_TRY
  sync_thread();
  JXLA_CATCH
}

jxla_status jxla_sync_tensors(const jxla_tensor_t* ts, int32_t n) {
  JXLA_TRY
  std::vector<TensorImpl*> v;
  for (int32_t i = 0; i < n; ++i) v.push_back(T(ts[i], "sync"));
  sync_tensors(v);
  JXLA_CATCH
}

jxla_status jxla_ir_roundtrip(const char* text, char* buf, int64_t cap, int64_t* len) {
  JXLA_TRY
  if (!text) invalid("ir_roundtrip: null text");
  Graph g = parse_graph(text);
  verify(g);
  return copy_string(print_graph(g), buf, cap, len);
  JXLA_CATCH
}

jxla_status jxla_metrics_report(int32_t short_form, char* buf, int64_t cap, int64_t* len) {
  JXLA_TRY
  return copy_string(metrics_report(short_form != 0), buf, cap, len);
  JXLA_CATCH
}

jxla_status jxla_metrics_clear(void) {
  JXLA_TRY
  metrics_clear();
  JXLA_CATCH
}

jxla_status jxla_metrics_counter(const char* name, int64_t* value) {
  JXLA_TRY
  if (!name) invalid("metrics_counter: null name");
  *value = counter_get(name);
  JXLA_CATCH
}

jxla_status jxla_memory_live_bytes(int64_t* bytes) {
  JXLA_TRY
  *bytes = live_buffer_bytes();
  JXLA_CATCH
}

jxla_status jxla_memory_live_tensors(int64_t* count) {
  JXLA_TRY
  *count = live_tensor_count();
  JXLA_CATCH
}

}  // extern "C"

// TPU devices are provided by backends/tpu (the emulator); until it registers, this reports
// that the device kind is unavailable.
