// vjp_conv.cpp - VJP rules of conv2d, max_pool2d and avg_pool2d, expressed with existing
// primitives (no extra ops: every backend that runs the forward ops runs the gradients):
//  - conv input gradient: the cotangent dilated by the stride (interior zeros via reshape+pad),
//    padded by the dilated kernel extent, convolved with the flipped, O<->C transposed weight.
//  - conv weight gradient: a convolution of the transposed input [C,N,H,W] with the transposed
//    cotangent [O,N,OH,OW] as kernel (stride and dilation swap roles), per group.
//  - pools: one strided slice per kernel offset; the offset's share of the cotangent is placed
//    back with the slice's VJP. max_pool2d sends each window's gradient to its FIRST maximal
//    element in row-major window order (like PyTorch's argmax index); NaN windows get none.
#include <algorithm>
#include <cmath>
#include "autodiff/autodiff.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "runtime/buffer.h"

namespace jxla {

namespace {

NodeRef op1(Op op, const NodeRef& x, Attrs a) { return build(op, {x}, std::move(a)); }

NodeRef transpose(const NodeRef& x, std::vector<int64_t> perm) {
  Attrs a; a.set_ints("perm", std::move(perm));
  return op1(Op::Transpose, x, std::move(a));
}

NodeRef slice(const NodeRef& x, std::vector<int64_t> st, std::vector<int64_t> li, std::vector<int64_t> sd) {
  Attrs a; a.set_ints("start", std::move(st)); a.set_ints("limit", std::move(li)); a.set_ints("stride", std::move(sd));
  return op1(Op::Slice, x, std::move(a));
}

NodeRef pad(const NodeRef& x, std::vector<int64_t> lo, std::vector<int64_t> hi, double v = 0.0) {
  bool none = true;
  for (size_t i = 0; i < lo.size(); ++i) if (lo[i] || hi[i]) none = false;
  if (none) return x;
  Attrs a; a.set_ints("low", std::move(lo)); a.set_ints("high", std::move(hi)); a.set_float("value", v);
  return op1(Op::Pad, x, std::move(a));
}

// Interior zeros along axis ax: n -> (n-1)*s+1.
NodeRef dilate(const NodeRef& x, size_t ax, int64_t s) {
  if (s == 1 || x->shape[ax] == 0) return x;
  Shape sh = x->shape;
  int64_t n = sh[ax];
  Shape u = sh; u.insert(u.begin() + ax + 1, 1);
  std::vector<int64_t> lo(u.size(), 0), hi(u.size(), 0);
  hi[ax + 1] = s - 1;
  NodeRef r = pad(b_reshape(x, u), lo, hi);
  Shape m = sh; m[ax] = n * s;
  r = b_reshape(r, m);
  std::vector<int64_t> st(m.size(), 0), li = m, sd(m.size(), 1);
  li[ax] = (n - 1) * s + 1;
  return slice(r, st, li, sd);
}

// Reverses axis ax (a gather with descending indices).
NodeRef flip(const NodeRef& x, size_t ax) {
  int64_t k = x->shape[ax];
  if (k <= 1) return x;
  Attrs ia; ia.set_str("dtype", "s64"); ia.set_ints("shape", {k}); ia.set_int("axis", 0);
  NodeRef io = build(Op::Iota, {}, std::move(ia), x->device);
  NodeRef idx = b_binary(Op::Sub, b_full(static_cast<double>(k - 1), DType::S64, {k}, x->device), io);
  Attrs ga; ga.set_int("axis", static_cast<int64_t>(ax));
  return build(Op::Gather, {x, idx}, std::move(ga));
}

NodeRef conv(const NodeRef& x, const NodeRef& w, std::vector<int64_t> st, std::vector<int64_t> pd,
             std::vector<int64_t> dl, int64_t groups, const Attrs& fwd) {
  Attrs a;
  a.set_ints("stride", std::move(st)); a.set_ints("padding", std::move(pd)); a.set_ints("dilation", std::move(dl));
  a.set_int("groups", groups);
  if (fwd.has("precision")) a.set_int("precision", fwd.get_int("conv2d", "precision"));
  return build(Op::Conv2d, {x, w}, std::move(a));
}

NodeRef conv_input_grad(const Node& n, const NodeRef& g) {
  const NodeRef &x = n.inputs[0], &w = n.inputs[1];
  auto st = n.attrs.get_ints("conv2d", "stride"), dl = n.attrs.get_ints("conv2d", "dilation");
  auto pd = n.attrs.get_ints("conv2d", "padding");
  int64_t G = n.attrs.get_int("conv2d", "groups");
  int64_t C = x->shape[1], H = x->shape[2], W = x->shape[3];
  int64_t O = w->shape[0], KC = w->shape[1], KH = w->shape[2], KW = w->shape[3], opg = O / G;
  NodeRef gd = dilate(dilate(g, 2, st[0]), 3, st[1]);
  int64_t eh = (KH - 1) * dl[0], ew = (KW - 1) * dl[1];
  NodeRef gp = pad(gd, {0, 0, eh, ew}, {0, 0, eh, ew});
  // w [O, KC, KH, KW] -> [G, opg, KC, KH, KW] -> [G, KC, opg, KH, KW] -> [C, opg, KH, KW], flipped
  NodeRef wt = b_reshape(w, {G, opg, KC, KH, KW});
  wt = b_reshape(transpose(wt, {0, 2, 1, 3, 4}), {C, opg, KH, KW});
  wt = flip(flip(wt, 2), 3);
  NodeRef dxp = conv(gp, wt, {1, 1}, {0, 0, 0, 0}, dl, G, n.attrs);  // covers the padded rows the forward read
  int64_t Hp = H + pd[0] + pd[1], Wp = W + pd[2] + pd[3];
  dxp = pad(dxp, {0, 0, 0, 0}, {0, 0, Hp - dxp->shape[2], Wp - dxp->shape[3]});
  return slice(dxp, {0, 0, pd[0], pd[2]}, {x->shape[0], C, pd[0] + H, pd[2] + W}, {1, 1, 1, 1});
}

NodeRef conv_weight_grad(const Node& n, const NodeRef& g) {
  const NodeRef &x = n.inputs[0], &w = n.inputs[1];
  auto st = n.attrs.get_ints("conv2d", "stride"), dl = n.attrs.get_ints("conv2d", "dilation");
  auto pd = n.attrs.get_ints("conv2d", "padding");
  int64_t G = n.attrs.get_int("conv2d", "groups");
  int64_t N = x->shape[0], H = x->shape[2], W = x->shape[3];
  int64_t O = w->shape[0], KC = w->shape[1], KH = w->shape[2], KW = w->shape[3], opg = O / G;
  std::vector<NodeRef> parts;
  for (int64_t gi = 0; gi < G; ++gi) {
    NodeRef xg = G == 1 ? x : slice(x, {0, gi * KC, 0, 0}, {N, (gi + 1) * KC, H, W}, {1, 1, 1, 1});
    NodeRef cg = G == 1 ? g : slice(g, {0, gi * opg, 0, 0}, {N, (gi + 1) * opg, g->shape[2], g->shape[3]}, {1, 1, 1, 1});
    NodeRef xt = transpose(xg, {1, 0, 2, 3});  // [KC, N, H, W]
    NodeRef ct = transpose(cg, {1, 0, 2, 3});  // [opg, N, OH, OW]
    NodeRef r = conv(xt, ct, dl, pd, st, 1, n.attrs);  // [KC, opg, >=KH, >=KW]
    r = slice(r, {0, 0, 0, 0}, {KC, opg, KH, KW}, {1, 1, 1, 1});
    parts.push_back(transpose(r, {1, 0, 2, 3}));  // [opg, KC, KH, KW]
  }
  if (parts.size() == 1) return parts[0];
  Attrs a; a.set_int("axis", 0);
  return build(Op::Concat, parts, std::move(a));
}

// Count of elements each avg_pool2d window divides by, [OH, OW] f64 data on the node's device
// (the same rule as the reference kernel).
NodeRef pool_counts(const Node& n) {
  auto k = n.attrs.get_ints("pool", "kernel"), st = n.attrs.get_ints("pool", "stride");
  auto pd = n.attrs.get_ints("pool", "padding");
  bool incl = n.attrs.get_int_or("count_include_pad", 1) != 0;
  int64_t H = n.inputs[0]->shape[2], W = n.inputs[0]->shape[3], OH = n.shape[2], OW = n.shape[3];
  BufferRef b = alloc_buffer(DType::F64, {OH, OW}, n.device);
  for (int64_t oh = 0; oh < OH; ++oh)
    for (int64_t ow = 0; ow < OW; ++ow) {
      int64_t cnt = 0, cnt_pad = 0;
      for (int64_t kh = 0; kh < k[0]; ++kh)
        for (int64_t kw = 0; kw < k[1]; ++kw) {
          int64_t ih = oh * st[0] - pd[0] + kh, iw = ow * st[1] - pd[2] + kw;
          if (ih < H + pd[1] && iw < W + pd[3]) ++cnt_pad;
          if (ih >= 0 && ih < H && iw >= 0 && iw < W) ++cnt;
        }
      b->as<double>()[oh * OW + ow] = static_cast<double>(incl ? cnt_pad : (cnt ? cnt : 1));
    }
  return make_data(std::move(b));
}

NodeRef pool_grad(const NodeRef& np, const NodeRef& g) {
  const Node& n = *np;
  const NodeRef& x = n.inputs[0];
  auto k = n.attrs.get_ints("pool", "kernel"), st = n.attrs.get_ints("pool", "stride");
  auto pd = n.attrs.get_ints("pool", "padding");
  int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], OH = n.shape[2], OW = n.shape[3];
  bool is_max = n.op == Op::MaxPool2d;
  // padded input large enough for every window slice
  int64_t PH = std::max(H + pd[0], (OH - 1) * st[0] + k[0]), PW = std::max(W + pd[2], (OW - 1) * st[1] + k[1]);
  NodeRef xp = pad(x, {0, 0, pd[0], pd[2]}, {0, 0, PH - H - pd[0], PW - W - pd[2]}, is_max ? -HUGE_VAL : 0.0);
  NodeRef share = g;
  if (!is_max) share = b_binary(Op::Div, g, b_convert(pool_counts(n), g->dtype));
  NodeRef taken, acc;
  for (int64_t kh = 0; kh < k[0]; ++kh)
    for (int64_t kw = 0; kw < k[1]; ++kw) {
      std::vector<int64_t> s0 = {0, 0, kh, kw}, li = {N, C, kh + (OH - 1) * st[0] + 1, kw + (OW - 1) * st[1] + 1};
      std::vector<int64_t> sd = {1, 1, st[0], st[1]};
      NodeRef contrib = share;
      if (is_max) {
        NodeRef m = b_binary(Op::Eq, slice(xp, s0, li, sd), np);
        if (taken) m = b_binary(Op::And, m, b_unary(Op::Not, taken));
        taken = taken ? b_binary(Op::Or, taken, m) : m;
        contrib = build(Op::Select, {m, g, b_full(0.0, g->dtype, g->shape, g->device)}, Attrs());
      }
      // slice VJP: interior zeros for the stride, then pad to the padded input
      NodeRef d = dilate(dilate(contrib, 2, st[0]), 3, st[1]);
      d = pad(d, {0, 0, kh, kw}, {0, 0, PH - kh - d->shape[2], PW - kw - d->shape[3]});
      acc = acc ? b_binary(Op::Add, acc, d) : d;
    }
  return slice(acc, {0, 0, pd[0], pd[2]}, {N, C, pd[0] + H, pd[2] + W}, {1, 1, 1, 1});
}

}  // namespace

std::vector<NodeRef> vjp_conv_pool(const NodeRef& np, const NodeRef& g, const std::vector<bool>& need) {
  const Node& n = *np;
  std::vector<NodeRef> r(n.inputs.size());
  if (n.op == Op::Conv2d) {
    if (need[0]) r[0] = conv_input_grad(n, g);
    if (need[1]) r[1] = conv_weight_grad(n, g);
  } else {
    r[0] = pool_grad(np, g);
  }
  return r;
}

}  // namespace jxla
