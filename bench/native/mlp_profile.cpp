// mlp_profile.cpp - profiling harness for the host MLP 784-1024-1024-10 (docs/gemm-sessions-4-5.md, Session 5).
// Not a benchmark of record (those are JMH, bench/dev/jxla/bench): it runs the three layers the
// way the ONNX executable does (host_sgemm_packed over prepacked weights, bias prefill and relu in
// the per-tile hooks) and reports per layer the wall time and the thread CPU time spent in tiles
// (CLOCK_THREAD_CPUTIME_ID: excludes time other processes held the core), so kernel efficiency
// and idle time can be told apart on a shared machine. Tile orders are interleaved call by call
// ("c": column-block order, "r": row-block order, "x": column order with the three layers as one
// chained region, host_sgemm_packed_chain; per-layer walls are not separable there and print 0;
// "y": the chain in row-block order; "e": the whole compiled function through the C ABI, as Java
// calls it: input tensor from the host array, jxla_function_call, read the output, free both)
// so all see the same machine load; the outputs of every call must be bit-identical across orders.
// Build (after a cmake build of the library in target/cmake):
//   OB=target/openblas/org/bytedeco/openblas/linux-x86_64
//   g++ -std=c++17 -O2 -Iinclude -Inative bench/native/mlp_profile.cpp target/cmake/lib/libjxla.a
//       $OB/libopenblas.so.0 -Wl,-rpath,$PWD/$OB -lpthread -o /tmp/mlp_profile   (one line)
// Run: JXLA_NUM_THREADS=2 /tmp/mlp_profile 256 100 x c r   (batch, calls per order, orders...)
// An order may carry a tile shape, c:ROWS:COLS (host_sgemm_grid_set_tile), and "h" anywhere in
// it selects the prefill/relu hooks with per-tile CPU times (e.g. ch) instead of the store
// epilogue the executable uses.
#include <time.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "backends/host/gemm.h"
#include "backends/host/sgemm_avx2.h"
#include "jxla/jxla.h"

using namespace jxla;

namespace {
int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
int64_t cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
thread_local int64_t tl_tile_start;
struct Order {
  bool col;
  bool chain = false;
  bool hooks = false;
  bool exe = false;  // "e": the compiled function (C ABI)
  long rows = 0, cols = 0;  // tile shape override (host_sgemm_grid_set_tile), 0: default
  std::string name;
  std::vector<double> total, wall[3], cpu[3];
};
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: mlp_profile BATCH CALLS ORDER...  (ORDER: c, r or x)\n");
    return 2;
  }
  const int64_t M = std::atoll(argv[1]);
  const int calls = std::max(1, std::atoi(argv[2]));
  std::vector<Order> orders;
  for (int i = 3; i < argc; ++i) {
    Order o;
    o.col = argv[i][0] != 'r' && argv[i][0] != 'y';
    o.chain = argv[i][0] == 'x' || argv[i][0] == 'y';  // y: the chain in row-block order
    o.name = argv[i];
    o.hooks = std::strchr(argv[i], 'h') != nullptr;
    o.exe = argv[i][0] == 'e';
    if (argv[i][0] && argv[i][1] == ':') std::sscanf(argv[i] + 2, "%ld:%ld", &o.rows, &o.cols);
    orders.push_back(o);
  }
  const int64_t dims[4] = {784, 1024, 1024, 10};
  std::mt19937 g(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<std::vector<float>> W(3), bias(3);
  std::vector<std::shared_ptr<const PackedB>> packed(3);
  for (int l = 0; l < 3; ++l) {
    W[l].resize(static_cast<size_t>(dims[l] * dims[l + 1]));
    bias[l].resize(static_cast<size_t>(dims[l + 1]));
    for (auto& x : W[l]) x = 0.05f * nd(g);
    for (auto& x : bias[l]) x = 0.1f * nd(g);
    packed[l] = sgemm_avx2_pack_b(false, dims[l], dims[l + 1], W[l].data(), dims[l + 1]);
  }
  std::vector<float> x(static_cast<size_t>(M * 784)), h1(static_cast<size_t>(M * 1024)), h2(h1.size()),
      y(static_cast<size_t>(M * 10)), first;
  for (auto& v : x) v = nd(g);
  float* C[3] = {h1.data(), h2.data(), y.data()};
  // "e": relu(relu(x W1 + b1) W2 + b2) W3 + b3 traced once through the C ABI, weights captured
  auto tensor = [](const std::vector<float>& v, std::vector<int64_t> shape) {
    jxla_tensor_t t = nullptr;
    if (jxla_tensor_from_data(nullptr, JXLA_F32, shape.data(), static_cast<int32_t>(shape.size()), v.data(),
                              static_cast<int64_t>(v.size() * 4), &t) != 0) std::abort();
    return t;
  };
  auto opid = [](const char* name) {
    int32_t o = -1;
    jxla_op_lookup(name, &o);
    return o;
  };
  jxla_function_t fn = nullptr;
  {
    jxla_tensor_t xt = tensor(x, {M, 784}), h = xt;
    std::vector<jxla_tensor_t> owned{xt};
    for (int l = 0; l < 3; ++l) {
      jxla_tensor_t w = tensor(W[l], {dims[l], dims[l + 1]}), b = tensor(bias[l], {dims[l + 1]}), in[2] = {h, w};
      jxla_tensor_t d = nullptr, s = nullptr, r = nullptr;
      if (jxla_tensor_op(opid("dot_general"), in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &d) != 0 ||
          jxla_tensor_binary(opid("add"), d, b, &s) != 0 || (l < 2 && jxla_tensor_unary(opid("relu"), s, &r) != 0))
        std::abort();
      if (l == 2) r = s;
      for (jxla_tensor_t t : {w, b, d}) owned.push_back(t);
      if (r != s) owned.push_back(s);
      h = r;
    }
    if (jxla_function_create(&xt, 1, &h, 1, &fn) != 0) std::abort();
    for (jxla_tensor_t t : owned) jxla_tensor_free(t);
  }
  const float* A[3] = {x.data(), h1.data(), h2.data()};
  std::atomic<int64_t> tile_cpu[3];
  const int warm = 10;
  for (int it = 0; it < (calls + warm) * static_cast<int>(orders.size()); ++it) {
    Order& o = orders[static_cast<size_t>(it) % orders.size()];
    host_sgemm_grid_set_column_order(o.col);
    host_sgemm_grid_set_tile(o.rows, o.cols);
    int64_t lay[3];
    const int64_t t0 = wall_ns();
    GemmTileFn befores[3], afters[3];
    GemmTileHooks hks[3];
    PackedGemmCall calls[3];
    for (int l = 0; l < 3; ++l) {
      const int64_t N = dims[l + 1];
      float* c = C[l];
      const float* b = bias[l].data();
      const bool relu = l < 2;
      tile_cpu[l] = 0;
      befores[l] = [c, b, N](int64_t i0, int64_t m, int64_t j0, int64_t n) {
        tl_tile_start = cpu_ns();
        for (int64_t r = i0; r < i0 + m; ++r) std::memcpy(c + r * N + j0, b + j0, static_cast<size_t>(n) * 4);
      };
      std::atomic<int64_t>* tc = &tile_cpu[l];
      afters[l] = [tc, c, N, relu](int64_t i0, int64_t m, int64_t j0, int64_t n) {
        if (relu)
          for (int64_t r = i0; r < i0 + m; ++r) {
            float* row = c + r * N;
            for (int64_t j = j0; j < j0 + n; ++j) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
          }
        *tc += cpu_ns() - tl_tile_start;
      };
      // session 6 on: the executable applies bias and relu in the micro-kernel's stores
      // (GemmTileHooks bias/relu, beta 0); "h" runs session 5's prefill/relu hooks instead,
      // which also time each tile's thread CPU (tile-cpu prints 0 otherwise)
      if (o.hooks) hks[l] = GemmTileHooks{&befores[l], &afters[l]};
      else hks[l] = GemmTileHooks{nullptr, nullptr, b, relu};
      PackedGemmCall& pc = calls[l];
      pc.M = M, pc.N = N, pc.K = dims[l], pc.A = A[l], pc.lda = dims[l], pc.B = packed[l].get(), pc.C = c, pc.ldc = N;
      pc.beta = o.hooks ? 1.0f : 0.0f, pc.hooks = &hks[l], pc.a_from_prev = l > 0;
    }
    if (o.exe) {
      jxla_tensor_t in = tensor(x, {M, 784}), out = nullptr;
      if (jxla_function_call(fn, &in, 1, &out) != 0 ||
          jxla_tensor_read(out, JXLA_F32, y.data(), static_cast<int64_t>(y.size() * 4)) != 0) std::abort();
      jxla_tensor_free(in);
      jxla_tensor_free(out);
      lay[0] = lay[1] = lay[2] = 0;
    } else if (o.chain) {
      host_sgemm_packed_chain(calls, 3);
      lay[0] = lay[1] = lay[2] = 0;
    } else {
      for (int l = 0; l < 3; ++l) {
        const PackedGemmCall& pc = calls[l];
        const int64_t s = wall_ns();
        host_sgemm_packed(false, pc.M, pc.N, pc.K, pc.A, pc.lda, *pc.B, pc.C, pc.ldc, pc.beta, pc.hooks);
        lay[l] = wall_ns() - s;
      }
    }
    const double total = static_cast<double>(wall_ns() - t0) / 1e3;
    if (first.empty()) first = y;
    else if (std::memcmp(first.data(), y.data(), y.size() * 4) != 0) {
      std::printf("results differ between calls (order %s)\n", o.name.c_str());
      return 1;
    }
    if (it < warm * static_cast<int>(orders.size())) continue;
    o.total.push_back(total);
    for (int l = 0; l < 3; ++l) {
      o.wall[l].push_back(static_cast<double>(lay[l]) / 1e3);
      o.cpu[l].push_back(static_cast<double>(tile_cpu[l].load()) / 1e3);
    }
  }
  const double flops[3] = {2.0 * 784 * 1024, 2.0 * 1024 * 1024, 2.0 * 1024 * 10};
  std::printf("batch %ld, %d calls per order, us per call (medians)\n", static_cast<long>(M), calls);
  for (auto& o : orders) {
    std::printf("%s: total min %.0f median %.0f |", o.name.c_str(), *std::min_element(o.total.begin(), o.total.end()),
                median(o.total));
    for (int l = 0; l < 3; ++l) {
      if (!o.hooks) {  // no per-tile CPU times: the wall rate of the layer
        const double w = median(o.wall[l]);
        std::printf(" L%d wall %.0f (%.0f GFLOP/s) |", l, w, w > 0 ? flops[l] * static_cast<double>(M) / w / 1e3 : 0.0);
        continue;
      }
      std::printf(" L%d wall %.0f tile-cpu %.0f (%.0f GFLOP/s per busy core) |", l, median(o.wall[l]), median(o.cpu[l]),
                  flops[l] * static_cast<double>(M) / median(o.cpu[l]) / 1e3);
    }
    std::printf("\n");
  }
  return 0;
}
