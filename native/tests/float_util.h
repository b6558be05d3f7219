// float_util.h - helpers shared by the GEMM tests (test_gemm_grid, test_prepack,
// test_tile_epilogue, test_gemm_grid_b): normal random vectors drawn from the caller's generator, so each test
// keeps its own fixed seed, and bitwise equality of float vectors (the GEMM paths promise
// identical bits, not closeness), and the f32 GEMM error bound checked against a double reference.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace jxla_test {

inline std::vector<float> randn(std::mt19937& rng, size_t n) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

// gamma_{K+1} of an f32 sum of K products plus beta c0, plus the double reference's own error.
inline double gemm_gamma(int64_t K) {
  const double u = std::ldexp(1.0, -24);
  return (K + 1) * u / (1 - (K + 1) * u) + (K + 2) * std::ldexp(1.0, -53);
}

// |C - exact| <= gemm_gamma(K) (|beta c0| + sum |a b|) for C = op(A) op(B) + beta C0, row-major
// (op(A) stored K x M when ta, op(B) stored N x K when tb), the exact value taken in double.
inline bool within_gemm_bound(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const std::vector<float>& A,
                              const std::vector<float>& B, const std::vector<float>& C0, float beta,
                              const std::vector<float>& C) {
  const double g = gemm_gamma(K);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = beta * static_cast<double>(C0[i * N + j]), mag = std::fabs(s);
      for (int64_t k = 0; k < K; ++k) {
        double p = static_cast<double>(ta ? A[k * M + i] : A[i * K + k]) * static_cast<double>(tb ? B[j * K + k] : B[k * N + j]);
        s += p;
        mag += std::fabs(p);
      }
      if (std::fabs(C[i * N + j] - s) > g * mag) return false;
    }
  return true;
}

}  // namespace jxla_test
