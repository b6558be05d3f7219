// c_api_function.cpp - the jxla_function_* entry points of jxla.h (compiled functions).
// Handles wrap a runtime Function with a magic word so a freed handle is reported as a state
// error instead of crashing (best effort: the memory of a freed handle is poisoned on free).
#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>
#include "c_api/c_api_internal.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "runtime/device.h"
#include "runtime/function.h"
#include "runtime/metrics.h"

using namespace jxla;

namespace {
struct FunctionHandle {
  static constexpr uint32_t kMagic = 0xf0c7109e;
  uint32_t magic = kMagic;
  std::unique_ptr<Function> fn;
};

Function& F(jxla_function_t h) {
  auto* p = reinterpret_cast<FunctionHandle*>(h);
  if (!p) fail(JXLA_ERR_STATE, "function: null function handle");
  if (p->magic != FunctionHandle::kMagic || !p->fn) fail(JXLA_ERR_STATE, "function: the function handle was freed");
  return *p->fn;
}

std::vector<NodeRef> nodes_of(const jxla_tensor_t* ts, int32_t n, const char* what) {
  if (n < 0 || (n > 0 && !ts)) invalid("function_create: bad ", what, " list");
  std::vector<NodeRef> v;
  for (int32_t i = 0; i < n; ++i) {
    std::string arg = std::string("function_create ") + what + " " + std::to_string(i);
    v.push_back(T(ts[i], arg.c_str())->get());
  }
  return v;
}

jxla_status do_call(jxla_function_t fn, const jxla_tensor_t* inputs, int32_t n, jxla_tensor_t* outputs, bool padded) {
  try {
    Function& f = F(fn);
    if (n < 0 || (n > 0 && !inputs)) invalid("function_call: bad input list");
    if (!outputs) invalid("function_call: null output array");
    std::vector<BufferRef> in;
    in.reserve(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
      std::string arg = "function_call input " + std::to_string(i);
      in.push_back(tensor_data(T(inputs[i], arg.c_str())));
    }
    std::vector<BufferRef> outs = padded ? f.call_padded(in) : f.call(in);
    // create every handle first so a failure leaves no half-written output array
    std::vector<TensorImpl*> hs;
    hs.reserve(outs.size());
    for (auto& b : outs) hs.push_back(tensor_new(make_data(b)));
    for (size_t i = 0; i < hs.size(); ++i) outputs[i] = reinterpret_cast<jxla_tensor_t>(hs[i]);
    return JXLA_OK;
  } catch (const Error& e) {
    return set_error(e.code, e.what());
  } catch (const std::bad_alloc&) {
    return set_error(JXLA_ERR_RESOURCE_EXHAUSTED, "function_call: out of host memory");
  } catch (const std::exception& e) {
    return set_error(JXLA_ERR_INTERNAL, e.what());
  } catch (...) {
    return set_error(JXLA_ERR_INTERNAL, "function_call: unknown engine error");
  }
}
}  // namespace

#define JXLA_FN_TRY try {
#define JXLA_FN_CATCH                                                                               \
  }                                                                                                 \
  catch (const Error& e) { return set_error(e.code, e.what()); }                                    \
  catch (const std::bad_alloc&) { return set_error(JXLA_ERR_RESOURCE_EXHAUSTED, "out of host memory"); } \
  catch (const std::exception& e) { return set_error(JXLA_ERR_INTERNAL, e.what()); }                \
  catch (...) { return set_error(JXLA_ERR_INTERNAL, "unknown engine error"); }                      \
  return JXLA_OK;

extern "C" {

jxla_status jxla_function_create(const jxla_tensor_t* params, int32_t nparams, const jxla_tensor_t* outputs, int32_t nout,
                                 jxla_function_t* out) {
  JXLA_FN_TRY
  if (!out) invalid("function_create: null out");
  auto h = std::make_unique<FunctionHandle>();
  h->fn = std::make_unique<Function>(nodes_of(params, nparams, "parameter"), nodes_of(outputs, nout, "output"));
  *out = reinterpret_cast<jxla_function_t>(h.release());
  JXLA_FN_CATCH
}

jxla_status jxla_function_create_on(const jxla_tensor_t* params, int32_t nparams, const jxla_tensor_t* outputs,
                                    int32_t nout, jxla_device_t device, jxla_function_t* out) {
  JXLA_FN_TRY
  if (!out) invalid("function_create: null out");
  auto h = std::make_unique<FunctionHandle>();
  h->fn = std::make_unique<Function>(nodes_of(params, nparams, "parameter"), nodes_of(outputs, nout, "output"),
                                     device ? D(device) : nullptr);
  *out = reinterpret_cast<jxla_function_t>(h.release());
  JXLA_FN_CATCH
}

jxla_status jxla_function_call(jxla_function_t fn, const jxla_tensor_t* inputs, int32_t n, jxla_tensor_t* outputs) {
  return do_call(fn, inputs, n, outputs, false);
}

jxla_status jxla_function_call_padded(jxla_function_t fn, const jxla_tensor_t* inputs, int32_t n, jxla_tensor_t* outputs) {
  return do_call(fn, inputs, n, outputs, true);
}

jxla_status jxla_function_call_host(jxla_function_t fn, int32_t n, const int32_t* dtypes, const int32_t* ranks,
                                    const int64_t* dims, const void* const* data, int32_t padded, int32_t nout,
                                    const int32_t* out_dtypes, void* const* out, const int64_t* out_caps) {
  JXLA_FN_TRY
  Function& f = F(fn);
  if (n < 0 || (n > 0 && (!dtypes || !ranks || !data))) invalid("function_call_host: bad input list");
  if (nout < 0 || (nout > 0 && (!out_dtypes || !out || !out_caps))) invalid("function_call_host: bad output list");
  if (static_cast<size_t>(nout) > f.outputs().size())
    invalid("function_call_host: ", nout, " outputs requested, the function has ", f.outputs().size());
  std::vector<BufferRef> in;
  in.reserve(static_cast<size_t>(n));
  const int64_t* d = dims;
  for (int32_t i = 0; i < n; ++i) {
    if (!dtype_valid(dtypes[i])) invalid("function_call_host: input ", i, " has unknown dtype id ", dtypes[i]);
    if (ranks[i] < 0 || ranks[i] > JXLA_MAX_RANK) invalid("function_call_host: input ", i, " has rank ", ranks[i]);
    if (ranks[i] > 0 && !d) invalid("function_call_host: null dims");
    Shape sh(d, d + ranks[i]);
    d += ranks[i];
    check_shape("function_call_host", sh);
    if (numel(sh) > 0 && !data[i]) invalid("function_call_host: input ", i, " has null data");
    in.push_back(borrow_host_buffer(static_cast<DType>(dtypes[i]), sh, data[i]));
  }
  {
    // the outputs die in this scope: after it, nothing may still refer to the borrowed inputs
    std::vector<BufferRef> outs = padded ? f.call_padded(in) : f.call(in);
    for (int32_t j = 0; j < nout; ++j) {
      if (!out[j]) continue;
      if (!dtype_valid(out_dtypes[j])) invalid("function_call_host: output ", j, " has unknown dtype id ", out_dtypes[j]);
      const BufferRef& b = outs[static_cast<size_t>(j)];
      const DType dd = static_cast<DType>(out_dtypes[j]);
      const int64_t want = b->numel() * dtype_size(dd);
      if (out_caps[j] < want)
        invalid("function_call_host: output ", j, " is ", dtype_name(b->dtype), shape_str(b->shape), ": ", want,
                " bytes as ", dtype_name(dd), " needed, the destination has ", out_caps[j]);
      read_buffer(b, dd, out[j], want);
    }
  }
  for (auto& b : in)
    if (b.use_count() != 1) internal("function_call_host: the engine kept a borrowed input");
  counter_add("InPlaceCall");
  JXLA_FN_CATCH
}

jxla_status jxla_function_arity(jxla_function_t fn, int32_t* nparams, int32_t* nout) {
  JXLA_FN_TRY
  Function& f = F(fn);
  if (nparams) *nparams = static_cast<int32_t>(f.params().size());
  if (nout) *nout = static_cast<int32_t>(f.outputs().size());
  JXLA_FN_CATCH
}

jxla_status jxla_function_ir(jxla_function_t fn, char* buf, int64_t cap, int64_t* len) {
  JXLA_FN_TRY
  return copy_string(F(fn).describe(), buf, cap, len);
  JXLA_FN_CATCH
}

// Compiled steps (TrainStep, docs/training.md "Session 5"): a call whose last outputs become
// the new values of `targets` (parameters, optimizer moments) in place. The targets' mutexes are
// held from the donation proof to the rebinding, so no other thread can pick up a target's old
// node meanwhile (the rule runtime/lazy.cpp's materialize follows). Input i is donated only when
// (a) the executable can write an output into it (Function::donatable), (b) its tensor is a
// target (so its old value is dead after the call) listed once among the inputs, and (c) the
// tensor's data leaf is held by that tensor alone and the leaf alone holds the buffer (no
// pending IR built on it, no other handle or detached copy, not frozen): nobody can read the
// old value again.
jxla_status jxla_function_call_update(jxla_function_t fn, const jxla_tensor_t* inputs, int32_t n, const jxla_tensor_t* targets,
                                      int32_t ntargets, jxla_tensor_t* outputs) {
  JXLA_FN_TRY
  Function& f = F(fn);
  if (n < 0 || (n > 0 && !inputs)) invalid("function_call_update: bad input list");
  if (ntargets < 0 || (ntargets > 0 && !targets)) invalid("function_call_update: bad target list");
  const size_t nout = f.outputs().size(), nt = static_cast<size_t>(ntargets);
  if (nt > nout) invalid("function_call_update: ", nt, " targets but the function has ", nout, " outputs");
  if (nout > nt && !outputs) invalid("function_call_update: null output array");
  std::vector<TensorImpl*> in_t, tg;
  // (per-step path: the handle checks name the list, not the index, to build no strings)
  for (int32_t i = 0; i < n; ++i) in_t.push_back(T(inputs[i], "function_call_update input"));
  for (size_t i = 0; i < nt; ++i) {
    TensorImpl* t = T(targets[i], "function_call_update target");
    if (std::find(tg.begin(), tg.end(), t) != tg.end()) invalid("function_call_update: target ", i, " is listed twice");
    NodeRef node = t->get();
    const FunctionSig& s = f.outputs()[nout - nt + i];
    if (node->dtype != s.dtype || node->shape != s.shape || node->device != f.device())
      invalid("function_call_update: target ", i, " is ", dtype_name(node->dtype), shape_str(node->shape), " on ",
              node->device->name(), " but output ", nout - nt + i, " is ", dtype_name(s.dtype), shape_str(s.shape), " on ",
              f.device()->name());
    tg.push_back(t);
  }
  std::vector<BufferRef> in;
  in.reserve(in_t.size());
  for (TensorImpl* t : in_t) in.push_back(tensor_data(t));  // before the locks: may sync
  std::vector<TensorImpl*> order = tg;
  std::sort(order.begin(), order.end());
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(order.size());
  for (TensorImpl* t : order) held.emplace_back(t->mu);
  std::vector<char> donated(in.size(), 0);
  if (donation_enabled()) {
    for (int i : f.donatable()) {
      size_t k = static_cast<size_t>(i);
      if (k >= in.size() || std::find(tg.begin(), tg.end(), in_t[k]) == tg.end()) continue;
      if (std::count(in_t.begin(), in_t.end(), in_t[k]) != 1) continue;
      const NodeRef& node = in_t[k]->node;  // its mutex is held
      if (!node->is_data() || node->data != in[k] || node.use_count() != 1 || in[k].use_count() != 2 ||
          in[k]->frozen.load(std::memory_order_acquire))
        continue;
      donated[k] = 1;
    }
  }
  std::vector<BufferRef> outs = f.call_donated(in, donated);
  in.clear();
  std::vector<TensorImpl*> hs;
  for (size_t i = 0; i + nt < nout; ++i) hs.push_back(tensor_new(make_data(outs[i])));
  for (size_t i = 0; i < nt; ++i) tg[i]->node = make_data(outs[nout - nt + i]);  // mutex held
  held.clear();
  for (size_t i = 0; i < hs.size(); ++i) outputs[i] = reinterpret_cast<jxla_tensor_t>(hs[i]);
  // a target that was pending (state created by the traced step) leaves its registry
  for (TensorImpl* t : tg) {
    bool registered;
    {
      std::lock_guard<std::mutex> g(t->mu);
      registered = t->reg != nullptr;
    }
    if (registered) tensor_assign(t, t->get());
  }
  JXLA_FN_CATCH
}

jxla_status jxla_tensor_alias(jxla_tensor_t x, jxla_tensor_t* out) {
  JXLA_FN_TRY
  if (!out) invalid("tensor_alias: null output");
  NodeRef n = T(x, "tensor_alias")->get();
  if (!n->is_data()) invalid("tensor_alias: the tensor is pending; alias a computed (data) tensor");
  *out = reinterpret_cast<jxla_tensor_t>(tensor_new(std::move(n)));
  JXLA_FN_CATCH
}

jxla_status jxla_tensor_share(jxla_tensor_t dst, jxla_tensor_t src) {
  JXLA_FN_TRY
  TensorImpl* d = T(dst, "tensor_share destination");
  NodeRef s = T(src, "tensor_share source")->get();
  NodeRef cur = d->get();
  if (!s->is_data()) invalid("tensor_share: the source is pending; share a computed (data) tensor");
  if (cur->dtype != s->dtype || cur->shape != s->shape || cur->device != s->device)
    invalid("tensor_share: source ", dtype_name(s->dtype), shape_str(s->shape), " on ", s->device->name(),
            " does not match the destination ", dtype_name(cur->dtype), shape_str(cur->shape), " on ", cur->device->name());
  tensor_assign(d, std::move(s));
  JXLA_FN_CATCH
}

jxla_status jxla_trace_target_set(jxla_device_t device, jxla_device_t* previous) {
  JXLA_FN_TRY
  Device* prev = set_trace_target(device ? D(device) : nullptr);
  if (previous) *previous = reinterpret_cast<jxla_device_t>(prev);
  JXLA_FN_CATCH
}

jxla_status jxla_trace_guard_begin(const char* what) {
  JXLA_FN_TRY
  trace_guard_begin(what);
  JXLA_FN_CATCH
}

jxla_status jxla_trace_guard_end(void) {
  JXLA_FN_TRY
  trace_guard_end();
  JXLA_FN_CATCH
}

jxla_status jxla_function_free(jxla_function_t fn) {
  JXLA_FN_TRY
  if (!fn) return JXLA_OK;
  F(fn);  // validates the handle
  auto* h = reinterpret_cast<FunctionHandle*>(fn);
  h->magic = 0;
  h->fn.reset();
  delete h;
  JXLA_FN_CATCH
}

}  // extern "C"
