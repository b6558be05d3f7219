// float_util.h - helpers shared by the GEMM tests (test_gemm_grid, test_prepack,
// test_tile_epilogue): normal random vectors drawn from the caller's generator, so each test
// keeps its own fixed seed, and bitwise equality of float vectors (the GEMM paths promise
// identical bits, not closeness).
#pragma once
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

}  // namespace jxla_test
