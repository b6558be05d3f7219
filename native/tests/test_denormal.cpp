// test_denormal.cpp - flush-to-zero in host executables (backends/host/denormal.h): off by
// default, a run produces the IEEE subnormals the reference interpreter produces; switched on,
// the same executable flushes subnormal results (FTZ) and reads subnormal operands as zero (DAZ)
// on the calling thread and on every pool worker, and restores the caller's MXCSR afterwards. 1 Mi elements so the loop runs on the pool (workers take the mode of
// each region from the caller, also when it changes between runs).
#include <immintrin.h>
#include <cmath>
#include "backends/host/denormal.h"
#include "tests/fusion_util.h"

using namespace jxla_test;

static const char* kGraph =
    "%x = parameter() {dtype=f32, index=0, shape=[1048576]} : f32[1048576]\n"
    "%d = parameter() {dtype=f32, index=1, shape=[1048576]} : f32[1048576]\n"
    "%sq = mul(%x, %x) : f32[1048576]\n"   // 1e-20^2 = 1e-40: a subnormal result
    "%dd = add(%d, %d) : f32[1048576]\n"   // a subnormal operand: 2e-40 under IEEE
    "return %sq, %dd\n";

namespace {
// counts elements equal to v (bitwise) in b
int64_t count_eq(const Buffer& b, float v) {
  int64_t n = 0;
  for (int64_t i = 0; i < b.numel(); ++i) n += std::memcmp(&b.as<float>()[i], &v, 4) == 0;
  return n;
}
}  // namespace

int main() {
  Graph g = parse_graph(kGraph);
  const int64_t n = 1048576;
  auto x = alloc_buffer(DType::F32, {n}, host_device());
  auto d = alloc_buffer(DType::F32, {n}, host_device());
  for (int64_t i = 0; i < n; ++i) {
    x->as<float>()[i] = 1e-20f;
    d->as<float>()[i] = 1e-40f;
  }
  CHECK(std::fpclassify(1e-40f) == FP_SUBNORMAL);
  const auto ref = ref_run(g, {x, d}, host_device());
  CHECK(std::fpclassify(ref[0]->as<float>()[0]) == FP_SUBNORMAL);
  CHECK(std::fpclassify(ref[1]->as<float>()[0]) == FP_SUBNORMAL);
  auto exe = compile(g);
  const unsigned before = _mm_getcsr();
  CHECK(!host_ftz_enabled());  // the default
  for (int round = 0; round < 2; ++round) {
    host_ftz_set_enabled(true);
    auto r = exe->run({x, d});
    CHECK_EQ(_mm_getcsr(), before);  // the caller's mode is restored
    CHECK_EQ(count_eq(*r[0], 0.0f), n);
    CHECK_EQ(count_eq(*r[1], 0.0f), n);
    host_ftz_set_enabled(false);
    r = exe->run({x, d});
    CHECK_EQ(_mm_getcsr(), before);
    CHECK_EQ(count_eq(*r[0], ref[0]->as<float>()[0]), n);
    CHECK_EQ(count_eq(*r[1], ref[1]->as<float>()[0]), n);
  }
  host_ftz_set_enabled(false);
  return check_finish();
}
