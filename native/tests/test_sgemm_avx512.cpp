// test_sgemm_avx512.cpp - the AVX-512 R x 32 micro-kernels (backends/host/sgemm_avx512.h) give
// bit-identical results to the AVX2 6x16 kernels on every GEMM entry that reaches them: per-call
// packing (sgemm_avx2, A packed or read in place), prepacked B (sgemm_avx2_packed), 2-D tiles
// with the bias/relu store epilogue (sgemm_avx2_tile) and the threaded host_sgemm /
// host_sgemm_packed. Why bits and not a tolerance: both paths compute each element as one FMA
// chain from 0 in k order per K block, and a zmm FMA rounds each lane exactly as a ymm FMA does,
// so any difference is a bug (a wrong panel, row, stride or epilogue). The AVX2 path itself is
// checked against a double-accumulated reference with the error bound in test_sgemm_avx2.cpp
// (which runs the AVX-512 kernels by default on a CPU that has them).
// Shapes cover every remainder: M across the 6-row panels, N across 32-column pairs plus a
// 16-column panel plus a partial one, K across the K blocks; A and B transposed or not.
// On a CPU without AVX-512F the switch must stay off and the test says what it could not run.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>
#include "backends/host/gemm.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/sgemm_avx512.h"
#include "backends/host/thread_pool.h"
#include "tests/check.h"

using namespace jxla;

namespace {
std::mt19937 rng(512);

std::vector<float> randn(size_t n) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// runs f once with the AVX2 kernels and once with the AVX-512 ones (C starts from c0 each time)
template <typename F>
bool both_equal(const std::vector<float>& c0, F f) {
  std::vector<float> c2 = c0, c5 = c0;
  const bool prev = sgemm_avx512_set_enabled(false);
  f(c2.data());
  sgemm_avx512_set_enabled(true);
  f(c5.data());
  sgemm_avx512_set_enabled(prev);
  return same_bits(c2, c5);
}

void per_call(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta) {
  const auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), c0 = randn(static_cast<size_t>(M * N));
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  const bool ok = both_equal(c0, [&](float* C) { sgemm_avx2(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C, N, beta); });
  if (!CHECK(ok)) std::printf("  sgemm_avx2 ta=%d tb=%d %ldx%ldx%ld beta %g\n", ta, tb, long(M), long(N), long(K), beta);
}

void tiles(bool ta, int64_t M, int64_t N, int64_t K, bool bias, bool relu) {
  const auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), b = randn(static_cast<size_t>(N));
  const std::vector<float> c0(static_cast<size_t>(M * N), -3.0f);
  const auto pb = sgemm_avx2_pack_b(false, K, N, B.data(), N);
  const int64_t lda = ta ? M : K, mstride = (M + 5) / 6 * 6;
  std::vector<float> pa(static_cast<size_t>(mstride * K));
  sgemm_avx2_pack_a_rows(ta, K, A.data(), lda, 0, M, pa.data(), mstride, 0);
  const TileEpilogue epi{bias ? b.data() : nullptr, relu};
  const TileEpilogue* e = bias || relu ? &epi : nullptr;
  bool ok = both_equal(c0, [&](float* C) { sgemm_avx2_tile(M, N, K, pa.data(), mstride, 0, nullptr, 0, *pb, 0, C, N, 0.0f, e); });
  if (!ta)  // op(A) read in place (the narrow-N path's A source)
    ok = both_equal(c0, [&](float* C) { sgemm_avx2_tile(M, N, K, nullptr, 0, 0, A.data(), K, *pb, 0, C, N, 0.0f, e); }) && ok;
  ok = both_equal(c0, [&](float* C) { sgemm_avx2_packed(ta, M, N, K, A.data(), lda, *pb, 0, C, N, 1.0f); }) && ok;
  if (!CHECK(ok)) std::printf("  tiles ta=%d %ldx%ldx%ld bias %d relu %d\n", ta, long(M), long(N), long(K), bias, relu);
}

void threaded(int64_t M, int64_t N, int64_t K) {
  const auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), b = randn(static_cast<size_t>(N));
  const std::vector<float> c0(static_cast<size_t>(M * N), 0.0f);
  const auto pb = sgemm_avx2_pack_b(false, K, N, B.data(), N);
  GemmTileHooks hooks;
  hooks.bias = b.data();
  hooks.relu = true;
  bool ok = both_equal(c0, [&](float* C) { host_sgemm(false, false, M, N, K, A.data(), K, B.data(), N, C, N); });
  ok = both_equal(c0, [&](float* C) { host_sgemm_packed(false, M, N, K, A.data(), K, *pb, C, N, 0.0f, &hooks); }) && ok;
  if (!CHECK(ok)) std::printf("  threaded %ldx%ldx%ld\n", long(M), long(N), long(K));
}
}  // namespace

int main() {
  if (!sgemm_avx512_available()) {
    CHECK(!sgemm_avx512_enabled());
    sgemm_avx512_set_enabled(true);
    CHECK(!sgemm_avx512_enabled());  // never on without the hardware
    std::printf("test_sgemm_avx512: this CPU has no AVX-512F; only the switch was tested\n");
    return check_finish();
  }
  setenv("JXLA_NUM_THREADS", "2", 1);  // before the pool starts: threaded cases run 2-D tiles
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t K : {1, 9, 200})
        for (int64_t M : {1, 5, 6, 7, 13})
          for (int64_t N : {1, 16, 31, 32, 33, 48, 64, 70, 150})
            per_call(ta, tb, M, N, K, (M + N) % 2 ? 1.0f : 0.0f);
  per_call(false, false, 150, 300, 784, 0.0f);  // MC and KC blocks, A packed
  per_call(true, false, 37, 520, 300, 1.0f);
  for (bool ta : {false, true})
    for (int64_t M : {1, 4, 6, 19})
      for (int64_t N : {16, 32, 40, 80, 96, 130})
        for (int64_t K : {8, 257})
          for (int flags = 0; flags < 4; ++flags) tiles(ta, M, N, K, flags & 1, flags & 2);
  threaded(256, 1024, 784);
  threaded(33, 200, 70);
  return check_finish();
}
