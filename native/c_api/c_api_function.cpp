// c_api_function.cpp - the jxla_function_* entry points of jxla.h (compiled functions).
// Handles wrap a runtime Function with a magic word so a freed handle is reported as a state
// error instead of crashing (best effort: the memory of a freed handle is poisoned on free).
#include <memory>
#include <vector>
#include "c_api/c_api_internal.h"
#include "ir/error.h"
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
