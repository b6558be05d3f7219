// c_api_autodiff.cpp - the autodiff entry points of jxla.h (grad, vjp, detach, assign).
// Same error discipline as c_api.cpp: every exception becomes a status + thread-local message.
#include <new>
#include <string>
#include <vector>
#include "autodiff/autodiff.h"
#include "c_api/c_api_internal.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "runtime/device.h"
#include "runtime/metrics.h"

using namespace jxla;

namespace {

jxla_status guard(void (*body)(void*), void* ctx) {
  try {
    body(ctx);
  } catch (const Error& e) {
    return set_error(e.code, e.what());
  } catch (const std::bad_alloc&) {
    return set_error(JXLA_ERR_RESOURCE_EXHAUSTED, "out of host memory");
  } catch (const std::exception& e) {
    return set_error(JXLA_ERR_INTERNAL, e.what());
  } catch (...) {
    return set_error(JXLA_ERR_INTERNAL, "unknown engine error");
  }
  return JXLA_OK;
}

jxla_tensor_t handle(NodeRef n) {
  counter_add("LazyTracing");
  return reinterpret_cast<jxla_tensor_t>(tensor_new(std::move(n)));
}

struct VjpArgs {
  jxla_tensor_t y, ct;
  const jxla_tensor_t* wrt;
  int32_t n;
  jxla_tensor_t* out;
};

void run_vjp(void* p) {
  auto* a = static_cast<VjpArgs*>(p);
  const char* nm = a->ct ? "vjp" : "grad";
  if (a->n < 0 || (a->n > 0 && (!a->wrt || !a->out))) invalid(nm, ": bad wrt/output list (n = ", a->n, ")");
  NodeRef y = T(a->y, a->ct ? "vjp output" : "grad loss")->get();
  std::vector<NodeRef> wrt;
  for (int32_t i = 0; i < a->n; ++i) {
    std::string arg = std::string(nm) + " wrt " + std::to_string(i);
    wrt.push_back(T(a->wrt[i], arg.c_str())->get());
  }
  std::vector<NodeRef> gs = a->ct ? vjp(y, T(a->ct, "vjp cotangent")->get(), wrt) : grad(y, wrt);
  // create every handle only after all rules succeeded: no half-written output on error
  for (int32_t i = 0; i < a->n; ++i) a->out[i] = gs[i] ? handle(gs[i]) : nullptr;
}

}  // namespace

extern "C" {

jxla_status jxla_tensor_grad(jxla_tensor_t loss, const jxla_tensor_t* wrt, int32_t n, jxla_tensor_t* grads_out) {
  VjpArgs a{loss, nullptr, wrt, n, grads_out};
  return guard(run_vjp, &a);
}

jxla_status jxla_tensor_vjp(jxla_tensor_t y, jxla_tensor_t cotangent, const jxla_tensor_t* wrt, int32_t n,
                            jxla_tensor_t* grads_out) {
  if (!cotangent) return set_error(JXLA_ERR_STATE, "vjp cotangent: null tensor handle");
  VjpArgs a{y, cotangent, wrt, n, grads_out};
  return guard(run_vjp, &a);
}

jxla_status jxla_tensor_detach(jxla_tensor_t x, jxla_tensor_t* out) {
  struct A { jxla_tensor_t x; jxla_tensor_t* out; } a{x, out};
  return guard([](void* p) {
    auto* a = static_cast<A*>(p);
    if (!a->out) invalid("detach: null output");
    *a->out = handle(stop_gradient(T(a->x, "detach")->get()));
  }, &a);
}

jxla_status jxla_tensor_assign(jxla_tensor_t dst, jxla_tensor_t src) {
  struct A { jxla_tensor_t d, s; } a{dst, src};
  return guard([](void* p) {
    auto* a = static_cast<A*>(p);
    TensorImpl* d = T(a->d, "assign destination");
    NodeRef s = T(a->s, "assign source")->get();
    NodeRef cur = d->get();
    if (cur->dtype != s->dtype || cur->shape != s->shape || cur->device != s->device)
      invalid("assign: source ", dtype_name(s->dtype), shape_str(s->shape), " on ", s->device->name(),
              " does not match the destination ", dtype_name(cur->dtype), shape_str(cur->shape), " on ", cur->device->name());
    // a copy of data is a new variable: a fresh leaf over the same buffer, so the destination
    // never aliases the source for autodiff (two parameters loaded from one value stay distinct)
    if (s->is_data()) s = make_data(s->data);
    tensor_assign(d, std::move(s));
  }, &a);
}

}  // extern "C"
