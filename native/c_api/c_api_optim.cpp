// c_api_optim.cpp - fused optimizer tracing (jxla.h "fused optimizer tracing" block): Adam's
// update of one parameter traced in ONE call instead of ~17 (one per op and assign), which
// removes most of the per-step tracing cost of a training loop (docs/training.md). The nodes are
// built exactly as optim/Adam.java builds them op by op (same build() calls, same operand
// order), so the traced graph, its fingerprint and the results are identical.
#include <string>
#include "c_api/c_api_internal.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "runtime/device.h"

using namespace jxla;

extern "C" {

jxla_status jxla_optim_adam_update(jxla_tensor_t p, jxla_tensor_t g, jxla_tensor_t m, jxla_tensor_t v, const jxla_tensor_t* s) {
  JXLA_TRY
  TensorImpl* tp = T(p, "adam_update parameter");
  TensorImpl* tm = T(m, "adam_update first moment");
  TensorImpl* tv = T(v, "adam_update second moment");
  NodeRef P = tp->get(), G = T(g, "adam_update gradient")->get(), M = tm->get(), V = tv->get();
  if (!is_float(P->dtype)) invalid("adam_update: the parameter must be floating point, got ", dtype_name(P->dtype));
  const char* names[] = {"gradient", "first moment", "second moment"};
  const NodeRef* like[] = {&G, &M, &V};
  for (int i = 0; i < 3; ++i) {
    const Node& x = **like[i];
    if (x.dtype != P->dtype || x.shape != P->shape || x.device != P->device)
      invalid("adam_update: the ", names[i], " is ", dtype_name(x.dtype), shape_str(x.shape), " on ", x.device->name(),
              ", the parameter ", dtype_name(P->dtype), shape_str(P->shape), " on ", P->device->name());
  }
  if (!s) invalid("adam_update: the scalar list is NULL");
  const char* roles[] = {"beta1", "1-beta1", "1/bias_correction1", "beta2", "1-beta2", "1/bias_correction2", "eps", "lr"};
  NodeRef S[8];
  for (int i = 0; i < 8; ++i) {
    std::string arg = std::string("adam_update scalar ") + roles[i];
    S[i] = T(s[i], arg.c_str())->get();
    if (S[i]->numel() != 1 || S[i]->dtype != P->dtype)
      invalid("adam_update: scalar ", roles[i], " must be one element of ", dtype_name(P->dtype), ", got ",
              dtype_name(S[i]->dtype), shape_str(S[i]->shape));
  }
  auto bin = [](Op op, const NodeRef& a, const NodeRef& b) { return build(op, {a, b}, Attrs()); };
  // Adam.java: m.mul(b1).add(g.mul(c1)); v.mul(b2).add(g.mul(g).mul(c2));
  //            p.sub(m.mul(s1).div(v.mul(s2).sqrt().add(eps)).mul(lr))
  NodeRef m2 = bin(Op::Add, bin(Op::Mul, M, S[0]), bin(Op::Mul, G, S[1]));
  NodeRef v2 = bin(Op::Add, bin(Op::Mul, V, S[3]), bin(Op::Mul, bin(Op::Mul, G, G), S[4]));
  NodeRef mhat = bin(Op::Mul, m2, S[2]);
  NodeRef vhat = bin(Op::Mul, v2, S[5]);
  NodeRef den = bin(Op::Add, build(Op::Sqrt, {vhat}, Attrs()), S[6]);
  NodeRef p2 = bin(Op::Sub, P, bin(Op::Mul, bin(Op::Div, mhat, den), S[7]));
  // assigned in Adam.java's order (m, v, p): every check passed, so all three happen
  tensor_assign(tm, std::move(m2));
  tensor_assign(tv, std::move(v2));
  tensor_assign(tp, std::move(p2));
  JXLA_CATCH
}

}  // extern "C"
