// test_store_epilogue.cpp - matmul + bias + relu with the epilogue in the GEMM micro-kernel's
// stores (session 6: sgemm_avx2.h TileEpilogue, gemm.h GemmTileHooks bias/relu, the dot kernels
// of fused_kernel_dot.cpp whose epilogue is only a row bias and/or relu).
// (1) GEMM level: host_sgemm_hooked (per-call operands, the grid forced) and host_sgemm_packed
//     (prepacked B) with a bias row and/or relu give exactly the bits of the folded-bias path they
//     replace (C prefilled with the bias rows, the GEMM with beta = 1, then a relu pass), over
//     edge shapes (rows not a multiple of 6, columns not a multiple of 16, several K blocks, all
//     transposes), in the grid's shared and private packing modes and on the paths that run the
//     epilogue as passes instead (grid off, batch 1, K = 0); NaN biases stay NaN through relu.
//     Plus a double reference within gemm_gamma (float_util.h).
// (2) End to end, text IR: relu(x W + b), x W + b, relu(x W), b + x W compiled by the fusion
//     compiler with W a per-call parameter: the store epilogue runs (counter), the result equals
//     the store epilogue switched off bit for bit, and the reference interpreter within the
//     bound: both are f32 sums of K products and the bias (gamma_(K+1) (|b| + sum |x w|) each,
//     relu being 1-Lipschitz), so they differ by at most twice that.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>
#include "backends/host/fused_kernel.h"
#include "backends/host/gemm.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/thread_pool.h"
#include "ir/graph.h"
#include "tests/float_util.h"
#include "tests/fusion_util.h"

using namespace jxla;

namespace {
std::mt19937 rng(2026);
std::vector<float> randn(size_t n) { return jxla_test::randn(rng, n); }
using jxla_test::same_bits;

float relu1(float v) { return v > 0.0f ? v : (v != v ? v : 0.0f); }

// the folded-bias path: C = bias rows, C += op(A) op(B) (host_sgemm, beta 1), relu pass
std::vector<float> folded(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const std::vector<float>& A,
                          const std::vector<float>& B, const float* bias, bool relu) {
  std::vector<float> C(static_cast<size_t>(M * N), 0.0f);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * N + j] = bias ? bias[j] : 0.0f;
  host_sgemm_grid_set_enabled(false);
  host_sgemm(ta, tb, M, N, K, A.data(), ta ? M : K, B.data(), tb ? K : N, C.data(), N, bias ? 1.0f : 0.0f);
  host_sgemm_grid_set_enabled(true);
  if (relu)
    for (float& c : C) c = relu1(c);
  return C;
}

// |C - relu(bias + exact)| <= gemm_gamma(K) (|bias| + sum |a b|), the sum taken in double
bool near_exact(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const std::vector<float>& A,
                const std::vector<float>& B, const float* bias, bool relu, const std::vector<float>& C) {
  const double g = jxla_test::gemm_gamma(K);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = bias ? bias[j] : 0.0, mag = std::fabs(s);
      for (int64_t k = 0; k < K; ++k) {
        double p = static_cast<double>(ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
        s += p;
        mag += std::fabs(p);
      }
      if (relu && !(s > 0)) s = 0;
      if (std::isnan(C[i * N + j]) || std::fabs(C[i * N + j] - s) > g * mag) return false;
    }
  return true;
}

// (1) one shape, bias and/or relu, per-call and prepacked B, in every mode
void gemm_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, bool with_bias, bool relu, bool check_ref) {
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), bv = randn(static_cast<size_t>(N));
  const float* bias = with_bias ? bv.data() : nullptr;
  const auto want = folded(ta, tb, M, N, K, A, B, bias, relu);
  GemmTileHooks h;
  h.bias = bias;
  h.relu = relu;
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  auto packed = sgemm_avx2_pack_b(tb, K, N, B.data(), ldb);
  // over the packed B the same fold (one row: the packed row kernel, not OpenBLAS's GEMV)
  std::vector<float> want_p(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) want_p[i * N + j] = bias ? bias[j] : 0.0f;
  host_sgemm_packed(ta, M, N, K, A.data(), lda, *packed, want_p.data(), N, bias ? 1.0f : 0.0f);
  if (relu)
    for (float& c : want_p) c = relu1(c);
  if (M > 1) CHECK(same_bits(want, want_p));
  // mode 0: shared packing, 1: private packing per tile, 2: grid off (bias/relu as passes)
  for (int mode = 0; mode < 3; ++mode) {
    host_sgemm_grid_force_private_a(mode == 1);
    host_sgemm_grid_set_enabled(mode != 2);
    host_sgemm_grid_b_force(true);
    std::vector<float> C(static_cast<size_t>(M * N), 7.0f);  // garbage: C is never read
    host_sgemm_hooked(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), N, 0.0f, &h);
    host_sgemm_grid_b_force(false);
    if (!CHECK(same_bits(want, C)))
      std::printf("  hooked ta=%d tb=%d M=%ld N=%ld K=%ld bias=%d relu=%d mode=%d\n", ta, tb, (long)M, (long)N, (long)K,
                  with_bias, relu, mode);
    std::vector<float> P(static_cast<size_t>(M * N), 7.0f);
    host_sgemm_packed(ta, M, N, K, A.data(), lda, *packed, P.data(), N, 0.0f, &h);
    if (!CHECK(same_bits(want_p, P)))
      std::printf("  packed ta=%d tb=%d M=%ld N=%ld K=%ld bias=%d relu=%d mode=%d\n", ta, tb, (long)M, (long)N, (long)K,
                  with_bias, relu, mode);
  }
  host_sgemm_grid_force_private_a(false);
  host_sgemm_grid_set_enabled(true);
  if (check_ref && !CHECK(near_exact(ta, tb, M, N, K, A, B, bias, relu, want) &&
                          near_exact(ta, tb, M, N, K, A, B, bias, relu, want_p)))
    std::printf("  reference ta=%d tb=%d M=%ld N=%ld K=%ld\n", ta, tb, (long)M, (long)N, (long)K);
}

// NaN and -0 in the bias through relu; K = 0 on a tile (C = relu(bias))
void special_values() {
  const int64_t M = 37, N = 50, K = 300;
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), bv = randn(static_cast<size_t>(N));
  bv[3] = NAN;
  bv[17] = -INFINITY;
  bv[48] = -0.0f;
  const auto want = folded(false, false, M, N, K, A, B, bv.data(), true);
  CHECK(std::isnan(want[3]) && std::isnan(want[N + 3]));
  GemmTileHooks h;
  h.bias = bv.data();
  h.relu = true;
  std::vector<float> C(static_cast<size_t>(M * N), 7.0f);
  host_sgemm_grid_b_force(true);
  host_sgemm_hooked(false, false, M, N, K, A.data(), K, B.data(), N, C.data(), N, 0.0f, &h);
  host_sgemm_grid_b_force(false);
  CHECK(same_bits(want, C));
  // K = 0: the empty sum
  PackedB empty;
  std::vector<float> Z(static_cast<size_t>(2 * N), 7.0f);
  const TileEpilogue te{bv.data(), true};
  sgemm_avx2_tile(2, N, 0, nullptr, 0, 0, nullptr, 0, empty, 0, Z.data(), N, 0.0f, &te);
  bool ok = true;
  for (int64_t j = 0; j < N; ++j) {
    const float r = relu1(bv[j]);
    ok = ok && std::memcmp(&Z[j], &r, 4) == 0 && std::memcmp(&Z[N + j], &r, 4) == 0;
  }
  CHECK(ok);
}

// (2) end to end through the fusion compiler, against the reference interpreter
std::string linear_ir(int64_t M, int64_t K, int64_t N, bool bias, bool bias_left, bool relu) {
  auto sh = [](int64_t a, int64_t b) { return "[" + std::to_string(a) + "," + std::to_string(b) + "]"; };
  std::string mn = sh(M, N), t = "f32" + mn;
  std::string s = "%x = parameter() {dtype=f32, index=0, shape=" + sh(M, K) + "} : f32" + sh(M, K) + "\n" +
                  "%w = parameter() {dtype=f32, index=1, shape=" + sh(K, N) + "} : f32" + sh(K, N) + "\n" +
                  "%b = parameter() {dtype=f32, index=2, shape=[" + std::to_string(N) + "]} : f32[" + std::to_string(N) + "]\n" +
                  "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : " + t + "\n";
  std::string v = "%d";
  if (bias) {
    s += "%bb = broadcast(%b) {dims=[1], shape=" + mn + "} : " + t + "\n";
    s += std::string("%s = add(") + (bias_left ? "%bb, %d" : "%d, %bb") + ") : " + t + "\n";
    v = "%s";
  } else {
    s += "%s = mul(%b, %b) : f32[" + std::to_string(N) + "]\n";  // keeps parameter 2 used
  }
  if (relu) {
    s += "%r = relu(" + v + ") : " + t + "\n";
    v = "%r";
  }
  s += "return " + v + (bias ? "" : ", %s") + "\n";
  return s;
}

void end_to_end(int64_t M, int64_t K, int64_t N, bool bias, bool bias_left, bool relu) {
  using namespace jxla_test;
  Graph g = parse_graph(linear_ir(M, K, N, bias, bias_left, relu));
  auto params = random_params(g, static_cast<uint32_t>(M + K + N));
  auto ref = ref_run(g, params, host_device());
  host_sgemm_grid_b_force(true);
  auto exe = compile(g);
  const int64_t runs = store_epilogue_runs();
  auto out = exe->run(params);
  CHECK(store_epilogue_runs() > runs);  // the epilogue ran in the stores
  store_epilogue_set_enabled(false);
  auto off = exe->run(params);
  store_epilogue_set_enabled(true);
  host_sgemm_grid_b_force(false);
  CHECK_EQ(store_epilogue_runs(), runs + 1);
  const float* x = params[0]->as<float>();
  const float* w = params[1]->as<float>();
  const float* b = params[2]->as<float>();
  const float* y = out[0]->as<float>();
  const float* z = off[0]->as<float>();
  const float* r = ref[0]->as<float>();
  const double g2 = 2 * gemm_gamma(K);
  bool bits = true, near = true;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const int64_t at = i * N + j;
      bits = bits && std::memcmp(&y[at], &z[at], 4) == 0;
      double mag = bias ? std::fabs(b[j]) : 0.0;
      for (int64_t k = 0; k < K; ++k) mag += std::fabs(static_cast<double>(x[i * K + k]) * w[k * N + j]);
      if (!(std::fabs(static_cast<double>(y[at]) - r[at]) <= g2 * mag)) {
        if (near) std::printf("  e2e [%ld,%ld] %.9g vs ref %.9g\n", (long)i, (long)j, y[at], r[at]);
        near = false;
      }
    }
  if (!CHECK(bits && near))
    std::printf("  e2e M=%ld K=%ld N=%ld bias=%d left=%d relu=%d bits=%d\n", (long)M, (long)K, (long)N, bias, bias_left,
                relu, bits);
}
}  // namespace

int main() {
  setenv("JXLA_NUM_THREADS", "3", 1);  // before the pool starts: 3 threads even on a 2-core machine
  CHECK_EQ(host_num_threads(), 3);
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    for (int64_t M : {2, 7, 13, 97})
      for (int64_t N : {2, 17, 33, 130})
        for (int64_t K : {1, 19, 300}) gemm_case(ta, tb, M, N, K, (M + N) % 2 == 0, (M + K) % 2 == 1, M <= 13);
  }
  gemm_case(false, false, 200, 515, 520, true, true, false);  // 3 K blocks, many column tiles
  gemm_case(false, true, 193, 10, 257, true, true, true);     // narrow N: A read in place
  gemm_case(false, false, 1, 301, 300, true, true, true);     // batch 1: the row kernel, as passes
  gemm_case(false, false, 64, 96, 40, true, false, true);     // bias only
  special_values();
  end_to_end(200, 300, 130, true, false, true);   // relu(x W + b)
  end_to_end(97, 260, 40, true, true, true);      // relu(b + x W): the bias on the left
  end_to_end(61, 64, 33, true, false, false);     // x W + b
  end_to_end(90, 100, 70, false, false, true);    // relu(x W): no bias
  return check_finish();
}
