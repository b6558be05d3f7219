// fusion_util.h - helpers shared by the pass and fusion tests: random parameter buffers,
// comparing the fused executable with the reference interpreter.
#pragma once
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include "backends/host/elem.h"
#include "backends/host/fused_exec.h"
#include "backends/host/reference.h"
#include "ir/graph.h"
#include "passes/pass.h"
#include "runtime/device.h"
#include "tests/check.h"

namespace jxla_test {
using namespace jxla;

inline std::vector<BufferRef> random_params(const Graph& g, uint32_t seed, double lo = -2, double hi = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<BufferRef> ps;
  for (auto& p : g.params) {
    BufferRef b = alloc_buffer(p->dtype, p->shape, host_device());
    for (int64_t i = 0; i < b->numel(); ++i) {
      if (p->dtype == DType::Bool) seti(*b, i, u(rng) > 0);
      else if (is_int(p->dtype)) seti(*b, i, static_cast<int64_t>(u(rng) * 3));
      else setf(*b, i, u(rng));
    }
    ps.push_back(b);
  }
  return ps;
}

// Max over outputs of |fused - ref| / (atol + rtol * |ref|) (<= 1 passes); NaN must match NaN.
inline double compare(const std::vector<BufferRef>& a, const std::vector<BufferRef>& b, double atol, double rtol) {
  double worst = 0;
  if (a.size() != b.size()) return 1e30;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k]->shape != b[k]->shape || a[k]->dtype != b[k]->dtype) return 1e30;
    for (int64_t i = 0; i < a[k]->numel(); ++i) {
      double x = getf(*a[k], i), y = getf(*b[k], i);
      if (std::isnan(x) || std::isnan(y)) { if (std::isnan(x) != std::isnan(y)) return 1e30; continue; }
      if (std::isinf(x) || std::isinf(y)) { if (x != y) return 1e30; continue; }
      double r = std::fabs(x - y) / (atol + rtol * std::fabs(y));
      if (r > worst && std::getenv("JXLA_TEST_VERBOSE")) std::fprintf(stderr, "out %zu [%lld]: %.9g vs ref %.9g\n", k, static_cast<long long>(i), x, y);
      worst = std::max(worst, r);
    }
  }
  return worst;
}

// Compiles g with the fusion compiler and returns (executable, its result on params).
inline std::shared_ptr<Executable> compile(const Graph& g) { return compile_host_fused(g, host_device()); }
}  // namespace jxla_test
