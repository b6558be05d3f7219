// test_prepack.cpp - constant GEMM operands packed once (backends/host/prepack.h).
// 1. GEMM level: sgemm_avx2_packed / host_sgemm_packed read op(B) from a PackedB and must give
//    the BIT-IDENTICAL result of the per-call packing path (sgemm_avx2 / host_sgemm) on the same
//    inputs: same K blocks, same panel values, same kernel (sgemm_avx2.h). Exact equality is the
//    claim, so it is what is checked (any stale panel, wrong slice offset or padding read would
//    change bits), over edge shapes M/N/K 1..20, K crossing block boundaries, both tb and ta,
//    beta 0 and 1, column slices (j0 > 0) and the pool-tiled host entry. The unpacked path itself
//    is checked against a reference in test_sgemm_avx2.cpp.
// 2. Function level: a compiled function whose dot reads a captured constant packs it once
//    (counter PrepackedWeights), reuses it on later calls, and returns the same bits as with
//    prepacking disabled; a dot over a non-captured (not frozen) weight never uses the cache;
//    three functions sharing one executable with different weights (2-entry cache) stay correct.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "backends/host/gemm.h"
#include "backends/host/prepack.h"
#include "backends/host/sgemm_avx2.h"
#include "jxla/jxla.h"
#include "tests/check.h"
#include "tests/float_util.h"

using namespace jxla;

namespace {
std::mt19937 rng(7);
std::vector<float> randn(size_t n) { return jxla_test::randn(rng, n); }
using jxla_test::same_bits;

// sgemm_avx2 vs sgemm_avx2_packed on the whole matrix and on column slices starting at 16
int g_gemm_cases = 0;
void gemm_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), C0 = randn(static_cast<size_t>(M * N));
  auto ref = C0, got = C0;
  sgemm_avx2(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, ref.data(), N, beta);
  auto pb = sgemm_avx2_pack_b(tb, K, N, B.data(), ldb);
  sgemm_avx2_packed(ta, M, N, K, A.data(), lda, *pb, 0, got.data(), N, beta);
  ++g_gemm_cases;
  const bool ok = same_bits(ref, got);
  CHECK(ok);
  if (!ok) {
    std::fprintf(stderr, "packed != unpacked: ta=%d tb=%d M=%ld N=%ld K=%ld beta=%g\n", ta, tb, (long)M, (long)N, (long)K, beta);
    return;
  }
  if (N > 16) {  // columns [16, N) as a tile would read them
    auto sref = C0, sgot = C0;
    const float* b = tb ? B.data() + 16 * ldb : B.data() + 16;
    sgemm_avx2(ta, tb, M, N - 16, K, A.data(), lda, b, ldb, sref.data() + 16, N, beta);
    sgemm_avx2_packed(ta, M, N - 16, K, A.data(), lda, *pb, 16, sgot.data() + 16, N, beta);
    CHECK(same_bits(sref, sgot));
  }
}

void host_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N));
  std::vector<float> ref(static_cast<size_t>(M * N)), got(ref.size(), -1.0f);
  CHECK(host_sgemm_packable(M, N));
  host_sgemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, ref.data(), N);
  auto pb = sgemm_avx2_pack_b(tb, K, N, B.data(), ldb);
  host_sgemm_packed(ta, M, N, K, A.data(), lda, *pb, got.data(), N);
  CHECK(same_bits(ref, got));
}

jxla_tensor_t f32(const std::vector<float>& v, std::vector<int64_t> shape) {
  jxla_tensor_t t = nullptr;
  CHECK_EQ(jxla_tensor_from_data(nullptr, JXLA_F32, shape.data(), static_cast<int32_t>(shape.size()), v.data(),
                                 static_cast<int64_t>(v.size() * 4), &t), 0);
  return t;
}
std::vector<float> read(jxla_tensor_t t, size_t n) {
  std::vector<float> v(n);
  CHECK_EQ(jxla_tensor_read(t, JXLA_F32, v.data(), static_cast<int64_t>(n * 4)), 0);
  return v;
}
int64_t counter(const char* n) {
  int64_t v = -1;
  jxla_metrics_counter(n, &v);
  return v;
}
int32_t op(const char* n) {
  int32_t o = -1;
  jxla_op_lookup(n, &o);
  return o;
}

// relu(x @ W) with W [K, N] captured (rhs_contract 0: tb false) or W [N, K] (rhs_contract 1: tb)
jxla_function_t mlp_layer(jxla_tensor_t x, jxla_tensor_t w, bool tb) {
  jxla_tensor_t in[2] = {x, w}, xw = nullptr, y = nullptr;
  CHECK_EQ(jxla_tensor_op(op("dot_general"), in, 2, tb ? "lhs_contract=[1], rhs_contract=[1]" : "lhs_contract=[1], rhs_contract=[0]",
                          nullptr, &xw), 0);
  CHECK_EQ(jxla_tensor_unary(op("relu"), xw, &y), 0);
  jxla_tensor_t ps[1] = {x}, os[1] = {y};
  jxla_function_t f = nullptr;
  CHECK_EQ(jxla_function_create(ps, 1, os, 1, &f), 0);
  jxla_tensor_free(xw);
  jxla_tensor_free(y);
  return f;
}

std::vector<float> call(jxla_function_t f, const std::vector<float>& xv, int64_t M, int64_t K, size_t n) {
  jxla_tensor_t x = f32(xv, {M, K}), out = nullptr;
  CHECK_EQ(jxla_function_call(f, &x, 1, &out), 0);
  auto r = read(out, n);
  jxla_tensor_free(x);
  jxla_tensor_free(out);
  return r;
}

void function_level(bool tb) {
  const int64_t M = 37, K = 300, N = 70;  // K crosses a block boundary (2 blocks of 152)
  auto wv = randn(static_cast<size_t>(K * N)), xv = randn(static_cast<size_t>(M * K));
  jxla_tensor_t x0 = f32(std::vector<float>(static_cast<size_t>(M * K), 0.0f), {M, K});
  jxla_tensor_t w = f32(wv, tb ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N});
  jxla_function_t f = mlp_layer(x0, w, tb);
  const size_t n = static_cast<size_t>(M * N);
  prepack_set_enabled(false);
  const int64_t packs0 = counter("PrepackedWeights"), uses0 = prepack_uses();
  auto off = call(f, xv, M, K, n);
  CHECK_EQ(prepack_uses(), uses0);  // disabled: never used
  prepack_set_enabled(true);
  auto first = call(f, xv, M, K, n), second = call(f, xv, M, K, n);
  CHECK_EQ(counter("PrepackedWeights") - packs0, 1);  // packed on the first call only
  CHECK_EQ(prepack_uses() - uses0, 2);                // and used by both calls
  CHECK(same_bits(off, first));
  CHECK(same_bits(off, second));
  // independent check of the values (not only of the two paths agreeing): double reference,
  // bound as in test_sgemm_avx2.cpp (gamma_{K+1} sum |a b| plus the reference's own error)
  double worst = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0, sa = 0;
      for (int64_t k = 0; k < K; ++k) {
        double p = double(xv[i * K + k]) * wv[tb ? j * K + k : k * N + j];
        s += p;
        sa += std::fabs(p);
      }
      const double ex = s > 0 ? s : 0, u = std::ldexp(1.0, -24), g = (K + 1) * u / (1 - (K + 1) * u);
      const double err = std::fabs(first[i * N + j] - ex), tol = g * sa + K * std::ldexp(1.0, -53) * sa;
      if (err > tol) worst = err;
    }
  CHECK_EQ(worst, 0.0);
  // a non-captured weight is not frozen: the lazy evaluation of the same product never uses the cache
  jxla_tensor_t w2 = f32(randn(static_cast<size_t>(K * N)), tb ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N});
  jxla_tensor_t x = f32(xv, {M, K}), in[2] = {x, w2}, xw = nullptr;
  CHECK_EQ(jxla_tensor_op(op("dot_general"), in, 2, tb ? "lhs_contract=[1], rhs_contract=[1]" : "lhs_contract=[1], rhs_contract=[0]",
                          nullptr, &xw), 0);
  const int64_t uses1 = prepack_uses();
  read(xw, n);
  CHECK_EQ(prepack_uses(), uses1);
  for (jxla_tensor_t t : {x0, w, w2, x, xw}) jxla_tensor_free(t);
  jxla_function_free(f);
}

// three functions with one graph (one cached executable, one dot kernel, 2-entry cache) and
// different weights, called round-robin: every call matches the unpacked result
void shared_executable() {
  const int64_t M = 12, K = 20, N = 33;
  jxla_tensor_t x0 = f32(std::vector<float>(static_cast<size_t>(M * K), 0.0f), {M, K});
  std::vector<jxla_tensor_t> ws;
  std::vector<jxla_function_t> fs;
  for (int i = 0; i < 3; ++i) {
    ws.push_back(f32(randn(static_cast<size_t>(K * N)), {K, N}));
    fs.push_back(mlp_layer(x0, ws.back(), false));
  }
  auto xv = randn(static_cast<size_t>(M * K));
  const size_t n = static_cast<size_t>(M * N);
  std::vector<std::vector<float>> off;
  prepack_set_enabled(false);
  for (auto f : fs) off.push_back(call(f, xv, M, K, n));
  prepack_set_enabled(true);
  const int64_t uses0 = prepack_uses();
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < fs.size(); ++i) CHECK(same_bits(call(fs[i], xv, M, K, n), off[i]));
  CHECK_EQ(prepack_uses() - uses0, 9);
  CHECK(!same_bits(off[0], off[1]));  // the weights really differ
  for (auto f : fs) jxla_function_free(f);
  for (auto w : ws) jxla_tensor_free(w);
  jxla_tensor_free(x0);
}
}  // namespace

int main() {
  if (!sgemm_avx2_available()) {
    std::printf("no AVX2+FMA: the packed path is never taken (host_sgemm_packable is false)\n");
    CHECK(!host_sgemm_packable(8, 8));
    return check_finish();
  }
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t M : {1, 2, 5, 6, 7, 13, 20})
        for (int64_t N = 1; N <= 20; ++N)
          for (int64_t K = 1; K <= 20; ++K) gemm_case(ta, tb, M, N, K, K % 2 ? 0.0f : 1.0f);
  // K blocks: 257 -> 2 x 136, 513 -> 3 x 176, 784 -> 4 x 200 (the MLP); N past one 3072 block
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      gemm_case(ta, tb, 9, 37, 257, 0.0f);
      gemm_case(ta, tb, 150, 150, 513, 1.0f);
      gemm_case(ta, tb, 7, 3100, 24, 0.0f);
      host_case(ta, tb, 256, 1024, 784);
      host_case(ta, tb, 32, 1024, 784);
      host_case(ta, tb, 300, 70, 40);
    }
  std::printf("%d packed GEMM cases\n", g_gemm_cases);
  function_level(false);
  function_level(true);
  shared_executable();
  return check_finish();
}
