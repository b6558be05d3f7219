// test_gemm_grid_b.cpp - the 2-D tile grid for GEMMs whose op(B) is packed per call
// (gemm_grid.cpp: host_sgemm_grid_b_tiles, host_sgemm_hooked; sgemm_avx2_pack_b_cols).
// Claims: (1) bit-identical to one untiled sgemm_avx2 call and to the 1-D tiles (grid off) for
// every transpose combination, beta 0/1 and edge shapes (M, N, K not multiples of 6/16, M = 2,
// N = 2, K = 1, K across the 256-deep blocks), with A and B packed once and shared, or packed
// privately per tile (the path a tile takes when another thread is still packing its block);
// also checked against a double reference within the f32 bound of docs/gemm.md, so equal bits
// cannot hide a shared error. (2) hooks cover C exactly once, disjointly, and a bias prefill +
// relu in the hooks equal the serial version bit for bit. (3) the rule picks the grid for the
// shapes docs/gemm-sessions-4-5.md "Session 5" measured as faster and keeps the 1-D path for the others.
// (4) end to end: relu(x W + b) compiled with W a traced input (not prepacked) runs the grid
// (counter) and equals grid off / tile epilogue off bit for bit, and the double reference.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>
#include "backends/host/fused_kernel.h"
#include "backends/host/gemm.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/thread_pool.h"
#include "jxla/jxla.h"
#include "tests/check.h"
#include "tests/float_util.h"

using namespace jxla;

namespace {
std::mt19937 rng(23);
std::vector<float> randn(size_t n) { return jxla_test::randn(rng, n); }
using jxla_test::same_bits;
using jxla_test::within_gemm_bound;

void grid_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta, bool check_ref) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), C0 = randn(static_cast<size_t>(M * N));
  std::vector<float> ref = C0;
  sgemm_avx2(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, ref.data(), N, beta);  // one untiled call
  host_sgemm_grid_b_force(true);
  CHECK(host_sgemm_grid_b_tiles(ta, M, N, K, nullptr, nullptr) > 0);
  for (int mode = 0; mode < 3; ++mode) {  // shared A and B, private A and B per tile, 1-D tiles
    host_sgemm_grid_force_private_a(mode == 1);
    host_sgemm_grid_set_enabled(mode != 2);
    const int64_t runs = host_sgemm_grid_b_runs();
    std::vector<float> got = C0;
    host_sgemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, got.data(), N, beta);
    CHECK_EQ(host_sgemm_grid_b_runs() - runs, mode != 2 ? 1 : 0);  // the path under test ran
    if (!CHECK(same_bits(ref, got)))
      std::printf("  ta=%d tb=%d M=%ld N=%ld K=%ld beta=%g mode=%d\n", ta, tb, (long)M, (long)N, (long)K, beta, mode);
  }
  host_sgemm_grid_force_private_a(false);
  host_sgemm_grid_set_enabled(true);
  host_sgemm_grid_b_force(false);
  if (check_ref && !CHECK(within_gemm_bound(ta, tb, M, N, K, A, B, C0, beta, ref)))
    std::printf("  bound: ta=%d tb=%d M=%ld N=%ld K=%ld\n", ta, tb, (long)M, (long)N, (long)K);
}

// hooks: coverage exactly once; bias prefill (beta = 1) + relu in the tiles == serial
void hooks_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), bias = randn(static_cast<size_t>(N));
  std::vector<float> serial(static_cast<size_t>(M * N)), tiled(serial.size(), NAN);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) serial[i * N + j] = bias[j];
  host_sgemm_grid_set_enabled(false);
  host_sgemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, serial.data(), N, 1.0f);
  for (float& v : serial) v = std::max(v, 0.0f);
  host_sgemm_grid_set_enabled(true);
  std::vector<std::atomic<int>> seen_before(static_cast<size_t>(M * N)), seen_after(static_cast<size_t>(M * N));
  const GemmTileFn before = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
    for (int64_t i = i0; i < i0 + m; ++i)
      for (int64_t j = j0; j < j0 + n; ++j) {
        tiled[i * N + j] = bias[j];
        seen_before[i * N + j].fetch_add(1);
      }
  };
  const GemmTileFn after = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
    for (int64_t i = i0; i < i0 + m; ++i)
      for (int64_t j = j0; j < j0 + n; ++j) {
        tiled[i * N + j] = std::max(tiled[i * N + j], 0.0f);
        seen_after[i * N + j].fetch_add(1);
      }
  };
  GemmTileHooks hooks{&before, &after};
  const int64_t runs = host_sgemm_grid_b_runs();
  host_sgemm_hooked(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, tiled.data(), N, 1.0f, &hooks);
  CHECK_EQ(host_sgemm_grid_b_runs() - runs, 1);
  bool once = true;
  for (size_t i = 0; i < serial.size(); ++i) once = once && seen_before[i].load() == 1 && seen_after[i].load() == 1;
  CHECK(once);
  if (!CHECK(same_bits(serial, tiled))) std::printf("  hooks: ta=%d tb=%d M=%ld N=%ld K=%ld\n", ta, tb, (long)M, (long)N, (long)K);
}

// ---- end to end through the C ABI: relu(x W + b) with W a traced input ----
jxla_tensor_t f32(const std::vector<float>& v, std::vector<int64_t> shape) {
  jxla_tensor_t t = nullptr;
  CHECK_EQ(jxla_tensor_from_data(nullptr, JXLA_F32, shape.data(), static_cast<int32_t>(shape.size()), v.data(),
                                 static_cast<int64_t>(v.size() * 4), &t), 0);
  return t;
}
int32_t op(const char* n) {
  int32_t o = -1;
  jxla_op_lookup(n, &o);
  return o;
}

// relu(x @ W^T + b) as nn.Linear computes it (W [N, K]: tb), x and W function inputs
void end_to_end(int64_t M, int64_t K, int64_t N) {
  auto xv = randn(static_cast<size_t>(M * K)), wv = randn(static_cast<size_t>(N * K)), bv = randn(static_cast<size_t>(N));
  jxla_tensor_t x = f32(std::vector<float>(xv.size(), 0.0f), {M, K}), w = f32(std::vector<float>(wv.size(), 0.0f), {N, K});
  jxla_tensor_t b = f32(bv, {N}), in[2] = {x, w}, d = nullptr, s = nullptr, y = nullptr;
  CHECK_EQ(jxla_tensor_op(op("dot_general"), in, 2, "lhs_contract=[1], rhs_contract=[1]", nullptr, &d), 0);
  CHECK_EQ(jxla_tensor_binary(op("add"), d, b, &s), 0);
  CHECK_EQ(jxla_tensor_unary(op("relu"), s, &y), 0);
  jxla_function_t f = nullptr;
  CHECK_EQ(jxla_function_create(in, 2, &y, 1, &f), 0);
  auto call = [&] {
    jxla_tensor_t args[2] = {f32(xv, {M, K}), f32(wv, {N, K})}, out = nullptr;
    CHECK_EQ(jxla_function_call(f, args, 2, &out), 0);
    std::vector<float> r(static_cast<size_t>(M * N));
    CHECK_EQ(jxla_tensor_read(out, JXLA_F32, r.data(), static_cast<int64_t>(r.size() * 4)), 0);
    for (jxla_tensor_t t : args) jxla_tensor_free(t);
    jxla_tensor_free(out);
    return r;
  };
  const int64_t runs = host_sgemm_grid_b_runs();
  const auto grid = call();
  CHECK(host_sgemm_grid_b_runs() > runs);  // the per-call packed 2-D grid ran
  for (int cfg = 0; cfg < 2; ++cfg) {
    host_sgemm_grid_set_enabled(cfg != 0);
    tile_epilogue_set_enabled(cfg != 1);
    if (!CHECK(same_bits(grid, call()))) std::printf("  e2e M=%ld K=%ld N=%ld cfg=%d\n", (long)M, (long)K, (long)N, cfg);
  }
  host_sgemm_grid_set_enabled(true);
  tile_epilogue_set_enabled(true);
  const double g = jxla_test::gemm_gamma(K);  // relu is 1-Lipschitz: the bound of x W^T + b carries over
  bool ok = true;
  for (int64_t i = 0; i < M && ok; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = bv[j], mag = std::fabs(acc);
      for (int64_t k = 0; k < K; ++k) {
        double p = static_cast<double>(xv[i * K + k]) * wv[j * K + k];
        acc += p;
        mag += std::fabs(p);
      }
      if (std::fabs(grid[i * N + j] - std::max(acc, 0.0)) > g * mag) { ok = false; break; }
    }
  CHECK(ok);
  for (jxla_tensor_t t : {x, w, b, d, s, y}) jxla_tensor_free(t);
  jxla_function_free(f);
}
}  // namespace

int main() {
  setenv("JXLA_NUM_THREADS", "3", 1);  // before the pool starts: 3 threads even on a 2-core machine
  CHECK_EQ(host_num_threads(), 3);
  // (3) the rule (docs/gemm-sessions-4-5.md "Session 5")
  int64_t mb = 0, nb = 0;
  CHECK_EQ(host_sgemm_grid_b_tiles(false, 256, 1024, 784, &mb, &nb), 24);  // FusionBench.mlp layer 1: 3 x 8
  CHECK_EQ(mb, 90);
  CHECK_EQ(nb, 128);
  CHECK(host_sgemm_grid_b_tiles(false, 256, 10, 1024, &mb, &nb) > 0);  // narrow N: A in place
  CHECK(host_sgemm_grid_b_tiles(true, 256, 784, 64, &mb, &nb) > 0);    // dW = dY^T X
  CHECK(host_sgemm_grid_b_tiles(true, 128, 256, 64, &mb, &nb) >= 6);   // small: finer tiles, >= 2 per thread
  CHECK_EQ(host_sgemm_grid_b_tiles(false, 64, 256, 784, &mb, &nb), 0);   // one row block: 1-D path
  CHECK_EQ(host_sgemm_grid_b_tiles(false, 256, 256, 784, &mb, &nb), 0);  // few columns, A stored M x K
  CHECK_EQ(host_sgemm_grid_b_tiles(true, 20, 20, 20, &mb, &nb), 0);      // too little work
  host_sgemm_grid_set_enabled(false);
  CHECK_EQ(host_sgemm_grid_b_tiles(false, 256, 1024, 784, &mb, &nb), 0);  // JXLA_GEMM_GRID=0
  host_sgemm_grid_set_enabled(true);
  // (1) bits, all four transpose combinations over edge shapes
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    for (int64_t M : {2, 7, 13, 97, 200})
      for (int64_t N : {2, 17, 33, 130})
        for (int64_t K : {1, 5, 19}) grid_case(ta, tb, M, N, K, (M + N + K) % 2 ? 1.0f : 0.0f, M <= 97);
    grid_case(ta, tb, 193, 301, 257, 0.0f, true);   // K across two blocks, N wider than 2 tiles
    grid_case(ta, tb, 101, 515, 520, 1.0f, false);  // 3 K blocks, many column tiles, beta 1
    grid_case(ta, tb, 256, 10, 300, 0.0f, true);    // narrow N: A read in place unless ta
  }
  grid_case(false, false, 256, 1024, 784, 0.0f, false);  // the MLP's first layer, grid by the rule
  // (2) hooks
  hooks_case(false, false, 256, 1024, 784);
  hooks_case(true, false, 256, 784, 64);
  hooks_case(false, true, 200, 10, 1024);
  // (4) end to end
  end_to_end(256, 784, 1024);  // x W^T + b with tb: the grid by the rule (3 x 8 tiles)
  end_to_end(300, 1000, 10);   // narrow N: A in place
  return check_finish();
}
