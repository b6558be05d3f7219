// reference.cpp - reference kernels for element-wise, shape, indexing, reduction and RNG ops.
// Linear algebra (dot, conv, pool) lives in reference_linalg.cpp; dynamic ops in
// reference_dynamic.cpp.
#include "backends/host/reference.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include "backends/host/elem.h"
#include "backends/host/reference_internal.h"
#include "ir/error.h"

namespace jxla {

void philox4x32(uint64_t key, uint64_t counter, uint32_t out[4]) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = static_cast<uint32_t>(p1);
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

namespace {

double unary_f(Op op, double x) {
  switch (op) {
    case Op::Neg: return -x;
    case Op::Abs: return std::fabs(x);
    case Op::Exp: return std::exp(x);
    case Op::Log: return std::log(x);
    case Op::Log1p: return std::log1p(x);
    case Op::Expm1: return std::expm1(x);
    case Op::Sqrt: return std::sqrt(x);
    case Op::Rsqrt: return 1.0 / std::sqrt(x);
    case Op::Tanh: return std::tanh(x);
    case Op::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Op::Relu: return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case Op::Gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Op::GeluTanh: return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Op::Erf: return std::erf(x);
    case Op::Sin: return std::sin(x);
    case Op::Cos: return std::cos(x);
    case Op::Floor: return std::floor(x);
    case Op::Ceil: return std::ceil(x);
    case Op::Round: return std::nearbyint(x);
    case Op::Sign: return std::isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : x));
    default: internal(op_name(op), ": not a float unary op");
  }
}

int64_t unary_i(Op op, int64_t x) {
  switch (op) {
    case Op::Neg: return static_cast<int64_t>(0ULL - static_cast<uint64_t>(x));
    case Op::Abs: return x < 0 ? static_cast<int64_t>(0ULL - static_cast<uint64_t>(x)) : x;
    case Op::Relu: return x > 0 ? x : 0;
    case Op::Sign: return (x > 0) - (x < 0);
    default: internal(op_name(op), ": not an integer unary op");
  }
}

double binary_f(Op op, double a, double b) {
  switch (op) {
    case Op::Add: return a + b;
    case Op::Sub: return a - b;
    case Op::Mul: return a * b;
    case Op::Div: return a / b;
    case Op::Pow: return std::pow(a, b);
    case Op::Max: return (std::isnan(a) || std::isnan(b)) ? NAN : std::max(a, b);
    case Op::Min: return (std::isnan(a) || std::isnan(b)) ? NAN : std::min(a, b);
    default: internal(op_name(op), ": not a float binary op");
  }
}

int64_t ipow(int64_t b, int64_t e) {
  if (e < 0) return b == 1 ? 1 : (b == -1 ? (e % 2 ? -1 : 1) : 0);
  uint64_t r = 1, base = static_cast<uint64_t>(b);
  while (e) { if (e & 1) r *= base; base *= base; e >>= 1; }
  return static_cast<int64_t>(r);
}

int64_t binary_i(Op op, DType dt, int64_t a, int64_t b) {
  uint64_t ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
  switch (op) {
    case Op::Add: return static_cast<int64_t>(ua + ub);
    case Op::Sub: return static_cast<int64_t>(ua - ub);
    case Op::Mul: return static_cast<int64_t>(ua * ub);
    case Op::Div: {
      if (b == 0) return -1;
      int64_t mn = dt == DType::S32 ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min();
      if (a == mn && b == -1) return mn;
      return a / b;
    }
    case Op::Pow: return ipow(a, b);
    case Op::Max: return std::max(a, b);
    case Op::Min: return std::min(a, b);
    default: internal(op_name(op), ": not an integer binary op");
  }
}

template <class T> bool cmp(Op op, T a, T b) {
  switch (op) {
    case Op::Eq: return a == b;
    case Op::Ne: return a != b;
    case Op::Lt: return a < b;
    case Op::Le: return a <= b;
    case Op::Gt: return a > b;
    case Op::Ge: return a >= b;
    default: internal(op_name(op), ": not a comparison");
  }
}

int64_t wrap_index(int64_t i, int64_t n) {
  if (i < 0) i += n;
  return std::min(std::max<int64_t>(i, 0), n - 1);
}

void eval_elementwise(const Node& n, const std::vector<const Buffer*>& in, Buffer& out) {
  int64_t N = out.numel();
  const Op op = n.op;
  const OpKind kind = n.info().kind;
  // all-f32 unary/binary: the same double formulas as below (getf of f32 widens exactly, setf
  // rounds once), without the per-element dtype dispatch: bit-identical, several times faster
  // (the emulated TPU evaluates its element-wise ops here)
  if (out.dtype == DType::F32 && (kind == OpKind::Unary || kind == OpKind::UnaryFloat || kind == OpKind::Binary)) {
    bool f32 = true;
    for (const Buffer* b : in) f32 = f32 && b->dtype == DType::F32;
    if (f32) {
      const float* a = in[0]->as<float>();
      float* o = out.as<float>();
      if (kind == OpKind::Binary) {
        const float* b = in[1]->as<float>();
        auto dbl = [](float v) { return static_cast<double>(v); };
        switch (op) {  // binary_f's own formulas, with the switch hoisted out of the loop
          case Op::Add: for (int64_t i = 0; i < N; ++i) o[i] = static_cast<float>(dbl(a[i]) + dbl(b[i])); break;
          case Op::Sub: for (int64_t i = 0; i < N; ++i) o[i] = static_cast<float>(dbl(a[i]) - dbl(b[i])); break;
          case Op::Mul: for (int64_t i = 0; i < N; ++i) o[i] = static_cast<float>(dbl(a[i]) * dbl(b[i])); break;
          case Op::Div: for (int64_t i = 0; i < N; ++i) o[i] = static_cast<float>(dbl(a[i]) / dbl(b[i])); break;
          default: for (int64_t i = 0; i < N; ++i) o[i] = static_cast<float>(binary_f(op, a[i], b[i]));
        }
      } else {
        for (int64_t i = 0; i < N; ++i) o[i] = static_cast<float>(unary_f(op, a[i]));
      }
      return;
    }
  }
  switch (kind) {
    case OpKind::Unary: case OpKind::UnaryFloat:
      if (is_float(in[0]->dtype)) for (int64_t i = 0; i < N; ++i) setf(out, i, unary_f(op, getf(*in[0], i)));
      else for (int64_t i = 0; i < N; ++i) seti(out, i, unary_i(op, geti(*in[0], i)));
      return;
    case OpKind::UnaryLogical:
      if (in[0]->dtype == DType::Bool) for (int64_t i = 0; i < N; ++i) seti(out, i, !geti(*in[0], i));
      else for (int64_t i = 0; i < N; ++i) seti(out, i, ~geti(*in[0], i));
      return;
    case OpKind::Convert:
      if (is_float(in[0]->dtype) && out.dtype != DType::Bool) for (int64_t i = 0; i < N; ++i) setf(out, i, getf(*in[0], i));
      else if (is_float(in[0]->dtype)) for (int64_t i = 0; i < N; ++i) seti(out, i, getf(*in[0], i) != 0.0);
      else for (int64_t i = 0; i < N; ++i) seti(out, i, geti(*in[0], i));
      return;
    case OpKind::Binary:
      if (is_float(out.dtype)) for (int64_t i = 0; i < N; ++i) setf(out, i, binary_f(op, getf(*in[0], i), getf(*in[1], i)));
      else for (int64_t i = 0; i < N; ++i) seti(out, i, binary_i(op, out.dtype, geti(*in[0], i), geti(*in[1], i)));
      return;
    case OpKind::Compare:
      if (is_float(in[0]->dtype)) for (int64_t i = 0; i < N; ++i) seti(out, i, cmp(op, getf(*in[0], i), getf(*in[1], i)));
      else for (int64_t i = 0; i < N; ++i) seti(out, i, cmp(op, geti(*in[0], i), geti(*in[1], i)));
      return;
    case OpKind::Logical:
      for (int64_t i = 0; i < N; ++i) {
        int64_t a = geti(*in[0], i), b = geti(*in[1], i), r;
        if (out.dtype == DType::Bool) { a = a != 0; b = b != 0; }
        r = op == Op::And ? (a & b) : op == Op::Or ? (a | b) : (a ^ b);
        seti(out, i, r);
      }
      return;
    case OpKind::Select: {
      size_t es = static_cast<size_t>(dtype_size(out.dtype));
      for (int64_t i = 0; i < N; ++i) {
        const Buffer* src = geti(*in[0], i) ? in[1] : in[2];
        std::memcpy(static_cast<char*>(out.data) + i * es, static_cast<const char*>(src->data) + i * es, es);
      }
      return;
    }
    case OpKind::Clamp:
      if (is_float(out.dtype))
        for (int64_t i = 0; i < N; ++i)
          setf(out, i, binary_f(Op::Min, binary_f(Op::Max, getf(*in[0], i), getf(*in[1], i)), getf(*in[2], i)));
      else
        for (int64_t i = 0; i < N; ++i) seti(out, i, std::min(std::max(geti(*in[0], i), geti(*in[1], i)), geti(*in[2], i)));
      return;
    default: internal(op_name(op), ": not element-wise");
  }
}

// copies element src_i of src into element dst_i of dst (same dtype)
inline void copy_elem(const Buffer& src, int64_t si, Buffer& dst, int64_t di) {
  size_t es = static_cast<size_t>(dtype_size(dst.dtype));
  std::memcpy(static_cast<char*>(dst.data) + di * es, static_cast<const char*>(src.data) + si * es, es);
}

void eval_reduce(const Node& n, const Buffer& x, Buffer& out) {
  const auto& axes = n.attrs.get_ints("reduce", "axes");
  const Shape& xs = x.shape;
  std::vector<bool> red(xs.size(), false);
  for (auto a : axes) red[a] = true;
  Shape os;  // out shape without keepdims
  for (size_t d = 0; d < xs.size(); ++d) if (!red[d]) os.push_back(xs[d]);
  int64_t M = out.numel();
  bool fl = is_float(x.dtype);
  std::vector<double> accf(M);
  std::vector<int64_t> acci(M);
  double initf = n.op == Op::ReduceSum ? 0.0 : n.op == Op::ReduceProd ? 1.0 : n.op == Op::ReduceMax ? -HUGE_VAL : HUGE_VAL;
  int64_t initi = n.op == Op::ReduceSum ? 0 : n.op == Op::ReduceProd ? 1
                 : n.op == Op::ReduceMax ? (x.dtype == DType::S32 ? INT32_MIN : x.dtype == DType::Bool ? 0 : INT64_MIN)
                                         : (x.dtype == DType::S32 ? INT32_MAX : x.dtype == DType::Bool ? 1 : INT64_MAX);
  std::fill(accf.begin(), accf.end(), initf);
  std::fill(acci.begin(), acci.end(), initi);
  std::vector<int64_t> idx(xs.size()), oidx(os.size());
  int64_t N = x.numel();
  for (int64_t i = 0; i < N; ++i) {
    unravel(i, xs, idx.data());
    size_t k = 0;
    for (size_t d = 0; d < xs.size(); ++d) if (!red[d]) oidx[k++] = idx[d];
    int64_t o = ravel(oidx.data(), os);
    if (fl) {
      double v = getf(x, i);
      double& a = accf[o];
      switch (n.op) {
        case Op::ReduceSum: a += v; break;
        case Op::ReduceProd: a *= v; break;
        case Op::ReduceMax: a = (std::isnan(a) || std::isnan(v)) ? NAN : std::max(a, v); break;
        default: a = (std::isnan(a) || std::isnan(v)) ? NAN : std::min(a, v); break;
      }
    } else {
      int64_t v = geti(x, i);
      int64_t& a = acci[o];
      switch (n.op) {
        case Op::ReduceSum: a = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(v)); break;
        case Op::ReduceProd: a = static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(v)); break;
        case Op::ReduceMax: a = std::max(a, v); break;
        default: a = std::min(a, v); break;
      }
    }
  }
  for (int64_t o = 0; o < M; ++o) { if (fl) setf(out, o, accf[o]); else seti(out, o, acci[o]); }
}

void eval_argreduce(const Node& n, const Buffer& x, Buffer& out) {
  int64_t ax = n.attrs.get_int("arg", "axis");
  const Shape& xs = x.shape;
  int64_t outer = 1, inner = 1, len = xs[ax];
  for (int64_t d = 0; d < ax; ++d) outer *= xs[d];
  for (size_t d = ax + 1; d < xs.size(); ++d) inner *= xs[d];
  bool fl = is_float(x.dtype);
  bool mx = n.op == Op::Argmax;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t best = 0;
      for (int64_t k = 1; k < len; ++k) {
        int64_t bi = (o * len + best) * inner + in, ci = (o * len + k) * inner + in;
        bool take;
        if (fl) {
          double b = getf(x, bi), c = getf(x, ci);
          if (std::isnan(b)) take = false;             // first NaN wins, like NumPy
          else if (std::isnan(c)) take = true;
          else take = mx ? c > b : c < b;
        } else {
          int64_t b = geti(x, bi), c = geti(x, ci);
          take = mx ? c > b : c < b;
        }
        if (take) best = k;
      }
      seti(out, o * inner + in, best);
    }
}

// significant bits of a float dtype (with the implicit one)
int mantissa_bits(DType t) {
  switch (t) {
    case DType::F64: return 53;
    case DType::BF16: return 8;
    case DType::F16: return 11;
    default: return 24;
  }
}

void eval_rng(const Node& n, const Buffer& key, Buffer& out) {
  uint64_t k = static_cast<uint64_t>(key.as<int64_t>()[0]);
  uint64_t base = static_cast<uint64_t>(key.as<int64_t>()[1]);
  int64_t N = out.numel();
  for (int64_t i = 0; i < N; ++i) {
    uint32_t r[4];
    philox4x32(k, base + static_cast<uint64_t>(i), r);
    // 53-bit uniforms in [0, 1) built from two words; rounded once to the dtype
    double u1 = static_cast<double>((static_cast<uint64_t>(r[0]) << 21) ^ (r[1] >> 11)) * 0x1p-53;
    if (n.op == Op::RngUniform) {
      setf(out, i, u1);
      // rounding to the dtype can reach 1.0 (for bf16 when u1 >= 1 - 2^-9): use the dtype's
      // largest value below 1, so the result stays in [0, 1) in every dtype
      if (getf(out, i) >= 1.0) setf(out, i, 1.0 - std::ldexp(1.0, -mantissa_bits(out.dtype)));
    } else {
      double u2 = static_cast<double>((static_cast<uint64_t>(r[2]) << 21) ^ (r[3] >> 11)) * 0x1p-53;
      double z = std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(2.0 * M_PI * u2);  // 1 - u1 in (0, 1]
      setf(out, i, z);
    }
  }
}

}  // namespace

BufferRef ref_eval(const Node& n, const std::vector<const Buffer*>& in, Device* dev) {
  BufferRef outp = alloc_buffer(n.dtype, n.shape, dev);
  Buffer& out = *outp;
  const int64_t N = out.numel();
  const Attrs& at = n.attrs;
  OpKind kind = n.info().kind;
  if (is_elementwise(kind)) { eval_elementwise(n, in, out); return outp; }
  switch (kind) {
    case OpKind::Leaf:
      if (n.op == Op::Full) {
        double v = at.get_float("full", "value");
        if (is_float(n.dtype) || n.dtype == DType::Bool) for (int64_t i = 0; i < N; ++i) setf(out, i, v);
        else for (int64_t i = 0; i < N; ++i) seti(out, i, sat_to(n.dtype, v));
      } else if (n.op == Op::Iota) {
        int64_t ax = at.get_int("iota", "axis");
        std::vector<int64_t> idx(n.shape.size());
        for (int64_t i = 0; i < N; ++i) { unravel(i, n.shape, idx.data()); seti(out, i, idx[ax]); }
      } else internal("parameter: evaluated without a binding");
      return outp;
    case OpKind::Rng: eval_rng(n, *in[0], out); return outp;
    case OpKind::Reshape:
      std::memcpy(out.data, in[0]->data, static_cast<size_t>(out.nbytes));
      return outp;
    case OpKind::Transpose: {
      auto perm = at.get_ints("transpose", "perm");
      std::vector<int64_t> oi(n.shape.size()), xi(n.shape.size());
      for (int64_t i = 0; i < N; ++i) {
        unravel(i, n.shape, oi.data());
        for (size_t d = 0; d < perm.size(); ++d) xi[perm[d]] = oi[d];
        copy_elem(*in[0], ravel(xi.data(), in[0]->shape), out, i);
      }
      return outp;
    }
    case OpKind::Broadcast: {
      // an odometer over the output's index with the input offset kept incrementally (stride 0
      // on broadcast dimensions): the element order and values of the unravel/ravel form
      // without a division per element
      auto dims = at.get_ints("broadcast", "dims");
      const Shape& xs = in[0]->shape;
      const size_t r = n.shape.size();
      std::vector<int64_t> st(r, 0), idx(r, 0);
      int64_t xst = 1;
      for (size_t d = xs.size(); d-- > 0;) {
        if (xs[d] != 1) st[static_cast<size_t>(dims[d])] = xst;
        xst *= xs[d];
      }
      int64_t off = 0;
      const size_t es = static_cast<size_t>(dtype_size(out.dtype));
      const char* src = static_cast<const char*>(in[0]->data);
      char* dst = static_cast<char*>(out.data);
      for (int64_t i = 0; i < N; ++i) {
        if (es == 4) std::memcpy(dst + static_cast<size_t>(i) * 4, src + static_cast<size_t>(off) * 4, 4);  // inlined
        else std::memcpy(dst + static_cast<size_t>(i) * es, src + static_cast<size_t>(off) * es, es);
        for (size_t d = r; d-- > 0;) {
          off += st[d];
          if (++idx[d] < n.shape[d]) break;
          off -= st[d] * n.shape[d];
          idx[d] = 0;
        }
      }
      return outp;
    }
    case OpKind::Slice: {
      auto st = at.get_ints("slice", "start"), sd = at.get_ints("slice", "stride");
      std::vector<int64_t> oi(n.shape.size()), xi(n.shape.size());
      for (int64_t i = 0; i < N; ++i) {
        unravel(i, n.shape, oi.data());
        for (size_t d = 0; d < oi.size(); ++d) xi[d] = st[d] + oi[d] * sd[d];
        copy_elem(*in[0], ravel(xi.data(), in[0]->shape), out, i);
      }
      return outp;
    }
    case OpKind::Concat: {
      int64_t ax = at.get_int("concat", "axis");
      std::vector<int64_t> oi(n.shape.size());
      for (int64_t i = 0; i < N; ++i) {
        unravel(i, n.shape, oi.data());
        int64_t k = oi[ax];
        size_t j = 0;
        while (k >= in[j]->shape[ax]) { k -= in[j]->shape[ax]; ++j; }
        oi[ax] = k;
        copy_elem(*in[j], ravel(oi.data(), in[j]->shape), out, i);
      }
      return outp;
    }
    case OpKind::Pad: {
      auto lo = at.get_ints("pad", "low");
      double v = at.get_float("pad", "value");
      const Shape& xs = in[0]->shape;
      std::vector<int64_t> oi(n.shape.size());
      for (int64_t i = 0; i < N; ++i) {
        unravel(i, n.shape, oi.data());
        bool inside = true;
        for (size_t d = 0; d < oi.size(); ++d) { oi[d] -= lo[d]; if (oi[d] < 0 || oi[d] >= xs[d]) inside = false; }
        if (inside) copy_elem(*in[0], ravel(oi.data(), xs), out, i);
        else if (is_float(n.dtype) || n.dtype == DType::Bool) setf(out, i, v);
        else seti(out, i, sat_to(n.dtype, v));
      }
      return outp;
    }
    case OpKind::Gather: {
      int64_t ax = at.get_int("gather", "axis");
      const Shape& xs = in[0]->shape;
      size_t ir = in[1]->shape.size();
      std::vector<int64_t> oi(n.shape.size()), xi(xs.size()), ii(ir);
      for (int64_t i = 0; i < N; ++i) {
        unravel(i, n.shape, oi.data());
        for (int64_t d = 0; d < ax; ++d) xi[d] = oi[d];
        for (size_t d = 0; d < ir; ++d) ii[d] = oi[ax + d];
        xi[ax] = wrap_index(geti(*in[1], ravel(ii.data(), in[1]->shape)), xs[ax]);
        for (size_t d = ax + 1; d < xs.size(); ++d) xi[d] = oi[d + ir - 1];
        copy_elem(*in[0], ravel(xi.data(), xs), out, i);
      }
      return outp;
    }
    case OpKind::TakeAlong: {
      int64_t ax = at.get_int("take_along_axis", "axis");
      const Shape& xs = in[0]->shape;
      std::vector<int64_t> oi(n.shape.size());
      for (int64_t i = 0; i < N; ++i) {
        unravel(i, n.shape, oi.data());
        oi[ax] = wrap_index(geti(*in[1], i), xs[ax]);
        copy_elem(*in[0], ravel(oi.data(), xs), out, i);
      }
      return outp;
    }
    case OpKind::ScatterAdd: {
      int64_t ax = at.get_int("scatter_add", "axis");
      std::memcpy(out.data, in[0]->data, static_cast<size_t>(out.nbytes));
      const Shape& is = in[1]->shape;
      std::vector<int64_t> ii(is.size());
      int64_t M = in[1]->numel();
      bool fl = is_float(n.dtype);
      for (int64_t i = 0; i < M; ++i) {
        unravel(i, is, ii.data());
        ii[ax] = wrap_index(geti(*in[1], i), n.shape[ax]);
        int64_t o = ravel(ii.data(), n.shape);
        if (fl) setf(out, o, getf(out, o) + getf(*in[2], i));
        else seti(out, o, static_cast<int64_t>(static_cast<uint64_t>(geti(out, o)) + static_cast<uint64_t>(geti(*in[2], i))));
      }
      return outp;
    }
    case OpKind::OneHot: {
      int64_t depth = at.get_int("one_hot", "depth");
      for (int64_t i = 0; i < N; ++i) {
        int64_t v = geti(*in[0], depth ? i / depth : 0);
        seti(out, i, v == (depth ? i % depth : 0) ? 1 : 0);
      }
      return outp;
    }
    case OpKind::Reduce: eval_reduce(n, *in[0], out); return outp;
    case OpKind::ArgReduce: eval_argreduce(n, *in[0], out); return outp;
    case OpKind::TopK: ref_top_k(n, *in[0], out); return outp;
    case OpKind::Dot: ref_dot(n, *in[0], *in[1], out); return outp;
    case OpKind::Conv: ref_conv2d(n, *in[0], *in[1], out); return outp;
    case OpKind::Pool: ref_pool2d(n, *in[0], out); return outp;
    default: internal(op_name(n.op), ": no reference kernel");
  }
}

std::vector<BufferRef> ref_run(const Graph& g, const std::vector<BufferRef>& params, Device* dev) {
  if (params.size() != g.params.size()) internal("ref_run: ", params.size(), " buffers for ", g.params.size(), " parameters");
  std::unordered_map<const Node*, BufferRef> val;
  // last use of each node, so intermediates are freed as soon as possible
  std::unordered_map<const Node*, size_t> last;
  for (size_t i = 0; i < g.nodes.size(); ++i) for (auto& in : g.nodes[i]->inputs) last[in.get()] = i;
  std::unordered_map<const Node*, bool> is_out;
  for (auto& o : g.outputs) is_out[o.get()] = true;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node* n = g.nodes[i].get();
    if (n->op == Op::Parameter) { val[n] = params.at(static_cast<size_t>(n->attrs.get_int("parameter", "index"))); continue; }
    std::vector<const Buffer*> in;
    for (auto& x : n->inputs) {
      const Buffer* b = val.at(x.get()).get();
      if (!b) internal("ref_run: node %", i, " (", op_name(n->op), ") has an unbound input (", op_name(x->op), ")");
      in.push_back(b);
    }
    val[n] = ref_eval(*n, in, dev);
    for (auto& x : n->inputs) {
      auto it = last.find(x.get());
      if (it != last.end() && it->second == i && !is_out.count(x.get())) val.erase(x.get());
    }
  }
  std::vector<BufferRef> outs;
  for (auto& o : g.outputs) outs.push_back(val.at(o.get()));
  return outs;
}

}  // namespace jxla
