// vjp_rules.cpp - the VJP rule of every differentiable primitive except conv/pools
// (vjp_conv.cpp). Each rule builds IR with build()/b_* from the forward node n, its inputs and
// the cotangent g (n's shape and dtype) and returns one cotangent per input (nullptr = none).
// Conventions (documented in docs/training.md):
//  - max/min (binary and reductions): tied elements share the gradient equally (JAX/PyTorch amax).
//  - clamp: x gets the gradient where lo <= x <= hi; a bound gets it where it is active strictly.
//  - relu'(0) = 0; abs'(0) = 0 (sign); floor/ceil/round/sign have zero gradient.
//  - pow: d/da = b*a^(b-1) (0 where b == 0); d/db = y*log(a) where a > 0, else 0.
//  - reduce_prod: g * y / x (undefined where x == 0; documented limitation).
#include <algorithm>
#include <cmath>
#include "autodiff/autodiff.h"
#include "ir/builder.h"
#include "ir/error.h"

namespace jxla {

namespace {

NodeRef cst(double v, const NodeRef& like) { return b_full(v, like->dtype, like->shape, like->device); }
NodeRef add(const NodeRef& a, const NodeRef& b) { return b_binary(Op::Add, a, b); }
NodeRef sub(const NodeRef& a, const NodeRef& b) { return b_binary(Op::Sub, a, b); }
NodeRef mul(const NodeRef& a, const NodeRef& b) { return b_binary(Op::Mul, a, b); }
NodeRef dv(const NodeRef& a, const NodeRef& b) { return b_binary(Op::Div, a, b); }
NodeRef mulc(const NodeRef& a, double c) { return mul(a, cst(c, a)); }
NodeRef sel(const NodeRef& p, const NodeRef& a, const NodeRef& b) { return build(Op::Select, {p, a, b}, Attrs()); }
NodeRef cmp(Op op, const NodeRef& a, const NodeRef& b) { return b_binary(op, a, b); }
NodeRef zeros_like(const NodeRef& x) { return cst(0.0, x); }
NodeRef where_or_zero(const NodeRef& p, const NodeRef& g) { return sel(p, g, zeros_like(g)); }

NodeRef transpose(const NodeRef& x, const std::vector<int64_t>& perm) {
  bool id = true;
  for (size_t i = 0; i < perm.size(); ++i) if (perm[i] != static_cast<int64_t>(i)) id = false;
  if (id) return x;
  Attrs a; a.set_ints("perm", perm);
  return build(Op::Transpose, {x}, std::move(a));
}

// Shape of a reduction's result with keepdims = 1.
Shape kept_shape(const Shape& xs, const std::vector<int64_t>& axes) {
  Shape s = xs;
  for (auto a : axes) s[a] = 1;
  return s;
}

// Broadcasts a reduction result (or its cotangent) back to the operand's shape.
NodeRef unreduce(const NodeRef& g, const Node& n) {
  const Shape& xs = n.inputs[0]->shape;
  auto axes = n.attrs.get_ints("reduce", "axes");
  return b_broadcast_to(b_reshape(g, kept_shape(xs, axes)), xs);
}

NodeRef dot(const NodeRef& l, const NodeRef& r, std::vector<int64_t> lc, std::vector<int64_t> rc, std::vector<int64_t> lb,
            std::vector<int64_t> rb, const Attrs& fwd) {
  Attrs a;
  a.set_ints("lhs_contract", lc); a.set_ints("rhs_contract", rc);
  a.set_ints("lhs_batch", lb); a.set_ints("rhs_batch", rb);
  if (fwd.has("precision")) a.set_int("precision", fwd.get_int("dot_general", "precision"));
  return build(Op::DotGeneral, {l, r}, std::move(a));
}

std::vector<int64_t> free_dims(size_t rank, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<bool> used(rank, false);
  for (auto d : a) used[d] = true;
  for (auto d : b) used[d] = true;
  std::vector<int64_t> f;
  for (size_t d = 0; d < rank; ++d) if (!used[d]) f.push_back(d);
  return f;
}

// Cotangent of one dot operand: contract g with the other operand over the other's free dims,
// then permute the result [batch, own free, own contracting (in the other's dim order)].
NodeRef dot_operand_grad(const NodeRef& g, const NodeRef& other, const Shape& own_shape, const std::vector<int64_t>& own_c,
                         const std::vector<int64_t>& own_b, const std::vector<int64_t>& oth_c, const std::vector<int64_t>& oth_b,
                         size_t g_free_offset, size_t n_own_free, const Attrs& fwd) {
  size_t nb = own_b.size();
  auto own_f = free_dims(own_shape.size(), own_b, own_c);
  auto oth_f = free_dims(other->shape.size(), oth_b, oth_c);
  std::vector<int64_t> gc, gb;
  for (size_t j = 0; j < oth_f.size(); ++j) gc.push_back(static_cast<int64_t>(g_free_offset + j));
  for (size_t i = 0; i < nb; ++i) gb.push_back(static_cast<int64_t>(i));
  NodeRef r = dot(g, other, gc, oth_f, gb, oth_b, fwd);
  // result dims: [0, nb) batch, [nb, nb+n_own_free) own free (in g's order == own_f order),
  // then the other's remaining (contracting) dims in increasing order of the other's dims
  std::vector<int64_t> pos(own_shape.size());
  for (size_t i = 0; i < nb; ++i) pos[own_b[i]] = static_cast<int64_t>(i);
  for (size_t j = 0; j < n_own_free; ++j) pos[own_f[j]] = static_cast<int64_t>(nb + j);
  std::vector<int64_t> oc_sorted = oth_c;
  std::sort(oc_sorted.begin(), oc_sorted.end());
  for (size_t k = 0; k < oc_sorted.size(); ++k) {
    size_t idx = std::find(oth_c.begin(), oth_c.end(), oc_sorted[k]) - oth_c.begin();
    pos[own_c[idx]] = static_cast<int64_t>(nb + n_own_free + k);
  }
  return transpose(r, pos);
}

// Places g (the result of a stride-1 or strided slice along every axis) back into zeros of shape xs.
NodeRef unslice(const NodeRef& g, const Shape& xs, const std::vector<int64_t>& st, const std::vector<int64_t>& /*limit*/,
                const std::vector<int64_t>& sd) {
  if (g->numel() == 0) return b_full(0.0, g->dtype, xs, g->device);
  NodeRef cur = g;
  for (size_t ax = 0; ax < xs.size(); ++ax) {
    if (sd[ax] == 1) continue;
    // interior padding by stride-1 zeros: [.., n, ..] -> [.., n, 1, ..] -> pad -> [.., n*s, ..] -> first (n-1)*s+1
    Shape s = cur->shape;
    int64_t n = s[ax];
    Shape u = s; u.insert(u.begin() + ax + 1, 1);
    NodeRef r = b_reshape(cur, u);
    Attrs pa;
    std::vector<int64_t> lo(u.size(), 0), hi(u.size(), 0);
    hi[ax + 1] = sd[ax] - 1;
    pa.set_ints("low", lo); pa.set_ints("high", hi); pa.set_float("value", 0.0);
    r = build(Op::Pad, {r}, std::move(pa));
    Shape m = s; m[ax] = n * sd[ax];
    r = b_reshape(r, m);
    Attrs sa;
    std::vector<int64_t> a0(m.size(), 0), lim = m;
    lim[ax] = (n - 1) * sd[ax] + 1;
    sa.set_ints("start", a0); sa.set_ints("limit", lim);
    cur = build(Op::Slice, {r}, std::move(sa));
  }
  std::vector<int64_t> lo(xs.size()), hi(xs.size());
  for (size_t ax = 0; ax < xs.size(); ++ax) {
    lo[ax] = st[ax];
    hi[ax] = xs[ax] - st[ax] - cur->shape[ax];
  }
  Attrs pa; pa.set_ints("low", lo); pa.set_ints("high", hi); pa.set_float("value", 0.0);
  return build(Op::Pad, {cur}, std::move(pa));
}

NodeRef slice_axis(const NodeRef& x, size_t ax, int64_t a, int64_t b) {
  std::vector<int64_t> st(x->shape.size(), 0), li = x->shape;
  st[ax] = a; li[ax] = b;
  Attrs sa; sa.set_ints("start", st); sa.set_ints("limit", li);
  return build(Op::Slice, {x}, std::move(sa));
}

NodeRef scatter_add(const NodeRef& base, const NodeRef& idx, const NodeRef& upd, int64_t axis) {
  Attrs a; a.set_int("axis", axis);
  return build(Op::ScatterAdd, {base, idx, upd}, std::move(a));
}

}  // namespace

std::vector<NodeRef> vjp_rule(const NodeRef& np, const NodeRef& g, const std::vector<bool>& need) {
  const Node& n = *np;
  const auto& in = n.inputs;
  std::vector<NodeRef> r(in.size());
  const NodeRef& x = in[0];
  switch (n.op) {
    // ---- unary
    case Op::Neg: r[0] = b_unary(Op::Neg, g); break;
    case Op::Abs: r[0] = mul(g, b_unary(Op::Sign, x)); break;
    case Op::Exp: r[0] = mul(g, np); break;
    case Op::Log: r[0] = dv(g, x); break;
    case Op::Log1p: r[0] = dv(g, add(x, cst(1, x))); break;
    case Op::Expm1: r[0] = mul(g, add(np, cst(1, x))); break;
    case Op::Sqrt: r[0] = dv(mulc(g, 0.5), np); break;
    case Op::Rsqrt: r[0] = mul(mulc(g, -0.5), dv(np, x)); break;
    case Op::Tanh: r[0] = mul(g, sub(cst(1, x), mul(np, np))); break;
    case Op::Sigmoid: r[0] = mul(g, mul(np, sub(cst(1, x), np))); break;
    case Op::Relu: r[0] = where_or_zero(cmp(Op::Gt, x, zeros_like(x)), g); break;
    case Op::Gelu: {  // Phi(x) + x * phi(x)
      NodeRef cdf = mulc(add(cst(1, x), b_unary(Op::Erf, mulc(x, M_SQRT1_2))), 0.5);
      NodeRef pdf = mulc(b_unary(Op::Exp, mulc(mul(x, x), -0.5)), 0.5 * M_2_SQRTPI * M_SQRT1_2);
      r[0] = mul(g, add(cdf, mul(x, pdf)));
      break;
    }
    case Op::GeluTanh: {  // u = c (x + k x^3), d = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2)
      const double c = std::sqrt(2.0 / M_PI), k = 0.044715;
      NodeRef x2 = mul(x, x);
      NodeRef t = b_unary(Op::Tanh, mulc(add(x, mulc(mul(x2, x), k)), c));
      NodeRef one = cst(1, x);
      NodeRef d = add(mulc(add(one, t), 0.5),
                      mul(mulc(x, 0.5 * c), mul(sub(one, mul(t, t)), add(one, mulc(x2, 3 * k)))));
      r[0] = mul(g, d);
      break;
    }
    case Op::Erf: r[0] = mul(g, mulc(b_unary(Op::Exp, b_unary(Op::Neg, mul(x, x))), M_2_SQRTPI)); break;
    case Op::Sin: r[0] = mul(g, b_unary(Op::Cos, x)); break;
    case Op::Cos: r[0] = b_unary(Op::Neg, mul(g, b_unary(Op::Sin, x))); break;
    case Op::Floor: case Op::Ceil: case Op::Round: case Op::Sign: r[0] = zeros_like(x); break;
    case Op::Convert: r[0] = b_convert(g, x->dtype); break;
    // ---- binary (operands share n's shape: the builder inserted the broadcasts)
    case Op::Add: r[0] = g; r[1] = g; break;
    case Op::Sub: r[0] = g; if (need[1]) r[1] = b_unary(Op::Neg, g); break;
    case Op::Mul: if (need[0]) r[0] = mul(g, in[1]); if (need[1]) r[1] = mul(g, x); break;
    case Op::Div:
      if (need[0]) r[0] = dv(g, in[1]);
      if (need[1]) r[1] = b_unary(Op::Neg, dv(mul(g, np), in[1]));
      break;
    case Op::Pow: {
      const NodeRef& b = in[1];
      if (need[0]) {
        NodeRef d = mul(b, b_binary(Op::Pow, x, sub(b, cst(1, b))));
        r[0] = where_or_zero(cmp(Op::Ne, b, zeros_like(b)), mul(g, d));
      }
      if (need[1]) {
        NodeRef pos = cmp(Op::Gt, x, zeros_like(x));
        NodeRef safe = sel(pos, x, cst(1, x));  // log of a positive stand-in keeps NaN out of the masked lanes
        r[1] = where_or_zero(pos, mul(g, mul(np, b_unary(Op::Log, safe))));
      }
      break;
    }
    case Op::Max: case Op::Min: {
      const NodeRef& b = in[1];
      Op win = n.op == Op::Max ? Op::Gt : Op::Lt;
      NodeRef half = mulc(g, 0.5), z = zeros_like(g);
      NodeRef tie = cmp(Op::Eq, x, b);
      if (need[0]) r[0] = sel(cmp(win, x, b), g, sel(tie, half, z));
      if (need[1]) r[1] = sel(cmp(win, b, x), g, sel(tie, half, z));
      break;
    }
    // ---- ternary
    case Op::Select:
      if (need[1]) r[1] = where_or_zero(in[0], g);
      if (need[2]) r[2] = sel(in[0], zeros_like(g), g);
      break;
    case Op::Clamp: {
      const NodeRef &lo = in[1], &hi = in[2];
      NodeRef below = cmp(Op::Lt, x, lo), above = cmp(Op::Gt, x, hi);
      if (need[0]) r[0] = sel(below, zeros_like(g), where_or_zero(b_unary(Op::Not, above), g));
      if (need[1]) r[1] = where_or_zero(below, g);
      if (need[2]) r[2] = where_or_zero(b_binary(Op::And, above, b_unary(Op::Not, below)), g);
      break;
    }
    // ---- shape
    case Op::Reshape: r[0] = b_reshape(g, x->shape); break;
    case Op::Transpose: {
      auto perm = n.attrs.get_ints("transpose", "perm");
      std::vector<int64_t> inv(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<int64_t>(i);
      r[0] = transpose(g, inv);
      break;
    }
    case Op::Broadcast: {
      auto dims = n.attrs.get_ints("broadcast", "dims");
      const Shape& xs = x->shape;
      std::vector<bool> keep(n.shape.size(), false);
      for (size_t i = 0; i < dims.size(); ++i) keep[dims[i]] = xs[i] == n.shape[dims[i]];
      std::vector<int64_t> axes;
      for (size_t d = 0; d < n.shape.size(); ++d) if (!keep[d]) axes.push_back(static_cast<int64_t>(d));
      NodeRef s = axes.empty() ? g : b_reduce(Op::ReduceSum, g, axes, true);
      r[0] = b_reshape(s, xs);
      break;
    }
    case Op::Slice:
      r[0] = unslice(g, x->shape, n.attrs.get_ints("slice", "start"), n.attrs.get_ints("slice", "limit"),
                     n.attrs.get_ints("slice", "stride"));
      break;
    case Op::Concat: {
      size_t ax = static_cast<size_t>(n.attrs.get_int("concat", "axis"));
      int64_t off = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        int64_t len = in[i]->shape[ax];
        if (need[i]) r[i] = slice_axis(g, ax, off, off + len);
        off += len;
      }
      break;
    }
    case Op::Pad: {
      auto lo = n.attrs.get_ints("pad", "low");
      std::vector<int64_t> li(lo.size());
      for (size_t d = 0; d < lo.size(); ++d) li[d] = lo[d] + x->shape[d];
      Attrs sa; sa.set_ints("start", lo); sa.set_ints("limit", li);
      r[0] = build(Op::Slice, {g}, std::move(sa));
      break;
    }
    // ---- indexing
    case Op::Gather: {  // out = xs[:ax] + idx.shape + xs[ax+1:]
      int64_t ax = n.attrs.get_int("gather", "axis");
      const Shape& xs = x->shape;
      int64_t m = in[1]->numel();
      Shape gs(xs.begin(), xs.begin() + ax);
      gs.push_back(m);
      gs.insert(gs.end(), xs.begin() + ax + 1, xs.end());
      Shape is(xs.size(), 1);
      is[ax] = m;
      NodeRef idx = b_broadcast_to(b_reshape(in[1], is), gs);
      r[0] = scatter_add(zeros_like(x), idx, b_reshape(g, gs), ax);
      break;
    }
    case Op::TakeAlongAxis:
      r[0] = scatter_add(zeros_like(x), in[1], g, n.attrs.get_int("take_along_axis", "axis"));
      break;
    case Op::ScatterAdd: {
      if (need[0]) r[0] = g;
      if (need[2]) {
        Attrs a; a.set_int("axis", n.attrs.get_int("scatter_add", "axis"));
        r[2] = build(Op::TakeAlongAxis, {g, in[1]}, std::move(a));
      }
      break;
    }
    // ---- reductions
    case Op::ReduceSum: r[0] = unreduce(g, n); break;
    case Op::ReduceMax: case Op::ReduceMin: {
      auto axes = n.attrs.get_ints("reduce", "axes");
      NodeRef yb = unreduce(np, n);
      NodeRef mask = b_convert(cmp(Op::Eq, x, yb), x->dtype);
      NodeRef cnt = b_reduce(Op::ReduceSum, mask, axes, true);
      NodeRef share = dv(b_reshape(g, kept_shape(x->shape, axes)), cnt);
      r[0] = mul(mask, b_broadcast_to(share, x->shape));
      break;
    }
    case Op::ReduceProd: r[0] = dv(mul(unreduce(g, n), unreduce(np, n)), x); break;
    // ---- linear algebra
    case Op::DotGeneral: {
      const Attrs& at = n.attrs;
      auto lc = at.get_ints("dot_general", "lhs_contract"), rc = at.get_ints("dot_general", "rhs_contract");
      auto lb = at.get_ints("dot_general", "lhs_batch"), rb = at.get_ints("dot_general", "rhs_batch");
      size_t nlf = free_dims(x->shape.size(), lb, lc).size(), nrf = free_dims(in[1]->shape.size(), rb, rc).size();
      if (need[0]) r[0] = dot_operand_grad(g, in[1], x->shape, lc, lb, rc, rb, lb.size() + nlf, nlf, at);
      if (need[1]) r[1] = dot_operand_grad(g, x, in[1]->shape, rc, rb, lc, lb, lb.size(), nrf, at);
      break;
    }
    case Op::Conv2d: case Op::MaxPool2d: case Op::AvgPool2d: return vjp_conv_pool(np, g, need);
    default: internal("grad: no VJP rule for ", op_name(n.op));
  }
  return r;
}

}  // namespace jxla
