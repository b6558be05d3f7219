// test_autodiff.cpp - finite-difference gradient checks (f64, host reference interpreter) for
// every differentiable op, with random shapes, broadcasting and multi-axis reductions; plus the
// documented tie rules (max/min split, max_pool2d first maximum), the softmax family's
// gradient-free max shift (closed forms, no eq mask in the backward), stop_gradient, unused wrt.
// Tolerance: central differences with h = 1e-6 in f64 have truncation error ~h^2*f''' (~1e-12)
// and rounding error ~eps*|f|/h (~1e-10), so 1e-6 (abs + rel) separates right from wrong rules
// by many orders of magnitude.
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include "autodiff/autodiff.h"
#include "backends/host/reference.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/buffer.h"
#include "runtime/device.h"
#include "tests/check.h"

using namespace jxla;

namespace {

std::mt19937_64 rng(1234);

NodeRef data64(const Shape& s, const std::vector<double>& v) {
  BufferRef b = alloc_buffer(DType::F64, s, host_device());
  std::memcpy(b->data, v.data(), v.size() * 8);
  return make_data(b);
}
NodeRef idata(const Shape& s, const std::vector<int64_t>& v) {
  BufferRef b = alloc_buffer(DType::S64, s, host_device());
  std::memcpy(b->data, v.data(), v.size() * 8);
  return make_data(b);
}
std::vector<double> randv(int64_t n, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

std::vector<double> eval(const NodeRef& n) {
  Capture c = capture({n.get()});
  Graph g = canonicalize(c);
  verify(g);
  std::vector<BufferRef> params;
  for (const Node* d : c.data_leaves) params.push_back(d->data);
  BufferRef out = ref_run(g, params, host_device())[0];
  if (out->dtype != DType::F64) {
    Attrs a; a.set_str("dtype", "f64");
    NodeRef conv = make_node(Op::Convert, DType::F64, out->shape, {make_data(out)}, a, host_device());
    out = ref_eval(*conv, {out.get()}, host_device());
  }
  return std::vector<double>(out->as<double>(), out->as<double>() + out->numel());
}

using Fn = std::function<NodeRef(const std::vector<NodeRef>&)>;

struct Spec { Shape shape; double lo = -1, hi = 1; };

// Checks d/dx_i sum(f(x) * w) against central differences for every element of every input.
void gradcheck(const std::string& name, const Fn& f, const std::vector<Spec>& specs, double h = 1e-6, double tol = 1e-6) {
  std::vector<std::vector<double>> vals;
  std::vector<NodeRef> leaves;
  for (auto& s : specs) {
    vals.push_back(randv(numel(s.shape), s.lo, s.hi));
    leaves.push_back(data64(s.shape, vals.back()));
  }
  NodeRef y = f(leaves);
  std::vector<double> wv = randv(y->numel(), 0.5, 1.5);
  NodeRef w = data64(y->shape, wv);
  auto loss_of = [&](const std::vector<NodeRef>& ls) {
    NodeRef yy = f(ls);
    return build(Op::ReduceSum, {b_binary(Op::Mul, b_convert(yy, DType::F64), w)}, Attrs());
  };
  NodeRef loss = loss_of(leaves);
  std::vector<NodeRef> gs = grad(loss, leaves);
  int bad = 0;
  for (size_t i = 0; i < leaves.size(); ++i) {
    std::vector<double> ga = gs[i] ? eval(gs[i]) : std::vector<double>(vals[i].size(), 0.0);
    for (size_t k = 0; k < vals[i].size(); ++k) {
      auto at = [&](double d) {
        std::vector<NodeRef> ls = leaves;
        std::vector<double> v = vals[i];
        v[k] += d;
        ls[i] = data64(specs[i].shape, v);
        return eval(loss_of(ls))[0];
      };
      double num = (at(h) - at(-h)) / (2 * h);
      if (std::fabs(num - ga[k]) > tol * (1 + std::fabs(num))) {
        if (bad++ < 3)
          std::printf("  %s: input %zu element %zu: analytic %.10g numeric %.10g\n", name.c_str(), i, k, ga[k], num);
      }
    }
  }
  if (bad) std::printf("gradcheck %s: %d mismatches\n", name.c_str(), bad);
  CHECK(bad == 0);
}

NodeRef un(Op op, const NodeRef& x) { return b_unary(op, x); }
NodeRef bin(Op op, const NodeRef& a, const NodeRef& b) { return b_binary(op, a, b); }
NodeRef op(Op o, std::vector<NodeRef> in, const std::string& attrs) { return build(o, std::move(in), Attrs::parse(op_name(o), attrs)); }

Shape rand_shape(int rank) {
  std::uniform_int_distribution<int64_t> d(1, 4);
  Shape s(rank);
  for (auto& x : s) x = d(rng);
  return s;
}

}  // namespace

int main() {
  // ---- unary
  struct U { Op op; double lo, hi; };
  for (U u : {U{Op::Neg, -2, 2}, U{Op::Abs, -2, 2}, U{Op::Exp, -2, 2}, U{Op::Log, 0.2, 3}, U{Op::Log1p, -0.5, 3},
              U{Op::Expm1, -2, 2}, U{Op::Sqrt, 0.2, 3}, U{Op::Rsqrt, 0.2, 3}, U{Op::Tanh, -2, 2}, U{Op::Sigmoid, -3, 3},
              U{Op::Relu, -2, 2}, U{Op::Gelu, -3, 3}, U{Op::GeluTanh, -3, 3}, U{Op::Erf, -2, 2}, U{Op::Sin, -3, 3},
              U{Op::Cos, -3, 3}, U{Op::Floor, -3, 3}, U{Op::Ceil, -3, 3}, U{Op::Round, -3, 3}, U{Op::Sign, -3, 3}}) {
    Shape s = rand_shape(3);
    gradcheck(op_name(u.op), [&](const std::vector<NodeRef>& x) { return un(u.op, x[0]); }, {{s, u.lo, u.hi}});
  }
  // convert through f32 is linear; h large enough that f32 rounding (~6e-8 relative) stays below tol
  gradcheck("convert", [](const std::vector<NodeRef>& x) { return b_convert(b_convert(x[0], DType::F32), DType::F64); },
            {{{3, 2}}}, 1e-2, 1e-4);

  // ---- binary with broadcasting (both operands differentiable)
  struct B { Op op; double lo, hi; };
  for (B b : {B{Op::Add, -2, 2}, B{Op::Sub, -2, 2}, B{Op::Mul, -2, 2}, B{Op::Div, 0.5, 2}, B{Op::Pow, 0.5, 2},
              B{Op::Max, -2, 2}, B{Op::Min, -2, 2}}) {
    Shape a = rand_shape(3), c = {a[1], 1};
    gradcheck(std::string(op_name(b.op)) + " bcast", [&](const std::vector<NodeRef>& x) { return bin(b.op, x[0], x[1]); },
              {{a, b.lo, b.hi}, {c, b.lo, b.hi}});
    gradcheck(std::string(op_name(b.op)) + " scalar", [&](const std::vector<NodeRef>& x) { return bin(b.op, x[0], x[1]); },
              {{{}, b.lo, b.hi}, {rand_shape(2), b.lo, b.hi}});
  }
  // select with a broadcast condition; clamp with tensor bounds
  {
    NodeRef cond = op(Op::Gt, {data64({4}, {0.3, -1, 2, -0.2}), b_full(0, DType::F64, {4}, host_device())}, "");
    gradcheck("select", [&](const std::vector<NodeRef>& x) { return build(Op::Select, {cond, x[0], x[1]}, Attrs()); },
              {{{3, 4}}, {{4}}});
    gradcheck("clamp", [&](const std::vector<NodeRef>& x) { return build(Op::Clamp, {x[0], x[1], x[2]}, Attrs()); },
              {{{3, 4}, -2, 2}, {{4}, -1, -0.3}, {{3, 1}, 0.3, 1}});
  }
  // ---- shape ops
  gradcheck("reshape", [](const std::vector<NodeRef>& x) { return b_reshape(x[0], {6, 4}); }, {{{2, 3, 4}}});
  gradcheck("transpose", [](const std::vector<NodeRef>& x) { return op(Op::Transpose, {x[0]}, "perm=[2,0,1]"); }, {{{2, 3, 4}}});
  gradcheck("broadcast", [](const std::vector<NodeRef>& x) { return b_broadcast_to(x[0], {2, 3, 4, 5}); }, {{{3, 1, 5}}});
  gradcheck("slice stride", [](const std::vector<NodeRef>& x) {
    return op(Op::Slice, {x[0]}, "start=[1,0,2], limit=[5,3,7], stride=[2,1,3]"); }, {{{6, 3, 8}}});
  gradcheck("concat", [](const std::vector<NodeRef>& x) { return op(Op::Concat, {x[0], x[1], x[2]}, "axis=1"); },
            {{{2, 1, 3}}, {{2, 4, 3}}, {{2, 2, 3}}});
  gradcheck("pad", [](const std::vector<NodeRef>& x) { return op(Op::Pad, {x[0]}, "low=[1,0], high=[2,3], value=1.5"); },
            {{{3, 2}}});
  // ---- indexing
  {
    NodeRef idx = idata({2, 2}, {2, 0, 2, 1});
    gradcheck("gather", [&](const std::vector<NodeRef>& x) { return op(Op::Gather, {x[0], idx}, "axis=1"); }, {{{2, 3, 2}}});
    NodeRef ti = idata({2, 4}, {0, 2, 2, 1, 1, 1, 0, 2});
    gradcheck("take_along_axis", [&](const std::vector<NodeRef>& x) { return op(Op::TakeAlongAxis, {x[0], ti}, "axis=1"); },
              {{{2, 3}}});
    gradcheck("scatter_add", [&](const std::vector<NodeRef>& x) { return op(Op::ScatterAdd, {x[0], ti, x[1]}, "axis=1"); },
              {{{2, 3}}, {{2, 4}}});
  }
  // ---- reductions over several axes, with and without keepdims
  for (Op r : {Op::ReduceSum, Op::ReduceMax, Op::ReduceMin, Op::ReduceProd, Op::ReduceMean, Op::LogSumExp}) {
    for (int keep = 0; keep < 2; ++keep) {
      std::string attrs = "axes=[0,2], keepdims=" + std::to_string(keep);
      double lo = r == Op::ReduceProd ? 0.5 : -2, hi = r == Op::ReduceProd ? 1.5 : 2;
      gradcheck(std::string(op_name(r)) + " " + attrs, [&](const std::vector<NodeRef>& x) { return op(r, {x[0]}, attrs); },
                {{rand_shape(3), lo, hi}});
    }
    gradcheck(std::string(op_name(r)) + " all", [&](const std::vector<NodeRef>& x) { return op(r, {x[0]}, ""); },
              {{{3, 4}, 0.5, 1.5}});
  }
  gradcheck("softmax", [](const std::vector<NodeRef>& x) { return op(Op::Softmax, {x[0]}, "axis=1"); }, {{{3, 5}}});
  gradcheck("log_softmax", [](const std::vector<NodeRef>& x) { return op(Op::LogSoftmax, {x[0]}, "axis=-1"); }, {{{2, 3, 4}}});
  // ---- dot_general: plain matmul, and batch/contracting dims in unusual positions
  gradcheck("matmul", [](const std::vector<NodeRef>& x) {
    return op(Op::DotGeneral, {x[0], x[1]}, "lhs_contract=[1], rhs_contract=[0]"); }, {{{3, 4}}, {{4, 5}}});
  gradcheck("dot_general batched", [](const std::vector<NodeRef>& x) {
    return op(Op::DotGeneral, {x[0], x[1]}, "lhs_batch=[2], rhs_batch=[1], lhs_contract=[0], rhs_contract=[2]"); },
    {{{4, 3, 2}}, {{5, 2, 4}}});
  gradcheck("dot_general 2 contract", [](const std::vector<NodeRef>& x) {
    return op(Op::DotGeneral, {x[0], x[1]}, "lhs_contract=[2,0], rhs_contract=[0,1]"); }, {{{2, 3, 4}}, {{4, 2, 3}}});
  // ---- conv2d and pools
  gradcheck("conv2d", [](const std::vector<NodeRef>& x) {
    return op(Op::Conv2d, {x[0], x[1]}, "stride=[1,1], padding=[1,1]"); }, {{{2, 2, 5, 4}}, {{3, 2, 3, 3}}});
  gradcheck("conv2d stride/dilation/groups", [](const std::vector<NodeRef>& x) {
    return op(Op::Conv2d, {x[0], x[1]}, "stride=[2,3], padding=[1,0,2,1], dilation=[2,1], groups=2"); },
    {{{2, 4, 7, 8}}, {{6, 2, 2, 3}}});
  gradcheck("max_pool2d", [](const std::vector<NodeRef>& x) {
    return op(Op::MaxPool2d, {x[0]}, "kernel=[2,2], stride=[2,2]"); }, {{{2, 3, 4, 6}}});
  gradcheck("max_pool2d overlap pad ceil", [](const std::vector<NodeRef>& x) {
    return op(Op::MaxPool2d, {x[0]}, "kernel=[3,2], stride=[2,1], padding=[1,1], ceil_mode=1"); }, {{{1, 2, 6, 5}}});
  for (int incl = 0; incl < 2; ++incl)
    gradcheck("avg_pool2d count_include_pad=" + std::to_string(incl), [&](const std::vector<NodeRef>& x) {
      return op(Op::AvgPool2d, {x[0]}, "kernel=[3,3], stride=[2,2], padding=[1,1], count_include_pad=" + std::to_string(incl)); },
      {{{2, 2, 5, 6}}});

  // ---- documented tie rules
  {
    NodeRef x = data64({4}, {1, 3, 3, 2});
    auto g = grad(op(Op::ReduceMax, {x}, ""), {x});
    auto v = eval(g[0]);
    CHECK_NEAR(v[0], 0.0, 0); CHECK_NEAR(v[1], 0.5, 0); CHECK_NEAR(v[2], 0.5, 0); CHECK_NEAR(v[3], 0.0, 0);
    NodeRef a = data64({2}, {1, 2}), b = data64({2}, {1, 3});
    auto gm = grad(op(Op::ReduceSum, {bin(Op::Max, a, b)}, ""), {a, b});
    auto va = eval(gm[0]), vb = eval(gm[1]);
    CHECK_NEAR(va[0], 0.5, 0); CHECK_NEAR(vb[0], 0.5, 0); CHECK_NEAR(va[1], 0.0, 0); CHECK_NEAR(vb[1], 1.0, 0);
    NodeRef p = data64({1, 1, 2, 2}, {5, 5, 1, 5});
    auto gp = grad(op(Op::ReduceSum, {op(Op::MaxPool2d, {p}, "kernel=[2,2]")}, ""), {p});
    auto vp = eval(gp[0]);
    CHECK_NEAR(vp[0], 1.0, 0); CHECK_NEAR(vp[1], 0.0, 0); CHECK_NEAR(vp[3], 0.0, 0);
  }
  // ---- softmax / log_softmax / logsumexp: the max shift carries no gradient (builder.cpp
  //      shift_no_grad), so ties at the maximum need no tie rule and the backward has no eq mask;
  //      closed forms: d/dx sum(w * log_softmax(x)) = w - softmax(x) * rowsum(w),
  //      d/dx sum(w * logsumexp(x)) = w_row * softmax(x), d/dx sum(w * softmax(x)) = s*(w - s.w)
  {
    const std::vector<double> xv = {1, 3, 3, 2, 0, 0, 0, 0, -1, 5, 2, 5}, wv = {0.5, -1, 2, 0.25, 1, 0, 0, -3, 0.1, 0.2, 0.3, 0.4};
    NodeRef x = data64({3, 4}, xv), w = data64({3, 4}, wv), wr = data64({3}, {0.5, -2, 1.5});
    std::vector<double> sm(12), ws(3, 0), sw(3, 0);
    for (int r = 0; r < 3; ++r) {
      double mx = -HUGE_VAL, z = 0;
      for (int c = 0; c < 4; ++c) mx = std::max(mx, xv[r * 4 + c]);
      for (int c = 0; c < 4; ++c) z += std::exp(xv[r * 4 + c] - mx);
      for (int c = 0; c < 4; ++c) {
        sm[r * 4 + c] = std::exp(xv[r * 4 + c] - mx) / z;
        ws[r] += wv[r * 4 + c];
      }
      for (int c = 0; c < 4; ++c) sw[r] += sm[r * 4 + c] * wv[r * 4 + c];
    }
    auto count_eq = [](const NodeRef& n) {
      int k = 0;
      for (const Node* m : capture({n.get()}).order) k += m->op == Op::Eq;
      return k;
    };
    NodeRef gl = grad(op(Op::ReduceSum, {bin(Op::Mul, w, op(Op::LogSoftmax, {x}, "axis=1"))}, ""), {x})[0];
    NodeRef ge = grad(op(Op::ReduceSum, {bin(Op::Mul, wr, op(Op::LogSumExp, {x}, "axes=[1]"))}, ""), {x})[0];
    NodeRef gs = grad(op(Op::ReduceSum, {bin(Op::Mul, w, op(Op::Softmax, {x}, "axis=1"))}, ""), {x})[0];
    CHECK_EQ(count_eq(gl), 0);
    CHECK_EQ(count_eq(gs), 0);
    auto vl = eval(gl), ve = eval(ge), vs = eval(gs);
    const double wrv[3] = {0.5, -2, 1.5};
    for (int i = 0; i < 12; ++i) {
      CHECK_NEAR(vl[i], wv[i] - sm[i] * ws[i / 4], 1e-12);
      CHECK_NEAR(ve[i], wrv[i / 4] * sm[i], 1e-12);
      CHECK_NEAR(vs[i], sm[i] * (wv[i] - sw[i / 4]), 1e-12);
    }
  }
  // ---- stop_gradient, unused wrt, errors
  {
    NodeRef x = data64({3}, {1, 2, 3}), z = data64({3}, {1, 1, 1});
    NodeRef y = bin(Op::Mul, x, x);
    NodeRef l = op(Op::ReduceSum, {bin(Op::Mul, stop_gradient(y), x)}, "");  // d/dx = y = x^2 (not 3x^2)
    auto g = grad(l, {x, z});
    auto v = eval(g[0]);
    CHECK_NEAR(v[2], 9.0, 1e-12);
    CHECK(g[1] == nullptr);
    NodeRef sx = stop_gradient(x);  // detached data leaf: a new leaf over the same buffer
    CHECK(sx->is_data() && sx.get() != x.get() && sx->data == x->data);
    CHECK(grad(op(Op::ReduceSum, {sx}, ""), {x})[0] == nullptr);
    bool threw = false;
    NodeRef s1 = data64({}, {2.0});
    CHECK_NEAR(eval(grad(s1, {s1})[0])[0], 1.0, 0);  // d s / d s = 1 even for data
    try { grad(s1, {z}); } catch (const Error& e) { threw = std::string(e.what()).find("already materialized") != std::string::npos; }
    CHECK(threw);
    threw = false;
    try { grad(y, {x}); } catch (const Error& e) { threw = std::string(e.what()).find("exactly one element") != std::string::npos; }
    CHECK(threw);
  }
  return check_finish();
}
