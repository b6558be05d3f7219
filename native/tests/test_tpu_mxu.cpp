// test_tpu_mxu.cpp - the emulated MXU (backends/tpu/mxu.h):
//  1. the vectorized pass equals the scalar reference bit for bit (odd shapes, batches);
//  2. mxu_matmul_f32 equals an independent transcription of XLA's bf16_3x / bf16_6x algorithms
//     bit for bit (split, pass order, NaN -> 0, summation order);
//  3. the error against an f64 reference stays within the bounds derived in docs/tpu-model.md:
//       |c - exact| <= (e_p + 1.1 (K + P) 2^-24) * sum_k |a_ik| |b_kj|
//     with e_p = 2^-7 + 2^-16 (DEFAULT), 1.01 * 2^-13 (HIGH), 1.01 * 2^-20 (HIGHEST), P passes;
//     and DEFAULT really is coarser than HIGH (the bits are dropped, not computed in f32);
//  4. inf operands do not turn into NaN through the small terms; bf16 operands give exact
//     products with f32 accumulation; conv2d on the MXU against an f64 direct convolution.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>
#include "backends/tpu/mxu.h"
#include "ir/dtype.h"
#include "ir/builder.h"
#include "runtime/buffer.h"
#include "tests/check.h"

using namespace jxla;
using namespace jxla::tpu;

namespace {
uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float trunc16(float f) { uint32_t u = bits(f) & 0xffff0000u; float r; std::memcpy(&r, &u, 4); return r; }

std::vector<float> randv(std::mt19937& g, size_t n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// plain f32 accumulation of exact products in ascending k
std::vector<float> naive_pass(const std::vector<float>& a, const std::vector<float>& b, int64_t M, int64_t K, int64_t N) {
  std::vector<float> c(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float s = 0;
      for (int64_t k = 0; k < K; ++k) s = s + a[i * K + k] * b[k * N + j];
      c[i * N + j] = s;
    }
  return c;
}

// XLA dot_algorithm_rewriter transcribed from its description (independent of mxu.cpp)
std::vector<float> xla_algorithm(const std::vector<float>& a, const std::vector<float>& b, int64_t M, int64_t K, int64_t N, int prec) {
  auto map = [](const std::vector<float>& v, auto f) { std::vector<float> r(v.size()); for (size_t i = 0; i < v.size(); ++i) r[i] = f(v[i]); return r; };
  if (prec == 0) return naive_pass(map(a, round_bf16), map(b, round_bf16), M, K, N);
  auto hi = [](float x) { return trunc16(x); };
  auto nz = [](float x) { return std::isnan(x) ? 0.0f : x; };
  std::vector<float> ah = map(a, hi), bh = map(b, hi);
  size_t nc = static_cast<size_t>(M * N);
  std::vector<float> out(nc);
  if (prec == 1) {
    auto al = map(a, [](float x) { return round_bf16(x - trunc16(x)); });
    auto bl = map(b, [](float x) { return round_bf16(x - trunc16(x)); });
    auto lh = naive_pass(al, bh, M, K, N), hl = naive_pass(ah, bl, M, K, N), hh = naive_pass(ah, bh, M, K, N);
    for (size_t i = 0; i < nc; ++i) out[i] = nz(lh[i] + hl[i]) + hh[i];
    return out;
  }
  auto mid = [](float x) { return trunc16(x - trunc16(x)); };
  auto low = [](float x) { float r = x - trunc16(x); return round_bf16(r - trunc16(r)); };
  auto am = map(a, mid), bm = map(b, mid), al = map(a, low), bl = map(b, low);
  auto mm = naive_pass(am, bm, M, K, N), hl = naive_pass(ah, bl, M, K, N), lh = naive_pass(al, bh, M, K, N);
  auto hm = naive_pass(ah, bm, M, K, N), mh = naive_pass(am, bh, M, K, N), hh = naive_pass(ah, bh, M, K, N);
  for (size_t i = 0; i < nc; ++i) out[i] = nz((((mm[i] + hl[i]) + lh[i]) + hm[i]) + mh[i]) + hh[i];
  return out;
}

double err_coef(int prec) {
  return prec == 0 ? std::ldexp(1.0, -7) + std::ldexp(1.0, -16) : prec == 1 ? 1.01 * std::ldexp(1.0, -13) : 1.01 * std::ldexp(1.0, -20);
}
}  // namespace

int main() {
  std::mt19937 g(7);
  // 1. vectorized == reference
  {
    const int64_t B = 2, M = 37, K = 129, N = 53;  // > 2^16 MACs: the threaded split runs
    auto a = randv(g, B * M * K, 1.0f), w = randv(g, B * K * N, 1.0f);
    for (auto& x : a) x = round_bf16(x);
    for (auto& x : w) x = round_bf16(x);
    std::vector<float> c1(B * M * N), c2(B * M * N);
    mxu_pass(a.data(), w.data(), c1.data(), B, M, K, N);
    mxu_pass_reference(a.data(), w.data(), c2.data(), B, M, K, N);
    CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * 4) == 0);
    std::printf("vectorized kernel active: %s, %d thread(s)\n", mxu_vectorized() ? "yes (AVX2)" : "no (scalar only)", mxu_threads());
  }
  // 2 + 3. exact algorithm and error bounds, three precisions, two shapes
  const int64_t shapes[][3] = {{16, 300, 24}, {33, 1024, 17}};
  double max_rel[3] = {0, 0, 0};
  for (auto& s : shapes) {
    int64_t M = s[0], K = s[1], N = s[2];
    auto a = randv(g, M * K, 3.0f), b = randv(g, K * N, 0.5f);
    for (int prec = 0; prec < 3; ++prec) {
      std::vector<float> c(M * N);
      mxu_matmul_f32(a.data(), b.data(), c.data(), 1, M, K, N, prec);
      auto want = xla_algorithm(a, b, M, K, N, prec);
      CHECK(std::memcmp(c.data(), want.data(), c.size() * 4) == 0);
      int bad = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double exact = 0, absum = 0;
          for (int64_t k = 0; k < K; ++k) {
            exact += static_cast<double>(a[i * K + k]) * b[k * N + j];
            absum += std::fabs(static_cast<double>(a[i * K + k]) * b[k * N + j]);
          }
          int P = mxu_passes(DType::F32, prec);
          double bound = (err_coef(prec) + 1.1 * (K + P) * std::ldexp(1.0, -24)) * absum;
          double e = std::fabs(c[i * N + j] - exact);
          if (e > bound) ++bad;
          max_rel[prec] = std::max(max_rel[prec], e / absum);
        }
      CHECK_EQ(bad, 0);
    }
  }
  std::printf("max |err| / sum|a||b|: DEFAULT %.3g HIGH %.3g HIGHEST %.3g\n", max_rel[0], max_rel[1], max_rel[2]);
  // the passes really drop bits: each precision is clearly coarser than the next
  CHECK(max_rel[0] > 10 * max_rel[1]);
  CHECK(max_rel[1] > 2 * max_rel[2]);
  // 4a. inf * (1 = hi + 0 lo) must stay inf, at every precision
  {
    std::vector<float> a = {INFINITY, 1.0f}, b = {1.0f, 2.0f};  // [1,2] x [2,1]
    for (int prec = 0; prec < 3; ++prec) {
      float c = 0;
      mxu_matmul_f32(a.data(), b.data(), &c, 1, 1, 2, 1, prec);
      CHECK(std::isinf(c) && c > 0);
    }
    std::vector<float> a2 = {INFINITY}, b2 = {0.0f};  // inf * 0 is NaN in f32 too
    float c2 = 0;
    mxu_matmul_f32(a2.data(), b2.data(), &c2, 1, 1, 1, 1, 2);
    CHECK(std::isnan(c2));
  }
  // 4b. bf16 operands: exact products, f32 accumulation in ascending k, through mxu_dot
  {
    const int64_t M = 5, K = 77, N = 6;
    BufferRef l = alloc_buffer(DType::BF16, {M, K}, nullptr), r = alloc_buffer(DType::BF16, {K, N}, nullptr);
    std::vector<float> lf(M * K), rf(K * N);
    auto fill = [&](Buffer& b, std::vector<float>& f) {
      auto v = randv(g, f.size(), 2.0f);
      for (size_t i = 0; i < f.size(); ++i) { b.as<uint16_t>()[i] = f32_to_bf16(v[i]); f[i] = bf16_to_f32(b.as<uint16_t>()[i]); }
    };
    fill(*l, lf); fill(*r, rf);
    NodeRef nl = make_data(l), nr = make_data(r);
    Attrs at = Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0]");
    NodeRef d = build(Op::DotGeneral, {nl, nr}, at);
    BufferRef out = alloc_buffer(DType::BF16, {M, N}, nullptr);
    mxu_dot(*d, *l, *r, *out, 2);
    auto want = naive_pass(lf, rf, M, K, N);
    int bad = 0;
    for (int64_t i = 0; i < M * N; ++i) if (out->as<uint16_t>()[i] != f32_to_bf16(want[i])) ++bad;
    CHECK_EQ(bad, 0);
  }
  // 4c. conv2d (stride 2, padding 1, dilation 1, 2 groups) against an f64 direct convolution
  {
    const int64_t Nb = 2, C = 4, H = 9, W = 7, O = 6, KH = 3, KW = 3, G = 2;
    BufferRef x = alloc_buffer(DType::F32, {Nb, C, H, W}, nullptr), w = alloc_buffer(DType::F32, {O, C / G, KH, KW}, nullptr);
    auto xv = randv(g, x->numel(), 1.0f), wv = randv(g, w->numel(), 1.0f);
    std::memcpy(x->data, xv.data(), xv.size() * 4);
    std::memcpy(w->data, wv.data(), wv.size() * 4);
    Attrs at = Attrs::parse("conv2d", "stride=[2,2], padding=[1,1], groups=2");
    NodeRef cn = build(Op::Conv2d, {make_data(x), make_data(w)}, at);
    for (int prec = 0; prec < 3; ++prec) {
      BufferRef out = alloc_buffer(DType::F32, cn->shape, nullptr);
      mxu_conv2d(*cn, *x, *w, *out, prec);
      int64_t OH = cn->shape[2], OW = cn->shape[3], KC = C / G, depth = KC * KH * KW;
      int bad = 0;
      for (int64_t b = 0; b < Nb; ++b)
        for (int64_t o = 0; o < O; ++o)
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
              double exact = 0, absum = 0;
              for (int64_t kc = 0; kc < KC; ++kc)
                for (int64_t kh = 0; kh < KH; ++kh)
                  for (int64_t kw = 0; kw < KW; ++kw) {
                    int64_t ih = oh * 2 - 1 + kh, iw = ow * 2 - 1 + kw;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    double p = static_cast<double>(xv[((b * C + (o / (O / G)) * KC + kc) * H + ih) * W + iw]) *
                               wv[((o * KC + kc) * KH + kh) * KW + kw];
                    exact += p; absum += std::fabs(p);
                  }
              double bound = (err_coef(prec) + 1.1 * (depth + 6) * std::ldexp(1.0, -24)) * absum;
              if (std::fabs(out->as<float>()[((b * O + o) * OH + oh) * OW + ow] - exact) > bound) ++bad;
            }
      CHECK_EQ(bad, 0);
    }
  }
  // precision plumbing
  CHECK_EQ(mxu_passes(DType::F32, 0), 1);
  CHECK_EQ(mxu_passes(DType::F32, 1), 3);
  CHECK_EQ(mxu_passes(DType::F32, 2), 6);
  CHECK_EQ(mxu_passes(DType::BF16, 2), 1);
  set_default_precision(2);
  CHECK_EQ(default_precision(), 2);
  set_default_precision(0);
  bool threw = false;
  try { set_default_precision(3); } catch (const std::exception&) { threw = true; }
  CHECK(threw);
  return check_finish();
}
