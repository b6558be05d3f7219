// test_gemm.cpp - the host GEMM (backends/host/gemm.h): tiled results against a double-precision
// loop for every transpose combination and both split directions, within the f32 bound
// |c - exact| <= 1.1 K u sum |a||b| (any summation order, u = 2^-24); the tiling rule; and
// bit-identical results when many threads call at once (tiles then run inline on the callers).
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>
#include "backends/host/gemm.h"
#include "backends/host/thread_pool.h"
#include "tests/check.h"

using namespace jxla;

namespace {
struct Case {
  bool ta, tb;
  int64_t M, N, K;
};

// op(A)[i,k] and op(B)[k,j] of the stored row-major operands
float a_at(const std::vector<float>& A, const Case& c, int64_t i, int64_t k) { return c.ta ? A[k * c.M + i] : A[i * c.K + k]; }
float b_at(const std::vector<float>& B, const Case& c, int64_t k, int64_t j) { return c.tb ? B[j * c.K + k] : B[k * c.N + j]; }

std::vector<float> run(const Case& c, const std::vector<float>& A, const std::vector<float>& B) {
  std::vector<float> C(static_cast<size_t>(c.M * c.N), -1.0f);
  host_sgemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), c.ta ? c.M : c.K, B.data(), c.tb ? c.K : c.N, C.data(), c.N);
  return C;
}
}  // namespace

int main() {
  setenv("JXLA_NUM_THREADS", "4", 1);  // before the pool starts: 4 tiles even on a 2-core machine
  CHECK_EQ(host_num_threads(), 4);
  bool rows = false;
  CHECK_EQ(host_gemm_tiles(256, 1024, 784, &rows), 4);  // columns (M < N): each tile packs A once
  CHECK(!rows);
  CHECK_EQ(host_gemm_tiles(2048, 10, 1024, &rows), 4);  // rows (M >= N)
  CHECK_EQ(host_gemm_tiles(256, 10, 1024, &rows), 4);   // 5 MFLOP: split from 1 MFLOP
  CHECK(rows);
  CHECK_EQ(host_gemm_tiles(48, 10, 1024, &rows), 1);    // 0.98 MFLOP: one call
  CHECK_EQ(host_gemm_tiles(8, 8, 8, &rows), 1);      // too little work to split
  CHECK_EQ(host_gemm_tiles(1, 100, 100000, &rows), 2);  // 100 columns: two 64-column tiles

  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const double u = std::ldexp(1.0, -24);
  std::vector<Case> cases;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      cases.push_back({ta, tb, 256, 300, 200});  // columns split
      cases.push_back({ta, tb, 300, 40, 500});   // rows split
      cases.push_back({ta, tb, 1, 777, 3000});   // a single row (batch 1)
      cases.push_back({ta, tb, 5, 3, 4});        // one call
    }
  for (const Case& c : cases) {
    std::vector<float> A(static_cast<size_t>(c.M * c.K)), B(static_cast<size_t>(c.K * c.N));
    for (auto& x : A) x = nd(rng);
    for (auto& x : B) x = nd(rng);
    std::vector<float> C = run(c, A, B);
    double worst = 0;
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        double exact = 0, mag = 0;
        for (int64_t k = 0; k < c.K; ++k) {
          double p = static_cast<double>(a_at(A, c, i, k)) * b_at(B, c, k, j);
          exact += p;
          mag += std::fabs(p);
        }
        worst = std::max(worst, std::fabs(C[static_cast<size_t>(i * c.N + j)] - exact) / (1.1 * c.K * u * mag));
      }
    CHECK(worst <= 1.0);
    // many callers at once (the pool is busy, so tiles run inline): the same bits as one caller
    std::vector<std::vector<float>> got(6);
    std::vector<std::thread> th;
    for (size_t t = 0; t < got.size(); ++t) th.emplace_back([&, t] { got[t] = run(c, A, B); });
    for (auto& t : th) t.join();
    for (auto& g : got) CHECK(g == C);
  }

  // f64 through the same tiling
  std::vector<double> A(64 * 512), B(512 * 300), C(64 * 300);
  for (auto& x : A) x = nd(rng);
  for (auto& x : B) x = nd(rng);
  host_dgemm(false, false, 64, 300, 512, A.data(), 512, B.data(), 300, C.data(), 300);
  double worst = 0;
  for (int64_t i = 0; i < 64; ++i)
    for (int64_t j = 0; j < 300; ++j) {
      long double exact = 0, mag = 0;
      for (int64_t k = 0; k < 512; ++k) {
        long double p = static_cast<long double>(A[i * 512 + k]) * B[k * 300 + j];
        exact += p;
        mag += std::fabs(p);
      }
      worst = std::max(worst, static_cast<double>(std::fabs(C[i * 300 + j] - exact) / (1.1L * 512 * std::ldexp(1.0L, -53) * mag)));
    }
  CHECK(worst <= 1.0);
  return check_finish();
}
