// test_tile_epilogue.cpp - dot kernels over prepacked weights run the bias prefill and the
// element-wise epilogue inside each GEMM tile (fused_kernel.h tile_epilogue_enabled, gemm.h
// GemmTileHooks). Claim: the same bits as the serial prefill + epilogue passes (tile epilogue
// off), as the 1-D tiles (grid off) and as the unpacked path (prepack off), with the JIT on and
// off, for relu(x W + b) (cheap epilogue), tanh(x W + b) (library-call epilogue) and x W + b
// (no epilogue: the fold is the root); shapes where tile rows are not a multiple of the JIT step
// (interpreter tails inside tiles) and where C is narrow. relu(x W + b) is also checked against a
// double reference within the f32 GEMM bound (docs/gemm.md), so equal bits cannot hide a shared
// error. prepack_uses() proves the packed (tiled) path actually ran.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>
#include "backends/host/fused_jit.h"
#include "backends/host/fused_kernel.h"
#include "backends/host/gemm.h"
#include "backends/host/prepack.h"
#include "jxla/jxla.h"
#include "tests/check.h"
#include "tests/float_util.h"

using namespace jxla;

namespace {
std::mt19937 rng(5);
std::vector<float> randn(size_t n) { return jxla_test::randn(rng, n); }
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

enum class Epi { Relu, Tanh, None };

// epi(x @ W + b), W [K, N] and b [N] captured constants
jxla_function_t layer(int64_t M, int64_t K, int64_t N, const std::vector<float>& w, const std::vector<float>& b, Epi e) {
  jxla_tensor_t x = f32(std::vector<float>(static_cast<size_t>(M * K), 0.0f), {M, K});
  jxla_tensor_t wt = f32(w, {K, N}), bt = f32(b, {N}), in[2] = {x, wt}, d = nullptr, s = nullptr, y = nullptr;
  CHECK_EQ(jxla_tensor_op(op("dot_general"), in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &d), 0);
  CHECK_EQ(jxla_tensor_binary(op("add"), d, bt, &s), 0);
  if (e == Epi::None) y = s;
  else CHECK_EQ(jxla_tensor_unary(op(e == Epi::Relu ? "relu" : "tanh"), s, &y), 0);
  jxla_function_t f = nullptr;
  CHECK_EQ(jxla_function_create(&x, 1, &y, 1, &f), 0);
  for (jxla_tensor_t t : {x, wt, bt, d, s}) jxla_tensor_free(t);
  if (y != s) jxla_tensor_free(y);
  return f;
}

std::vector<float> call(jxla_function_t f, const std::vector<float>& xv, int64_t M, int64_t K, int64_t N) {
  jxla_tensor_t x = f32(xv, {M, K}), out = nullptr;
  CHECK_EQ(jxla_function_call(f, &x, 1, &out), 0);
  std::vector<float> r(static_cast<size_t>(M * N));
  CHECK_EQ(jxla_tensor_read(out, JXLA_F32, r.data(), static_cast<int64_t>(r.size() * 4)), 0);
  jxla_tensor_free(x);
  jxla_tensor_free(out);
  return r;
}

using jxla_test::same_bits;

void run_case(int64_t M, int64_t K, int64_t N, Epi e) {
  auto w = randn(static_cast<size_t>(K * N)), b = randn(static_cast<size_t>(N)), xv = randn(static_cast<size_t>(M * K));
  jxla_function_t f = layer(M, K, N, w, b, e);
  const int64_t packs = prepack_uses();
  const auto tiled = call(f, xv, M, K, N);
  CHECK(prepack_uses() > packs);  // the packed (2-D tiled) path ran
  for (int cfg = 0; cfg < 4; ++cfg) {
    if (M == 1 && cfg == 2) continue;  // unpacked batch 1 is OpenBLAS's GEMV: other summation order
    tile_epilogue_set_enabled(cfg != 0);
    host_sgemm_grid_set_enabled(cfg != 1);
    prepack_set_enabled(cfg != 2);
    jit_set_enabled(cfg != 3);
    const auto other = call(f, xv, M, K, N);
    if (!CHECK(same_bits(tiled, other))) std::printf("  M=%ld K=%ld N=%ld epi=%d cfg=%d\n", (long)M, (long)K, (long)N, (int)e, cfg);
  }
  tile_epilogue_set_enabled(true);
  host_sgemm_grid_set_enabled(true);
  prepack_set_enabled(true);
  jit_set_enabled(true);
  if (e == Epi::Relu) {  // double reference: |c - exact| <= gamma_{K+1} (|b| + sum |x w|) before relu (1-Lipschitz)
    const double g = jxla_test::gemm_gamma(K);
    bool ok = true;
    for (int64_t i = 0; i < M && ok; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = b[j], mag = std::fabs(s);
        for (int64_t k = 0; k < K; ++k) {
          double p = static_cast<double>(xv[i * K + k]) * w[k * N + j];
          s += p;
          mag += std::fabs(p);
        }
        if (std::fabs(tiled[i * N + j] - std::max(s, 0.0)) > g * mag) { ok = false; break; }
      }
    CHECK(ok);
  }
  jxla_function_free(f);
}
}  // namespace

int main() {
  setenv("JXLA_NUM_THREADS", "3", 1);
  jit_set_min_elements(0);  // every epilogue kernel is JIT-compiled (the threshold is tested elsewhere)
  for (Epi e : {Epi::Relu, Epi::Tanh, Epi::None}) {
    run_case(97, 257, 300, e);   // tiles of 54/43 rows x 128/128/44 columns: JIT tails inside tiles
    run_case(256, 64, 1024, e);  // the MLP's grid shape (3 x 8 tiles)
    run_case(300, 1000, 10, e);  // narrow N: A read in place, 4 row tiles
    run_case(9, 20, 30, e);      // too small to tile: hooks run once on the whole C
    run_case(1, 784, 1024, e);   // batch 1: column tiles of the row kernel
  }
  return check_finish();
}
