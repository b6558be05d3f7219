// builder.cpp - shape rules (infer), broadcasting/promotion, composite expansion and the device
// rule (operands share one device; host and the thread's trace target mix only while tracing).
#include "ir/builder.h"
#include <algorithm>
#include <cmath>
#include <limits>
#include "ir/error.h"
#include "runtime/device.h"

namespace jxla {

namespace {

std::string ts(const NodeRef& n) { return std::string(dtype_name(n->dtype)) + shape_str(n->shape); }

void want_arity(Op op, const std::vector<NodeRef>& in) {
  int a = op_info(op).arity;
  if (a >= 0 && static_cast<int>(in.size()) != a)
    invalid(op_name(op), ": expected ", a, " operand(s), got ", in.size());
  if (a < 0 && in.empty()) invalid(op_name(op), ": expected at least one operand");
  for (size_t i = 0; i < in.size(); ++i)
    if (!in[i]) invalid(op_name(op), ": operand ", i, " is null");
}

DType attr_dtype(const char* op, const Attrs& a) {
  DType dt;
  std::string s = a.get_str(op, "dtype");
  if (!dtype_from_name(s, &dt)) invalid(op, ": unknown dtype '", s, "'");
  return dt;
}

Shape attr_shape(const char* op, const Attrs& a, const char* key = "shape") {
  Shape s = a.get_ints(op, key);
  check_shape(op, s, key);
  return s;
}

void same_dtype(Op op, const std::vector<NodeRef>& in) {
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i]->dtype != in[0]->dtype)
      invalid(op_name(op), ": operand ", i, " has dtype ", dtype_name(in[i]->dtype), " but operand 0 has ",
              dtype_name(in[0]->dtype));
}
void same_shape(Op op, const std::vector<NodeRef>& in) {
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i]->shape != in[0]->shape)
      invalid(op_name(op), ": operand ", i, " has shape ", shape_str(in[i]->shape), " but operand 0 has ",
              shape_str(in[0]->shape));
}

std::vector<int64_t> norm_axes(const char* op, std::vector<int64_t> axes, int64_t rank) {
  for (auto& a : axes) a = norm_axis(op, a, rank, "axes");
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    invalid(op, ": axes ", shape_str(axes), " (normalized for rank ", rank, ") contain a duplicate");
  return axes;
}

std::vector<int64_t> pair_attr(const char* op, const Attrs& a, const char* k, int64_t dflt, size_t n_allowed2, size_t n_allowed4 = 0) {
  std::vector<int64_t> v = a.get_ints_or(k, {dflt, dflt});
  if (v.size() != n_allowed2 && (n_allowed4 == 0 || v.size() != n_allowed4))
    invalid(op, ": attribute '", k, "' must have ", n_allowed2, n_allowed4 ? " or 4" : "", " values");
  return v;
}

}  // namespace

TypeShape infer(Op op, const std::vector<NodeRef>& in, Attrs& at) {
  const char* nm = op_name(op);
  want_arity(op, in);
  switch (op_info(op).kind) {
    case OpKind::Leaf: {
      if (op == Op::Parameter) return {attr_dtype(nm, at), attr_shape(nm, at)};
      DType dt = attr_dtype(nm, at);
      Shape sh = attr_shape(nm, at);
      if (op == Op::Full) at.get_float(nm, "value");
      if (op == Op::Iota) {
        if (dt == DType::Bool) invalid(nm, ": dtype bool is not supported");
        if (sh.empty()) invalid(nm, ": shape must have rank >= 1");
        at.set_int("axis", norm_axis(nm, at.get_int_or("axis", 0), sh.size()));
      }
      return {dt, sh};
    }
    case OpKind::Rng: {
      if (in[0]->dtype != DType::S64 || in[0]->shape != Shape{2})
        invalid(nm, ": key must be s64[2], got ", ts(in[0]));
      DType dt = attr_dtype(nm, at);
      if (!is_float(dt)) invalid(nm, ": dtype must be floating point, got ", dtype_name(dt));
      return {dt, attr_shape(nm, at)};
    }
    case OpKind::Unary:
      if (in[0]->dtype == DType::Bool) invalid(nm, ": operand 0 has dtype bool; convert it first");
      return {in[0]->dtype, in[0]->shape};
    case OpKind::UnaryFloat:
      if (!is_float(in[0]->dtype)) invalid(nm, ": operand 0 must be floating point, got ", ts(in[0]));
      return {in[0]->dtype, in[0]->shape};
    case OpKind::UnaryLogical:
      if (in[0]->dtype != DType::Bool && !is_int(in[0]->dtype))
        invalid(nm, ": operand 0 must be bool or integer, got ", ts(in[0]));
      return {in[0]->dtype, in[0]->shape};
    case OpKind::Convert: return {attr_dtype(nm, at), in[0]->shape};
    case OpKind::Binary:
      same_dtype(op, in); same_shape(op, in);
      if (in[0]->dtype == DType::Bool) invalid(nm, ": bool operands are not supported; convert them first");
      return {in[0]->dtype, in[0]->shape};
    case OpKind::Compare:
      same_dtype(op, in); same_shape(op, in);
      return {DType::Bool, in[0]->shape};
    case OpKind::Logical:
      same_dtype(op, in); same_shape(op, in);
      if (in[0]->dtype != DType::Bool && !is_int(in[0]->dtype))
        invalid(nm, ": operands must be bool or integer, got ", ts(in[0]));
      return {in[0]->dtype, in[0]->shape};
    case OpKind::Select:
      if (in[0]->dtype != DType::Bool) invalid(nm, ": condition (operand 0) must be bool, got ", ts(in[0]));
      if (in[1]->dtype != in[2]->dtype) invalid(nm, ": operands 1 and 2 differ in dtype: ", ts(in[1]), " vs ", ts(in[2]));
      same_shape(op, in);
      return {in[1]->dtype, in[1]->shape};
    case OpKind::Clamp:
      same_dtype(op, in); same_shape(op, in);
      if (in[0]->dtype == DType::Bool) invalid(nm, ": bool operands are not supported");
      return {in[0]->dtype, in[0]->shape};
    case OpKind::Reshape: {
      Shape s = attr_shape(nm, at);
      if (numel(s) != in[0]->numel())
        invalid(nm, ": cannot reshape ", ts(in[0]), " (", in[0]->numel(), " elements) to ", shape_str(s), " (",
                numel(s), " elements)");
      return {in[0]->dtype, s};
    }
    case OpKind::Transpose: {
      auto perm = at.get_ints(nm, "perm");
      size_t r = in[0]->shape.size();
      if (perm.size() != r) invalid(nm, ": perm has ", perm.size(), " entries but the operand ", ts(in[0]), " has rank ", r);
      std::vector<bool> seen(r, false);
      Shape out(r);
      for (size_t i = 0; i < r; ++i) {
        int64_t p = norm_axis(nm, perm[i], r, "perm entry");
        if (seen[p]) invalid(nm, ": perm ", shape_str(perm), " is not a permutation");
        seen[p] = true; perm[i] = p; out[i] = in[0]->shape[p];
      }
      at.set_ints("perm", perm);
      return {in[0]->dtype, out};
    }
    case OpKind::Broadcast: {
      Shape s = attr_shape(nm, at);
      auto dims = at.get_ints(nm, "dims");
      const Shape& xs = in[0]->shape;
      if (dims.size() != xs.size()) invalid(nm, ": dims has ", dims.size(), " entries for operand ", ts(in[0]));
      for (size_t i = 0; i < dims.size(); ++i) {
        if (dims[i] < 0 || dims[i] >= static_cast<int64_t>(s.size()) || (i && dims[i] <= dims[i - 1]))
          invalid(nm, ": dims ", shape_str(dims), " must be increasing and within rank ", s.size());
        if (xs[i] != s[dims[i]] && xs[i] != 1)
          invalid(nm, ": cannot broadcast ", ts(in[0]), " to ", shape_str(s), " (dimension ", i, ")");
      }
      return {in[0]->dtype, s};
    }
    case OpKind::Slice: {
      const Shape& xs = in[0]->shape;
      auto st = at.get_ints(nm, "start"), li = at.get_ints(nm, "limit");
      auto sd = at.get_ints_or("stride", std::vector<int64_t>(xs.size(), 1));
      if (st.size() != xs.size() || li.size() != xs.size() || sd.size() != xs.size())
        invalid(nm, ": start/limit/stride must have one entry per dimension of ", ts(in[0]));
      Shape out(xs.size());
      for (size_t i = 0; i < xs.size(); ++i) {
        if (sd[i] < 1) invalid(nm, ": stride ", sd[i], " in dimension ", i, " must be >= 1");
        if (st[i] < 0 || st[i] > li[i] || li[i] > xs[i])
          invalid(nm, ": range [", st[i], ", ", li[i], ") is out of bounds for dimension ", i, " of ", ts(in[0]));
        out[i] = (li[i] - st[i] + sd[i] - 1) / sd[i];
      }
      at.set_ints("stride", sd);
      return {in[0]->dtype, out};
    }
    case OpKind::Concat: {
      size_t r = in[0]->shape.size();
      if (r == 0) invalid(nm, ": operands must have rank >= 1");
      int64_t ax = norm_axis(nm, at.get_int_or("axis", 0), r);
      at.set_int("axis", ax);
      same_dtype(op, in);
      Shape out = in[0]->shape;
      out[ax] = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        const Shape& s = in[i]->shape;
        bool ok = s.size() == r;
        for (size_t d = 0; ok && d < r; ++d) if (static_cast<int64_t>(d) != ax && s[d] != in[0]->shape[d]) ok = false;
        if (!ok) invalid(nm, ": operand ", i, " has shape ", shape_str(s), ", incompatible with ", shape_str(in[0]->shape),
                         " along axis ", ax);
        out[ax] += s[ax];
      }
      return {in[0]->dtype, out};
    }
    case OpKind::Pad: {
      const Shape& xs = in[0]->shape;
      auto lo = at.get_ints(nm, "low"), hi = at.get_ints(nm, "high");
      if (lo.size() != xs.size() || hi.size() != xs.size()) invalid(nm, ": low/high must have one entry per dimension of ", ts(in[0]));
      at.get_float(nm, "value");
      Shape out(xs.size());
      for (size_t i = 0; i < xs.size(); ++i) {
        if (lo[i] < 0 || hi[i] < 0) invalid(nm, ": padding must be >= 0 (dimension ", i, ")");
        out[i] = xs[i] + lo[i] + hi[i];
      }
      return {in[0]->dtype, out};
    }
    case OpKind::Gather: {
      const Shape& xs = in[0]->shape;
      if (!is_int(in[1]->dtype)) invalid(nm, ": indices (operand 1) must be integer, got ", ts(in[1]));
      if (xs.empty()) invalid(nm, ": operand 0 must have rank >= 1");
      int64_t ax = norm_axis(nm, at.get_int_or("axis", 0), xs.size());
      at.set_int("axis", ax);
      if (xs[ax] == 0 && in[1]->numel() > 0) invalid(nm, ": cannot index an empty axis ", ax, " of ", ts(in[0]));
      Shape out(xs.begin(), xs.begin() + ax);
      out.insert(out.end(), in[1]->shape.begin(), in[1]->shape.end());
      out.insert(out.end(), xs.begin() + ax + 1, xs.end());
      return {in[0]->dtype, out};
    }
    case OpKind::TakeAlong: case OpKind::ScatterAdd: {
      const Shape& xs = in[0]->shape;
      const NodeRef& idx = in[1];
      if (!is_int(idx->dtype)) invalid(nm, ": indices (operand 1) must be integer, got ", ts(idx));
      if (xs.empty()) invalid(nm, ": operand 0 must have rank >= 1");
      int64_t ax = norm_axis(nm, at.get_int_or("axis", 0), xs.size());
      at.set_int("axis", ax);
      if (idx->shape.size() != xs.size()) invalid(nm, ": indices ", ts(idx), " must have the rank of operand 0 ", ts(in[0]));
      for (size_t d = 0; d < xs.size(); ++d)
        if (static_cast<int64_t>(d) != ax && idx->shape[d] != xs[d])
          invalid(nm, ": indices ", ts(idx), " and operand 0 ", ts(in[0]), " differ in dimension ", d);
      if (xs[ax] == 0 && idx->numel() > 0) invalid(nm, ": cannot index an empty axis ", ax);
      if (op == Op::ScatterAdd) {
        if (in[2]->shape != idx->shape) invalid(nm, ": updates ", ts(in[2]), " must have the shape of indices ", ts(idx));
        if (in[2]->dtype != in[0]->dtype) invalid(nm, ": updates ", ts(in[2]), " must have the dtype of operand 0 ", ts(in[0]));
        if (in[0]->dtype == DType::Bool) invalid(nm, ": bool operands are not supported");
        return {in[0]->dtype, xs};
      }
      return {in[0]->dtype, idx->shape};
    }
    case OpKind::OneHot: {
      if (!is_int(in[0]->dtype)) invalid(nm, ": indices must be integer, got ", ts(in[0]));
      int64_t depth = at.get_int(nm, "depth");
      if (depth < 0) invalid(nm, ": depth ", depth, " must be >= 0");
      Shape out = in[0]->shape;
      out.push_back(depth);
      check_shape(nm, out, "result shape");
      return {attr_dtype(nm, at), out};
    }
    case OpKind::Reduce: {
      const Shape& xs = in[0]->shape;
      auto axes = norm_axes(nm, at.get_ints(nm, "axes"), xs.size());
      at.set_ints("axes", axes);
      bool keep = at.get_int_or("keepdims", 0) != 0;
      at.set_int("keepdims", keep);
      if (in[0]->dtype == DType::Bool && (op == Op::ReduceSum || op == Op::ReduceProd))
        invalid(nm, ": bool operands are not supported; convert them first");
      Shape out;
      for (size_t d = 0; d < xs.size(); ++d) {
        bool red = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d));
        if (!red) out.push_back(xs[d]);
        else if (keep) out.push_back(1);
      }
      return {in[0]->dtype, out};
    }
    case OpKind::ArgReduce: {
      const Shape& xs = in[0]->shape;
      if (xs.empty()) invalid(nm, ": operand must have rank >= 1");
      int64_t ax = norm_axis(nm, at.get_int_or("axis", 0), xs.size());
      at.set_int("axis", ax);
      if (xs[ax] == 0) invalid(nm, ": axis ", ax, " of ", ts(in[0]), " is empty");
      bool keep = at.get_int_or("keepdims", 0) != 0;
      at.set_int("keepdims", keep);
      Shape out;
      for (size_t d = 0; d < xs.size(); ++d) {
        if (static_cast<int64_t>(d) != ax) out.push_back(xs[d]);
        else if (keep) out.push_back(1);
      }
      return {DType::S64, out};
    }
    case OpKind::TopK: {
      const Shape& xs = in[0]->shape;
      if (xs.empty()) invalid(nm, ": operand must have rank >= 1, got ", ts(in[0]));
      if (in[0]->dtype == DType::Bool) invalid(nm, ": bool operands are not supported; convert them first");
      int64_t ax = norm_axis(nm, at.get_int_or("axis", -1), xs.size());
      at.set_int("axis", ax);
      int64_t k = at.get_int(nm, "k");
      if (k < 0 || k > xs[ax])
        invalid(nm, ": k = ", k, " is out of range [0, ", xs[ax], "] for axis ", ax, " of ", ts(in[0]));
      at.set_int("largest", at.get_int_or("largest", 1) != 0);
      Shape out = xs;
      out[ax] = k;
      return {DType::S64, out};
    }
    case OpKind::Dot: {
      const NodeRef &l = in[0], &r = in[1];
      if (l->dtype != r->dtype) invalid(nm, ": operands differ in dtype: ", ts(l), " vs ", ts(r));
      if (l->dtype == DType::Bool) invalid(nm, ": bool operands are not supported");
      auto lc = at.get_ints(nm, "lhs_contract"), rc = at.get_ints(nm, "rhs_contract");
      auto lb = at.get_ints_or("lhs_batch", {}), rb = at.get_ints_or("rhs_batch", {});
      if (lc.size() != rc.size() || lb.size() != rb.size())
        invalid(nm, ": contracting/batch dimension lists differ in length");
      int64_t lr = l->shape.size(), rr = r->shape.size();
      std::vector<bool> lu(lr, false), ru(rr, false);
      auto use = [&](std::vector<int64_t>& v, int64_t rank, std::vector<bool>& u, const char* arg) {
        for (auto& d : v) {
          d = norm_axis(nm, d, rank, arg);
          if (u[d]) invalid(nm, ": dimension ", d, " used twice in ", arg);
          u[d] = true;
        }
      };
      use(lb, lr, lu, "lhs_batch"); use(lc, lr, lu, "lhs_contract");
      use(rb, rr, ru, "rhs_batch"); use(rc, rr, ru, "rhs_contract");
      Shape out;
      for (size_t i = 0; i < lb.size(); ++i) {
        if (l->shape[lb[i]] != r->shape[rb[i]])
          invalid(nm, ": batch dimension ", lb[i], " of lhs ", ts(l), " != dimension ", rb[i], " of rhs ", ts(r));
        out.push_back(l->shape[lb[i]]);
      }
      for (size_t i = 0; i < lc.size(); ++i)
        if (l->shape[lc[i]] != r->shape[rc[i]])
          invalid(nm, ": contracting dimension ", lc[i], " of lhs ", ts(l), " (", l->shape[lc[i]], ") != dimension ", rc[i],
                  " of rhs ", ts(r), " (", r->shape[rc[i]], ")");
      for (int64_t d = 0; d < lr; ++d) if (!lu[d]) out.push_back(l->shape[d]);
      for (int64_t d = 0; d < rr; ++d) if (!ru[d]) out.push_back(r->shape[d]);
      at.set_ints("lhs_contract", lc); at.set_ints("rhs_contract", rc);
      at.set_ints("lhs_batch", lb); at.set_ints("rhs_batch", rb);
      return {l->dtype, out};
    }
    case OpKind::Conv: {
      const NodeRef &x = in[0], &w = in[1];
      if (x->shape.size() != 4) invalid(nm, ": input must be NCHW (rank 4), got ", ts(x));
      if (w->shape.size() != 4) invalid(nm, ": weight must be OIHW (rank 4), got ", ts(w));
      if (x->dtype != w->dtype) invalid(nm, ": input ", ts(x), " and weight ", ts(w), " differ in dtype");
      if (!is_float(x->dtype)) invalid(nm, ": operands must be floating point, got ", ts(x));
      auto st = pair_attr(nm, at, "stride", 1, 2), dl = pair_attr(nm, at, "dilation", 1, 2);
      auto pd = pair_attr(nm, at, "padding", 0, 2, 4);
      if (pd.size() == 2) pd = {pd[0], pd[0], pd[1], pd[1]};
      int64_t g = at.get_int_or("groups", 1);
      if (g < 1) invalid(nm, ": groups ", g, " must be >= 1");
      for (int i = 0; i < 2; ++i) if (st[i] < 1 || dl[i] < 1) invalid(nm, ": stride and dilation must be >= 1");
      for (auto p : pd) if (p < 0) invalid(nm, ": padding must be >= 0");
      int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
      int64_t O = w->shape[0], KC = w->shape[1], KH = w->shape[2], KW = w->shape[3];
      if (C % g || O % g) invalid(nm, ": channels ", C, " and filters ", O, " must be divisible by groups ", g);
      if (KC * g != C) invalid(nm, ": weight ", ts(w), " expects ", KC * g, " input channels but input ", ts(x), " has ", C);
      int64_t eh = dl[0] * (KH - 1) + 1, ew = dl[1] * (KW - 1) + 1;
      int64_t hp = H + pd[0] + pd[1], wp = W + pd[2] + pd[3];
      if (hp < eh || wp < ew) invalid(nm, ": kernel ", shape_str({KH, KW}), " (dilated) is larger than the padded input ", shape_str({hp, wp}));
      at.set_ints("stride", st); at.set_ints("dilation", dl); at.set_ints("padding", pd); at.set_int("groups", g);
      return {x->dtype, {N, O, (hp - eh) / st[0] + 1, (wp - ew) / st[1] + 1}};
    }
    case OpKind::Pool: {
      const NodeRef& x = in[0];
      if (x->shape.size() != 4) invalid(nm, ": input must be NCHW (rank 4), got ", ts(x));
      if (!is_float(x->dtype)) invalid(nm, ": input must be floating point, got ", ts(x));
      auto k = at.get_ints(nm, "kernel");
      if (k.size() != 2) invalid(nm, ": kernel must have 2 values");
      auto st = pair_attr(nm, at, "stride", 0, 2);
      if (!at.has("stride")) st = k;
      auto pd = pair_attr(nm, at, "padding", 0, 2, 4);
      if (pd.size() == 2) pd = {pd[0], pd[0], pd[1], pd[1]};
      bool ceil_mode = at.get_int_or("ceil_mode", 0) != 0;
      for (int i = 0; i < 2; ++i) if (k[i] < 1 || st[i] < 1) invalid(nm, ": kernel and stride must be >= 1");
      for (auto p : pd) if (p < 0) invalid(nm, ": padding must be >= 0");
      for (int i = 0; i < 4; ++i)
        if (pd[i] >= k[i / 2]) invalid(nm, ": padding ", shape_str(pd), " must be smaller than the kernel ", shape_str(k));
      Shape out = {x->shape[0], x->shape[1], 0, 0};
      for (int i = 0; i < 2; ++i) {
        int64_t len = x->shape[2 + i] + pd[2 * i] + pd[2 * i + 1] - k[i];
        if (len < 0) invalid(nm, ": kernel ", shape_str(k), " is larger than the padded input of ", ts(x));
        int64_t o = ceil_mode ? (len + st[i] - 1) / st[i] + 1 : len / st[i] + 1;
        // in ceil mode the last window must start inside the input or the low padding
        if (ceil_mode && (o - 1) * st[i] >= x->shape[2 + i] + pd[2 * i]) --o;
        out[2 + i] = o;
      }
      at.set_ints("stride", st); at.set_ints("padding", pd); at.set_int("ceil_mode", ceil_mode);
      if (op == Op::AvgPool2d) at.set_int("count_include_pad", at.get_int_or("count_include_pad", 1) != 0);
      return {x->dtype, out};
    }
    case OpKind::Dynamic:
      invalid(nm, ": a dynamic-shape op has no static shape rule (it is evaluated eagerly)");
    case OpKind::Composite:
      invalid(nm, ": composite ops are expanded by the builder and never appear in a graph");
  }
  internal(nm, ": no shape rule");
}

// ---------------------------------------------------------------------------------------------

NodeRef b_full(double v, DType dt, const Shape& sh, Device* dev) {
  Attrs a;
  a.set_str("dtype", dtype_name(dt)); a.set_ints("shape", sh); a.set_float("value", v);
  return build(Op::Full, {}, std::move(a), dev);
}
NodeRef b_convert(const NodeRef& x, DType dt) {
  if (x->dtype == dt) return x;
  Attrs a; a.set_str("dtype", dtype_name(dt));
  return build(Op::Convert, {x}, std::move(a));
}
NodeRef b_broadcast_to(const NodeRef& x, const Shape& sh) {
  if (x->shape == sh) return x;
  const Shape& xs = x->shape;
  if (xs.size() > sh.size()) invalid("broadcast_to: cannot broadcast ", shape_str(xs), " to ", shape_str(sh));
  size_t off = sh.size() - xs.size();
  // drop size-1 dims that expand, so the Broadcast operand only keeps matching dims
  Shape kept; std::vector<int64_t> dims;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (xs[i] == sh[off + i]) { kept.push_back(xs[i]); dims.push_back(off + i); }
    else if (xs[i] != 1) invalid("broadcast_to: cannot broadcast ", shape_str(xs), " to ", shape_str(sh), " (dimension ", i, ")");
  }
  NodeRef y = kept.size() == xs.size() ? x : b_reshape(x, kept);
  Attrs a; a.set_ints("shape", sh); a.set_ints("dims", dims);
  return build(Op::Broadcast, {y}, std::move(a));
}
NodeRef b_unary(Op op, const NodeRef& x) { return build(op, {x}, Attrs()); }
NodeRef b_binary(Op op, const NodeRef& a, const NodeRef& b) { return build(op, {a, b}, Attrs()); }
NodeRef b_reshape(const NodeRef& x, const Shape& sh) {
  if (x->shape == sh) return x;
  Attrs a; a.set_ints("shape", sh);
  return build(Op::Reshape, {x}, std::move(a));
}
NodeRef b_reduce(Op op, const NodeRef& x, std::vector<int64_t> axes, bool keepdims) {
  Attrs a; a.set_ints("axes", std::move(axes)); a.set_int("keepdims", keepdims);
  return build(op, {x}, std::move(a));
}

namespace {

thread_local Device* t_trace_target = nullptr;

// Operands share one device. While tracing for a device T, host and T operands also mix (a
// host placeholder times a weight resident on T): the node is on the host, the trace device,
// and only the compiled function, which re-homes the whole graph to T, ever runs it.
Device* common_device(Op op, const std::vector<NodeRef>& in, Device* dflt) {
  if (in.empty()) return dflt ? dflt : host_device();
  Device* d0 = in[0]->device;
  Device* d = d0;
  Device* t = t_trace_target;
  for (size_t i = 1; i < in.size(); ++i) {
    Device* di = in[i]->device;
    if (di == d) continue;
    if (t && (di == t || di->is_host()) && (d == t || d->is_host())) {
      d = host_device();
      continue;
    }
    if (t && !t->is_host())
      invalid(op_name(op), ": operand ", i, " is on device ", di->name(), " but operand 0 is on ", d0->name(),
              "; while tracing for ", t->name(), " only host and ", t->name(), " operands mix: move it with to(device)");
    invalid(op_name(op), ": operand ", i, " is on device ", di->name(), " but operand 0 is on ", d0->name(),
            "; move it with to(device)");
  }
  return d;
}

// reduce over axes; normalizes the axes and keepdims of a composite the same way
std::vector<int64_t> comp_axes(const char* nm, const Attrs& a, int64_t rank) {
  auto ax = a.get_ints_or("axes", {});
  if (!a.has("axes")) for (int64_t i = 0; i < rank; ++i) ax.push_back(i);
  return norm_axes(nm, ax, rank);
}

// The max shift of softmax / log_softmax / logsumexp behind a stop-gradient marker (a
// same-dtype convert with stop_gradient=1, as autodiff's detach() makes it; simplify drops it
// before execution). The shift cancels in value, so its gradient is zero in exact arithmetic;
// differentiating it anyway (eq mask, tie count, two row sums per row) only added float noise
// and ~10 nodes plus a row-kernel pass per softmax backward (JAX's logsumexp stops it too).
NodeRef shift_no_grad(const NodeRef& m) {
  Attrs a;
  a.set_str("dtype", dtype_name(m->dtype));
  a.set_int("stop_gradient", 1);
  return make_node(Op::Convert, m->dtype, m->shape, {m}, std::move(a), m->device);
}

NodeRef expand_composite(Op op, const std::vector<NodeRef>& in, const Attrs& at) {
  const char* nm = op_name(op);
  want_arity(op, in);
  NodeRef x = in[0];
  int64_t rank = x->shape.size();
  switch (op) {
    case Op::ReduceMean: {
      auto axes = comp_axes(nm, at, rank);
      bool keep = at.get_int_or("keepdims", 0) != 0;
      // integers and bool average in f32; bf16/f16 sum and divide in f32 (like NumPy and JAX),
      // so the sum cannot overflow the half type, and round once at the end. Dividing by the
      // count rounds once, where multiplying by a rounded 1/count would round twice.
      DType out_dt = is_float(x->dtype) ? x->dtype : DType::F32;
      DType acc_dt = x->dtype == DType::F64 ? DType::F64 : DType::F32;
      x = b_convert(x, acc_dt);
      int64_t cnt = 1;
      for (auto a : axes) cnt *= x->shape[a];
      NodeRef s = b_reduce(Op::ReduceSum, x, axes, keep);
      return b_convert(b_binary(Op::Div, s, b_full(static_cast<double>(cnt), s->dtype, s->shape, s->device)), out_dt);
    }
    case Op::LogSumExp: {
      auto axes = comp_axes(nm, at, rank);
      bool keep = at.get_int_or("keepdims", 0) != 0;
      if (!is_float(x->dtype)) x = b_convert(x, DType::F32);
      NodeRef m = shift_no_grad(b_reduce(Op::ReduceMax, x, axes, true));
      // an infinite max (rows that are all -inf, empty rows, rows holding +inf) would give
      // inf - inf = NaN: shift by 0 there instead (the result is then -inf or +inf, as it should)
      NodeRef inf = b_full(HUGE_VAL, m->dtype, m->shape, m->device);
      NodeRef zero = b_full(0.0, m->dtype, m->shape, m->device);
      NodeRef ms = build(Op::Select, {b_binary(Op::Eq, b_unary(Op::Abs, m), inf), zero, m}, Attrs());
      NodeRef e = b_unary(Op::Exp, b_binary(Op::Sub, x, ms));
      NodeRef r = b_binary(Op::Add, b_unary(Op::Log, b_reduce(Op::ReduceSum, e, axes, true)), ms);
      if (keep) return r;
      Shape out;
      for (int64_t d = 0; d < rank; ++d) if (!std::binary_search(axes.begin(), axes.end(), d)) out.push_back(x->shape[d]);
      return b_reshape(r, out);
    }
    case Op::Softmax: case Op::LogSoftmax: {
      if (rank == 0) invalid(nm, ": operand must have rank >= 1");
      int64_t ax = norm_axis(nm, at.get_int_or("axis", -1), rank);
      if (!is_float(x->dtype)) x = b_convert(x, DType::F32);
      NodeRef m = shift_no_grad(b_reduce(Op::ReduceMax, x, {ax}, true));
      NodeRef z = b_binary(Op::Sub, x, m);
      NodeRef e = b_unary(Op::Exp, z);
      NodeRef s = b_reduce(Op::ReduceSum, e, {ax}, true);
      if (op == Op::Softmax) return b_binary(Op::Div, e, s);
      return b_binary(Op::Sub, z, b_unary(Op::Log, s));
    }
    default: internal(nm, ": not a composite");
  }
}

}  // namespace

Device* set_trace_target(Device* target) {
  Device* prev = t_trace_target;
  t_trace_target = target;
  return prev;
}
Device* trace_target() { return t_trace_target; }

NodeRef build(Op op, std::vector<NodeRef> in, Attrs at, Device* dev) {
  const OpInfo& info = op_info(op);
  if (info.kind == OpKind::Composite) return expand_composite(op, in, at);
  if (info.kind == OpKind::Dynamic) invalid(op_name(op), ": dynamic-shape ops are evaluated eagerly, not built");
  want_arity(op, in);
  Device* d = common_device(op, in, dev);
  switch (info.kind) {
    case OpKind::UnaryFloat:
      if (!is_float(in[0]->dtype)) in[0] = b_convert(in[0], DType::F32);
      break;
    case OpKind::Binary: case OpKind::Compare: case OpKind::Logical: case OpKind::Clamp: {
      // the common traced case (operands already agree) skips the Shape copies below
      bool agree = true;
      for (auto& x : in) agree = agree && x->dtype == in[0]->dtype && x->shape == in[0]->shape;
      if (agree) break;
      DType dt = in[0]->dtype;
      for (auto& x : in) dt = promote(dt, x->dtype);
      Shape sh = in[0]->shape;
      for (size_t i = 1; i < in.size(); ++i) sh = broadcast_shapes(op_name(op), sh, in[i]->shape);
      if (info.kind == OpKind::Clamp && sh != in[0]->shape)
        invalid("clamp: bounds ", shape_str(in[1]->shape), "/", shape_str(in[2]->shape), " must broadcast to the operand ",
                shape_str(in[0]->shape));
      for (auto& x : in) x = b_broadcast_to(b_convert(x, dt), sh);
      break;
    }
    case OpKind::Select: {
      if (in[0]->dtype != DType::Bool) invalid("select: condition (operand 0) must be bool, got ", dtype_name(in[0]->dtype),
                                               shape_str(in[0]->shape));
      DType dt = promote(in[1]->dtype, in[2]->dtype);
      Shape sh = broadcast_shapes("select", broadcast_shapes("select", in[0]->shape, in[1]->shape), in[2]->shape);
      in[0] = b_broadcast_to(in[0], sh);
      in[1] = b_broadcast_to(b_convert(in[1], dt), sh);
      in[2] = b_broadcast_to(b_convert(in[2], dt), sh);
      break;
    }
    case OpKind::Concat: {
      DType dt = in[0]->dtype;
      for (auto& x : in) dt = promote(dt, x->dtype);
      for (auto& x : in) x = b_convert(x, dt);
      break;
    }
    case OpKind::Dot: case OpKind::Conv: {
      DType dt = promote(in[0]->dtype, in[1]->dtype);
      in[0] = b_convert(in[0], dt); in[1] = b_convert(in[1], dt);
      break;
    }
    case OpKind::Reshape: {  // resolve one -1
      Shape s = at.get_ints("reshape", "shape");
      int neg = -1; int64_t known = 1;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == -1) {
          if (neg >= 0) invalid("reshape: more than one -1 in ", shape_str(s), " for ", ts(in[0]));
          neg = static_cast<int>(i);
        } else if (s[i] < 0) {
          invalid("reshape: negative dimension in ", shape_str(s), " for ", ts(in[0]));
        } else {
          known *= s[i];
        }
      }
      if (neg >= 0) {
        if (known == 0 || in[0]->numel() % known)
          invalid("reshape: cannot infer -1 in ", shape_str(s), " for ", dtype_name(in[0]->dtype), shape_str(in[0]->shape));
        s[neg] = in[0]->numel() / known;
        at.set_ints("shape", s);
      }
      if (s == in[0]->shape) return in[0];
      break;
    }
    case OpKind::Reduce: {
      if (!at.has("axes")) {
        std::vector<int64_t> all;
        for (size_t i = 0; i < in[0]->shape.size(); ++i) all.push_back(i);
        at.set_ints("axes", all);
      }
      if (in[0]->dtype == DType::Bool && (op == Op::ReduceSum || op == Op::ReduceProd)) in[0] = b_convert(in[0], DType::S64);
      break;
    }
    case OpKind::Convert: {
      DType dt = attr_dtype("convert", at);
      if (dt == in[0]->dtype) return in[0];
      break;
    }
    default: break;
  }
  TypeShape t = infer(op, in, at);
  return make_node(op, t.dtype, std::move(t.shape), std::move(in), std::move(at), d);
}

}  // namespace jxla
