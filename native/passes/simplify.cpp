// simplify.cpp - the algebraic simplifier: local identities applied bottom-up until nothing
// changes (at most 8 rounds per run). Every rule keeps dtype and shape. Rules:
//   x+0, 0+x, x-0, x*1, 1*x, x/1 -> x          x*0, 0*x -> 0 for integers only (NaN/inf*0 != 0)
//   neg(neg x) -> x                             convert(x) to x's dtype -> x
//   reshape(reshape x) -> reshape x             reshape to x's own shape -> x
//   transpose(transpose x) -> one transpose     identity transpose -> x
//   broadcast(full) / reshape(full) / transpose(full) -> full of the result shape
//   broadcast to x's own shape with dims 0..r-1 -> x
//   slice of all of x (starts 0, strides 1, x's shape) -> x   (a one-replica batch split)
//   pow(x, 2) -> x*x    pow(x, 1) -> x
// Note: x+0 -> x differs from IEEE only for x = -0 (-0 + 0 = +0), as in XLA's simplifier.
#include "ir/builder.h"
#include "passes/pass.h"

namespace jxla {
namespace {
bool full_is(const NodeRef& n, double v) { return is_full(n.get()) && full_value(n.get()) == v; }

NodeRef make_full_like(const NodeRef& n, double v) {
  Attrs a;
  a.set_str("dtype", dtype_name(n->dtype));
  a.set_ints("shape", n->shape);
  a.set_float("value", v);
  return make_node(Op::Full, n->dtype, n->shape, {}, std::move(a), n->device);
}

NodeRef simplify_node(const NodeRef& n, const std::vector<NodeRef>& in) {
  const Op op = n->op;
  auto same = [&](const NodeRef& x) { return x->dtype == n->dtype && x->shape == n->shape; };
  switch (op) {
    case Op::Add:
      if (full_is(in[1], 0) && same(in[0])) return in[0];
      if (full_is(in[0], 0) && same(in[1])) return in[1];
      break;
    case Op::Sub:
      if (full_is(in[1], 0) && same(in[0])) return in[0];
      break;
    case Op::Mul:
      if (full_is(in[1], 1) && same(in[0])) return in[0];
      if (full_is(in[0], 1) && same(in[1])) return in[1];
      if (is_int(n->dtype) && (full_is(in[0], 0) || full_is(in[1], 0))) return make_full_like(n, 0);
      break;
    case Op::Div:
      if (full_is(in[1], 1) && same(in[0])) return in[0];
      break;
    case Op::Pow:
      if (is_float(n->dtype) && full_is(in[1], 2)) return make_node(Op::Mul, n->dtype, n->shape, {in[0], in[0]}, Attrs(), n->device);
      if (full_is(in[1], 1) && same(in[0])) return in[0];
      break;
    case Op::Neg:
      if (in[0]->op == Op::Neg) return in[0]->inputs[0];
      break;
    case Op::Convert:
      if (same(in[0])) return in[0];
      break;
    case Op::Reshape:
      if (same(in[0])) return in[0];
      if (is_full(in[0].get())) return make_full_like(n, full_value(in[0].get()));
      if (in[0]->op == Op::Reshape) return make_node(Op::Reshape, n->dtype, n->shape, {in[0]->inputs[0]}, n->attrs, n->device);
      break;
    case Op::Transpose: {
      if (is_full(in[0].get())) return make_full_like(n, full_value(in[0].get()));
      auto perm = n->attrs.get_ints("transpose", "perm");
      if (in[0]->op == Op::Transpose) {
        // out dim i = inner dim perm[i] = x dim inner_perm[perm[i]]
        auto inner = in[0]->attrs.get_ints("transpose", "perm");
        std::vector<int64_t> comp(perm.size());
        for (size_t i = 0; i < perm.size(); ++i) comp[i] = inner[perm[i]];
        Attrs a;
        a.set_ints("perm", comp);
        return make_node(Op::Transpose, n->dtype, n->shape, {in[0]->inputs[0]}, std::move(a), n->device);
      }
      bool ident = true;
      for (size_t i = 0; i < perm.size(); ++i) ident = ident && perm[i] == static_cast<int64_t>(i);
      if (ident && same(in[0])) return in[0];
      break;
    }
    case Op::Broadcast: {
      if (is_full(in[0].get())) return make_full_like(n, full_value(in[0].get()));
      auto dims = n->attrs.get_ints("broadcast", "dims");
      bool ident = same(in[0]);
      for (size_t i = 0; ident && i < dims.size(); ++i) ident = dims[i] == static_cast<int64_t>(i);
      if (ident) return in[0];
      break;
    }
    case Op::Slice: {
      if (!same(in[0])) break;
      auto start = n->attrs.get_ints("slice", "start");
      auto stride = n->attrs.get_ints_or("stride", {});
      bool ident = true;
      for (int64_t v : start) ident = ident && v == 0;
      for (int64_t v : stride) ident = ident && v == 1;
      if (ident) return in[0];
      break;
    }
    default: break;
  }
  return nullptr;
}

class Simplify final : public Pass {
 public:
  const char* name() const override { return "simplify"; }
  bool run(Graph& g) override {
    bool any = false;
    for (int round = 0; round < 8; ++round) {
      if (!rewrite_graph(g, simplify_node)) break;
      any = true;
    }
    return any;
  }
};
}  // namespace
std::unique_ptr<Pass> make_simplify_pass() { return std::make_unique<Simplify>(); }
}  // namespace jxla
