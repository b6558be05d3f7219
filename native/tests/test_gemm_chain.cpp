// test_gemm_chain.cpp - host_sgemm_packed_chain (gemm.h, gemm_chain.cpp) and the executable's dot
// chains (fused_kernel.h run_fused_dot_chain). Claims: (1) a chain of GEMMs over prepacked
// weights, each reading the previous one's output rows (bias prefill + relu in the tile hooks),
// gives the same bits as host_sgemm_packed called layer by layer, in every grid mode (column
// order, row order, private A copies), for M that is and is not a multiple of the tile rows;
// and each layer is within the f32 GEMM bound of a double reference computed from the chain's
// own previous layer (so equal bits cannot hide a shared error). A last layer too small for a
// grid runs as one task after all rows of the previous layer. The bias and relu in the micro-
// kernel's stores (GemmTileHooks bias/relu, sgemm_avx2.h TileEpilogue) give the bits of the
// prefill and relu hooks, chained or not, with
// edge columns (N not a multiple of 16) and short edge panels (M % 6 != 0). (2) the chain really ran as one
// region (host_sgemm_chain_runs), and falls back (same bits) when M differs between layers.
// (3) a compiled 3-layer MLP (captured weights) runs its dot kernels as a chain and gives the
// same bits with the chain off (JXLA_GEMM_CHAIN=0 path).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "backends/host/fused_kernel.h"
#include "backends/host/gemm.h"
#include "backends/host/prepack.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/thread_pool.h"
#include "jxla/jxla.h"
#include "tests/check.h"
#include "tests/float_util.h"

using namespace jxla;

namespace {
std::mt19937 rng(11);

struct Net {
  std::vector<int64_t> dims;  // d0 -> d1 -> ... ; layer l: K = dims[l], N = dims[l + 1]
  std::vector<std::vector<float>> W, b;
  std::vector<std::shared_ptr<const PackedB>> P;
};

Net make_net(std::vector<int64_t> dims) {
  Net n;
  n.dims = dims;
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    n.W.push_back(jxla_test::randn(rng, static_cast<size_t>(dims[l] * dims[l + 1])));
    for (auto& x : n.W.back()) x *= 0.1f;
    n.b.push_back(jxla_test::randn(rng, static_cast<size_t>(dims[l + 1])));
    n.P.push_back(sgemm_avx2_pack_b(false, dims[l], dims[l + 1], n.W.back().data(), dims[l + 1]));
  }
  return n;
}

// Runs the layers (bias prefill before, relu after every layer but the last) chained or one by
// one; Ms[l] is layer l's row count (all equal for a real chain). Returns every layer's output.
// fold: the bias and relu go in as GemmTileHooks::bias/relu (the micro-kernel's stores) instead of
// the prefill and relu hooks.
std::vector<std::vector<float>> run(const Net& n, const std::vector<int64_t>& Ms, const std::vector<float>& x, bool chain,
                                    bool fold = false) {
  const size_t L = n.W.size();
  std::vector<std::vector<float>> out(L);
  for (size_t l = 0; l < L; ++l) out[l].assign(static_cast<size_t>(Ms[l] * n.dims[l + 1]), -7.0f);
  std::vector<GemmTileFn> before(L), after(L);
  std::vector<GemmTileHooks> hooks(L);
  std::vector<PackedGemmCall> calls(L);
  for (size_t l = 0; l < L; ++l) {
    const int64_t N = n.dims[l + 1];
    float* C = out[l].data();
    const float* bias = n.b[l].data();
    before[l] = [=](int64_t i0, int64_t m, int64_t j0, int64_t w) {
      for (int64_t r = i0; r < i0 + m; ++r) std::memcpy(C + r * N + j0, bias + j0, static_cast<size_t>(w) * 4);
    };
    after[l] = [=](int64_t i0, int64_t m, int64_t j0, int64_t w) {
      for (int64_t r = i0; r < i0 + m; ++r)
        for (int64_t j = j0; j < j0 + w; ++j) {  // the fused interpreter's relu (NaN stays, -0 -> +0)
          const float v = C[r * N + j];
          C[r * N + j] = v > 0.0f ? v : (v != v ? v : 0.0f);
        }
    };
    hooks[l] = GemmTileHooks{fold ? nullptr : &before[l], !fold && l + 1 < L ? &after[l] : nullptr};
    hooks[l].bias = fold ? bias : nullptr;
    hooks[l].relu = fold && l + 1 < L;
    PackedGemmCall& c = calls[l];
    c.M = Ms[l], c.N = N, c.K = n.dims[l];
    c.A = l == 0 ? x.data() : out[l - 1].data();
    c.lda = n.dims[l];
    c.B = n.P[l].get();
    c.C = C, c.ldc = N, c.beta = fold ? 0.0f : 1.0f;
    c.hooks = &hooks[l];
    c.a_from_prev = l > 0;
  }
  if (chain) {
    host_sgemm_packed_chain(calls.data(), static_cast<int64_t>(L));
  } else {
    for (const PackedGemmCall& c : calls)
      host_sgemm_packed(c.ta, c.M, c.N, c.K, c.A, c.lda, *c.B, c.C, c.ldc, c.beta, c.hooks);
  }
  return out;
}

// layer l of the chain against a double reference from the chain's own input to that layer:
// |relu(c) - relu(exact)| <= |c - exact| <= gamma_{K+1} (|bias| + sum |a w|)
bool within_bound(const Net& n, size_t l, int64_t M, const std::vector<float>& a, const std::vector<float>& c) {
  const int64_t K = n.dims[l], N = n.dims[l + 1];
  const double g = jxla_test::gemm_gamma(K);
  const bool relu = l + 2 < n.dims.size();
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = n.b[l][j], mag = std::fabs(s);
      for (int64_t k = 0; k < K; ++k) {
        const double p = static_cast<double>(a[i * K + k]) * n.W[l][k * N + j];
        s += p;
        mag += std::fabs(p);
      }
      if (relu) s = std::max(s, 0.0);
      if (std::fabs(c[i * N + j] - s) > g * mag) return false;
    }
  return true;
}

void chain_case(const std::vector<int64_t>& dims, int64_t M) {
  Net n = make_net(dims);
  const auto x = jxla_test::randn(rng, static_cast<size_t>(M * dims[0]));
  const std::vector<int64_t> Ms(dims.size() - 1, M);
  for (int mode = 0; mode < 3; ++mode) {  // column order, row order, private A copies
    host_sgemm_grid_set_column_order(mode != 1);
    host_sgemm_grid_force_private_a(mode == 2);
    const auto ref = run(n, Ms, x, false);
    const int64_t runs = host_sgemm_chain_runs();
    const auto got = run(n, Ms, x, true);
    CHECK(host_sgemm_chain_runs() == runs + 1);  // one region for the whole chain
    for (size_t l = 0; l < ref.size(); ++l) CHECK(jxla_test::same_bits(ref[l], got[l]));
    // the bias and relu in the micro-kernel's stores: the same bits, chained and not
    const auto folded = run(n, Ms, x, true, true), folded_each = run(n, Ms, x, false, true);
    for (size_t l = 0; l < ref.size(); ++l) CHECK(jxla_test::same_bits(ref[l], folded[l]));
    for (size_t l = 0; l < ref.size(); ++l) CHECK(jxla_test::same_bits(ref[l], folded_each[l]));
    if (mode == 0)
      for (size_t l = 0; l < got.size(); ++l) CHECK(within_bound(n, l, M, l == 0 ? x : got[l - 1], got[l]));
  }
  host_sgemm_grid_set_column_order(true);
  host_sgemm_grid_force_private_a(false);
}

// layers of different M cannot share row blocks: one region per GEMM, same bits
void fallback_case() {
  Net n = make_net({300, 256, 200});
  const auto x = jxla_test::randn(rng, static_cast<size_t>(256 * 300));
  const std::vector<int64_t> Ms = {256, 180};  // layer 1 reads the first 180 rows of layer 0
  const auto ref = run(n, Ms, x, false);
  const int64_t runs = host_sgemm_chain_runs();
  const auto got = run(n, Ms, x, true);
  CHECK(host_sgemm_chain_runs() == runs);
  for (size_t l = 0; l < ref.size(); ++l) CHECK(jxla_test::same_bits(ref[l], got[l]));
}

// ---- the executable: relu(relu(x W1 + b1) W2 + b2) W3 + b3 with captured weights ----
jxla_tensor_t f32(const std::vector<float>& v, std::vector<int64_t> shape) {
  jxla_tensor_t t = nullptr;
  CHECK_EQ(jxla_tensor_from_data(nullptr, JXLA_F32, shape.data(), static_cast<int32_t>(shape.size()), v.data(),
                                 static_cast<int64_t>(v.size() * 4), &t), 0);
  return t;
}
int32_t op(const char* name) {
  int32_t o = -1;
  jxla_op_lookup(name, &o);
  return o;
}

void executable_case(int64_t M) {
  Net n = make_net({784, 256, 192, 32});
  jxla_tensor_t x = f32(std::vector<float>(static_cast<size_t>(M * 784), 0.0f), {M, 784});
  std::vector<jxla_tensor_t> owned{x};
  jxla_tensor_t h = x;
  for (size_t l = 0; l < 3; ++l) {
    jxla_tensor_t w = f32(n.W[l], {n.dims[l], n.dims[l + 1]}), b = f32(n.b[l], {n.dims[l + 1]}), in[2] = {h, w};
    jxla_tensor_t d = nullptr, s = nullptr, r = nullptr;
    CHECK_EQ(jxla_tensor_op(op("dot_general"), in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &d), 0);
    CHECK_EQ(jxla_tensor_binary(op("add"), d, b, &s), 0);
    if (l < 2) CHECK_EQ(jxla_tensor_unary(op("relu"), s, &r), 0);
    else r = s;
    for (jxla_tensor_t t : {w, b, d}) owned.push_back(t);
    if (r != s) owned.push_back(s);
    h = r;
  }
  jxla_function_t f = nullptr;
  CHECK_EQ(jxla_function_create(&x, 1, &h, 1, &f), 0);
  for (jxla_tensor_t t : owned) jxla_tensor_free(t);
  const auto xv = jxla_test::randn(rng, static_cast<size_t>(M * 784));
  auto call = [&] {
    jxla_tensor_t in = f32(xv, {M, 784}), out = nullptr;
    CHECK_EQ(jxla_function_call(f, &in, 1, &out), 0);
    std::vector<float> r(static_cast<size_t>(M * 32));
    CHECK_EQ(jxla_tensor_read(out, JXLA_F32, r.data(), static_cast<int64_t>(r.size() * 4)), 0);
    jxla_tensor_free(in);
    jxla_tensor_free(out);
    return r;
  };
  const int64_t runs = host_sgemm_chain_runs();
  const auto chained = call();
  CHECK(host_sgemm_chain_runs() > runs);  // the three dot kernels ran as one region
  host_sgemm_chain_set_enabled(false);
  const int64_t runs_off = host_sgemm_chain_runs();
  const auto plain = call();
  CHECK(host_sgemm_chain_runs() == runs_off);
  host_sgemm_chain_set_enabled(true);
  CHECK(jxla_test::same_bits(chained, plain));
  // and the chained result against a double reference of the whole MLP: each layer's f32 error
  // is within its GEMM bound, so a loose 1e-3 relative check only catches real mistakes
  std::vector<double> a(xv.begin(), xv.end());
  for (size_t l = 0; l < 3; ++l) {
    const int64_t K = n.dims[l], N = n.dims[l + 1];
    std::vector<double> y(static_cast<size_t>(M * N));
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = n.b[l][j];
        for (int64_t k = 0; k < K; ++k) s += a[i * K + k] * n.W[l][k * N + j];
        y[i * N + j] = l < 2 ? std::max(s, 0.0) : s;
      }
    a.swap(y);
  }
  double worst = 0, scale = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(chained[i] - a[i]));
    scale = std::max(scale, std::fabs(a[i]));
  }
  CHECK(worst <= 1e-3 * scale);
  jxla_function_free(f);
}
}  // namespace

int main() {
  if (!sgemm_avx2_available() || host_num_threads() < 2) {
    std::printf("test_gemm_chain: needs AVX2+FMA and >= 2 threads for the chain; checking the fallback only\n");
  }
  if (sgemm_avx2_available() && host_num_threads() >= 2) {
    chain_case({300, 256, 200, 40}, 256);   // 3 row blocks (90, 90, 76); narrow last layer (A in place)
    chain_case({300, 256, 200, 40}, 250);   // M not a multiple of 6
    chain_case({784, 1024, 520, 64}, 200);  // deeper K (several K blocks), N not a multiple of 128
    chain_case({256, 384, 256}, 97);        // two layers, 2 row blocks
    chain_case({300, 256, 200, 8}, 256);    // last layer below the grid's minimum work: one task
    executable_case(256);
  }
  if (sgemm_avx2_available()) fallback_case();
  return check_finish();
}
