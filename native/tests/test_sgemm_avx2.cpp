// test_sgemm_avx2.cpp - JXLA's own f32 GEMM (backends/host/sgemm_avx2.h) and its wiring into
// host_sgemm (gemm.h), against a double-accumulated reference loop.
// Error bound (why the tolerance cannot be loose): every output is c0 + sum_k a_ik b_kj with
// c0 = beta C. In f32 with FMA each product enters the sum exactly and every addition rounds
// once, so whatever the summation order (blocked or not) the computed value satisfies
// |c - exact| <= gamma_n (|c0| + sum_k |a_ik b_kj|), gamma_n = n u / (1 - n u), u = 2^-24, with
// n = K + 1 roundings at most (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
// eq. (3.5) and Lemma 3.1). The reference sums exact f32 products (24 + 24 bits fit a double) in
// double: its own error, <= K 2^-53 sum|ab|, is added to the tolerance. A kernel that drops a
// product, reads a wrong stride or a stale packed panel misses by O(|a b|) >> gamma_n sum|ab|.
// Also checked: bytes outside the M x N window of a strided C are untouched; results are
// bit-identical across tilings, thread counts and concurrent callers; the OpenBLAS fallback
// (host_sgemm_force_openblas) meets the same bound.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include "backends/host/gemm.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/thread_pool.h"
#include "tests/check.h"

using namespace jxla;

namespace {
struct Case {
  bool ta, tb;
  int64_t M, N, K;
  int64_t pad = 0;  // extra leading-dimension elements for A, B and C (strided operands)
  float beta = 0.0f;
};

struct Data {
  std::vector<float> A, B, C0;
  int64_t lda, ldb, ldc;
};

constexpr float kSentinel = 12345.0f;

Data make(const Case& c, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Data d;
  d.lda = (c.ta ? c.M : c.K) + c.pad;
  d.ldb = (c.tb ? c.K : c.N) + c.pad;
  d.ldc = c.N + c.pad;
  d.A.resize(static_cast<size_t>((c.ta ? c.K : c.M) * d.lda));
  d.B.resize(static_cast<size_t>((c.tb ? c.N : c.K) * d.ldb));
  d.C0.assign(static_cast<size_t>(c.M * d.ldc), kSentinel);
  for (auto& x : d.A) x = nd(rng);
  for (auto& x : d.B) x = nd(rng);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) d.C0[static_cast<size_t>(i * d.ldc + j)] = c.beta != 0.0f ? nd(rng) : -7.0f;
  return d;
}

using Gemm = void (*)(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float*,
                      int64_t, float);

std::vector<float> run(Gemm g, const Case& c, const Data& d) {
  std::vector<float> C = d.C0;
  g(c.ta, c.tb, c.M, c.N, c.K, d.A.data(), d.lda, d.B.data(), d.ldb, C.data(), d.ldc, c.beta);
  return C;
}

void host(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
          float* C, int64_t ldc, float beta) {
  host_sgemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, beta);
}

// Worst |c - exact| / bound over the window (must be <= 1), and the padding must be untouched.
double check_result(const Case& c, const Data& d, const std::vector<float>& C) {
  const double u = std::ldexp(1.0, -24), n = static_cast<double>(c.K + 1);
  const double gamma = n * u / (1.0 - n * u), ref_err = static_cast<double>(c.K + 1) * std::ldexp(1.0, -53);
  double worst = 0;
  bool pad_ok = true;
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < c.N; ++j) {
      double c0 = c.beta != 0.0f ? d.C0[static_cast<size_t>(i * d.ldc + j)] : 0.0;
      double exact = c0, mag = std::fabs(c0);
      for (int64_t k = 0; k < c.K; ++k) {
        double a = c.ta ? d.A[static_cast<size_t>(k * d.lda + i)] : d.A[static_cast<size_t>(i * d.lda + k)];
        double b = c.tb ? d.B[static_cast<size_t>(j * d.ldb + k)] : d.B[static_cast<size_t>(k * d.ldb + j)];
        exact += a * b;
        mag += std::fabs(a * b);
      }
      double err = std::fabs(C[static_cast<size_t>(i * d.ldc + j)] - exact);
      double bound = (gamma + ref_err) * mag;
      worst = std::max(worst, bound > 0 ? err / bound : (err == 0 ? 0.0 : 1e30));
    }
    for (int64_t j = c.N; j < d.ldc; ++j) pad_ok = pad_ok && C[static_cast<size_t>(i * d.ldc + j)] == kSentinel;
  }
  if (!pad_ok) worst = 1e30;
  return worst;
}

bool check_case(Gemm g, const Case& c, std::mt19937& rng) {
  Data d = make(c, rng);
  double w = check_result(c, d, run(g, c, d));
  if (w > 1.0)
    std::printf("  failing case ta=%d tb=%d M=%lld N=%lld K=%lld pad=%lld beta=%g: err/bound %g\n", c.ta, c.tb,
                static_cast<long long>(c.M), static_cast<long long>(c.N), static_cast<long long>(c.K),
                static_cast<long long>(c.pad), c.beta, w);
  return w <= 1.0;
}
}  // namespace

int main() {
  setenv("JXLA_NUM_THREADS", "3", 1);  // before the pool starts: 3 tiles, not a multiple of 2
  CHECK_EQ(host_num_threads(), 3);
  std::mt19937 rng(11);
  const bool avx2 = sgemm_avx2_available();
  std::printf("sgemm_avx2 available: %s\n", avx2 ? "yes" : "no (only the OpenBLAS fallback is tested)");
  const char* env = std::getenv("JXLA_GEMM");
  const bool env_openblas = env && std::string(env) == "openblas";
  CHECK_EQ(host_sgemm_uses_openblas(), !avx2 || env_openblas);
  // K blocks: equal depths, multiples of 8, at most 256 (so K = 257 and 517 cross blocks)
  CHECK_EQ(sgemm_avx2_kc(256), 256);
  CHECK_EQ(sgemm_avx2_kc(257), 136);
  CHECK_EQ(sgemm_avx2_kc(784), 200);
  CHECK_EQ(sgemm_avx2_kc(3), 8);
  const int64_t kc = 256;

  // 1. every edge shape 1..20 x 1..20 (all micro-tile remainders of 6 and 16) for K = 1, 7, 17,
  //    all transposes, beta 0 and 1, contiguous and strided
  std::vector<Case> small;
  for (int64_t M = 1; M <= 20; ++M)
    for (int64_t N = 1; N <= 20; ++N)
      for (int64_t K : {1, 7, 17}) {
        int v = static_cast<int>(M * 400 + N * 20 + K);
        small.push_back({(v & 1) != 0, (v & 2) != 0, M, N, K, (v % 3 == 0) ? 3 : 0, (v % 5 < 2) ? 1.0f : 0.0f});
      }
  // 2. block boundaries: K across KC (kc, kc + 1, 2 kc + 5), M across MC (144), N across NC
  //    (3072), large K, all transposes, beta 0/1 and strides
  std::vector<Case> big;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      big.push_back({ta, tb, 13, 37, kc, 0, 0.0f});
      big.push_back({ta, tb, 29, 18, kc + 1, 5, 1.0f});
      big.push_back({ta, tb, 150, 33, 2 * kc + 5, 0, 1.0f});
      big.push_back({ta, tb, 7, 3090, 40, 2, 0.0f});
      big.push_back({ta, tb, 6, 16, 3000, 1, 0.0f});
      big.push_back({ta, tb, 64, 96, 64, 0, 0.0f});
      big.push_back({ta, tb, 151, 150, 300, 3, 1.0f});  // N > 128: A packed (not read in place)
    }

  if (avx2) {
    int bad = 0;
    for (const Case& c : small) bad += !check_case(sgemm_avx2, c, rng);
    for (const Case& c : big) bad += !check_case(sgemm_avx2, c, rng);
    CHECK_EQ(bad, 0);
    // K = 0: C = beta C
    Case z{false, false, 5, 9, 0, 2, 0.0f};
    Data d = make(z, rng);
    CHECK(check_result(z, d, run(sgemm_avx2, z, d)) == 0.0);
    z.beta = 1.0f;
    d = make(z, rng);
    CHECK(run(sgemm_avx2, z, d) == d.C0);
  }

  // 3. host_sgemm (tiled over 3 threads) meets the bound, and gives exactly the bits of one
  //    untiled sgemm_avx2 call and of many concurrent callers (the pool busy: tiles inline).
  //    256 x 300 splits into 112-column tiles, which read A in place, while the untiled call
  //    packs A: the same bits from both paths.
  host_sgemm_force_openblas(false);  // the sgemm_avx2 path even under JXLA_GEMM=openblas
  bool rows = true;
  int64_t step = 0;
  CHECK_EQ(host_sgemm_tiles(false, 256, 1024, 784, &rows, &step), 8);  // narrow column tiles
  CHECK(!rows);
  CHECK_EQ(step, 128);
  CHECK_EQ(host_sgemm_tiles(false, 256, 300, 200, &rows, &step), 3);
  CHECK_EQ(step, 112);
  CHECK_EQ(host_sgemm_tiles(true, 256, 1024, 784, &rows, &step), 3);  // A packed: one tile per thread
  CHECK(!rows);
  CHECK_EQ(step, 384);
  CHECK_EQ(host_sgemm_tiles(false, 300, 40, 500, &rows, &step), 3);  // too few columns: rows
  CHECK(rows);
  CHECK_EQ(step, 112);
  CHECK_EQ(host_sgemm_tiles(false, 20, 20, 20, &rows, &step), 1);  // too little work
  std::vector<Case> tiled;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      tiled.push_back({ta, tb, 256, 300, 200, 0, 0.0f});   // columns split
      tiled.push_back({ta, tb, 300, 40, 500, 4, 1.0f});    // rows split, strided, beta 1
      tiled.push_back({ta, tb, 1, 77, 300, 0, 1.0f});      // one row: GEMV
      tiled.push_back({ta, tb, 70, 1, 300, 1, 0.0f});      // one column: GEMV
    }
  for (const Case& c : tiled) {
    Data d = make(c, rng);
    std::vector<float> C = run(host, c, d);
    CHECK(check_result(c, d, C) <= 1.0);
    if (avx2 && c.M > 1 && c.N > 1) CHECK(C == run(sgemm_avx2, c, d));
    std::vector<std::vector<float>> got(4);
    std::vector<std::thread> th;
    for (size_t t = 0; t < got.size(); ++t) th.emplace_back([&, t] { got[t] = run(host, c, d); });
    for (auto& t : th) t.join();
    for (auto& g : got) CHECK(g == C);
  }

  // 4. the OpenBLAS fallback (JXLA_GEMM=openblas, or no AVX2): same bound, then back
  host_sgemm_force_openblas(true);
  CHECK(host_sgemm_uses_openblas());
  int bad = 0;
  for (size_t i = 0; i < small.size(); i += 7) bad += !check_case(host, small[i], rng);
  for (const Case& c : tiled) bad += !check_case(host, c, rng);
  CHECK_EQ(bad, 0);
  host_sgemm_force_openblas(env_openblas);
  CHECK_EQ(host_sgemm_uses_openblas(), !avx2 || env_openblas);
  return check_finish();
}
