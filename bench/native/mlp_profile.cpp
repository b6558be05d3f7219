// mlp_profile.cpp - profiling harness for the host MLP 784-1024-1024-10 (docs/gemm.md, Session 5).
// Not a benchmark of record (those are JMH, bench/dev/jxla/bench): it runs the three layers the
// way the ONNX executable does (host_sgemm_packed over prepacked weights, bias prefill and relu in
// the per-tile hooks) and reports per layer the wall time and the thread CPU time spent in tiles
// (CLOCK_THREAD_CPUTIME_ID: excludes time other processes held the core), so kernel efficiency
// and idle time can be told apart on a shared machine. Tile orders are interleaved call by call
// ("c": column-block order, "r": row-block order) so both see the same machine load; the outputs
// of every call must be bit-identical across orders.
// Build (after a cmake build of the library in target/cmake):
//   OB=target/openblas/org/bytedeco/openblas/linux-x86_64
//   g++ -std=c++17 -O2 -Iinclude -Inative bench/native/mlp_profile.cpp target/cmake/lib/libjxla.a
//       $OB/libopenblas.so.0 -Wl,-rpath,$PWD/$OB -lpthread -o /tmp/mlp_profile   (one line)
// Run: JXLA_NUM_THREADS=2 /tmp/mlp_profile 256 100 c r   (batch, calls per order, orders...)
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
    std::fprintf(stderr, "usage: mlp_profile BATCH CALLS ORDER...  (ORDER: c or r)\n");
    return 2;
  }
  const int64_t M = std::atoll(argv[1]);
  const int calls = std::max(1, std::atoi(argv[2]));
  std::vector<Order> orders;
  for (int i = 3; i < argc; ++i) orders.push_back(Order{argv[i][0] == 'c', argv[i], {}, {}, {}});
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
  const float* A[3] = {x.data(), h1.data(), h2.data()};
  std::atomic<int64_t> tile_cpu[3];
  const int warm = 10;
  for (int it = 0; it < (calls + warm) * static_cast<int>(orders.size()); ++it) {
    Order& o = orders[static_cast<size_t>(it) % orders.size()];
    host_sgemm_grid_set_column_order(o.col);
    int64_t lay[3];
    const int64_t t0 = wall_ns();
    for (int l = 0; l < 3; ++l) {
      const int64_t N = dims[l + 1];
      float* c = C[l];
      const float* b = bias[l].data();
      const bool relu = l < 2;
      tile_cpu[l] = 0;
      const GemmTileFn before = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
        tl_tile_start = cpu_ns();
        for (int64_t r = i0; r < i0 + m; ++r) std::memcpy(c + r * N + j0, b + j0, static_cast<size_t>(n) * 4);
      };
      const GemmTileFn after = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
        if (relu)
          for (int64_t r = i0; r < i0 + m; ++r)
            for (int64_t j = j0; j < j0 + n; ++j) c[r * N + j] = std::max(c[r * N + j], 0.0f);
        tile_cpu[l] += cpu_ns() - tl_tile_start;
      };
      const GemmTileHooks hooks{&before, &after};
      const int64_t s = wall_ns();
      host_sgemm_packed(false, M, N, dims[l], A[l], dims[l], *packed[l], c, N, 1.0f, &hooks);
      lay[l] = wall_ns() - s;
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
    for (int l = 0; l < 3; ++l)
      std::printf(" L%d wall %.0f tile-cpu %.0f (%.0f GFLOP/s per busy core) |", l, median(o.wall[l]), median(o.cpu[l]),
                  flops[l] * static_cast<double>(M) / median(o.cpu[l]) / 1e3);
    std::printf("\n");
  }
  return 0;
}
