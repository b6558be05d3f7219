// c_api_util.h - helpers shared by the tests that drive the engine through the C ABI
// (test_donation, test_step_update, test_function_host, test_function_device, test_trace_target): metric counters, op ids, f32 tensors
// from vectors and their values read back. Every call is CHECKed, so a failing C ABI call
// fails the test at the helper rather than later through a null handle. Also the fused Adam
// update the donation tests drive, in scalar f32 (adam_ref) with its 8 per-step scalars (kAdamS).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "jxla/jxla.h"
#include "tests/check.h"

namespace jxla_test {

inline int64_t counter(const char* name) {
  int64_t v = -1;
  CHECK_EQ(jxla_metrics_counter(name, &v), JXLA_OK);
  return v;
}

inline int32_t op(const char* name) {
  int32_t o = -1;
  CHECK_EQ(jxla_op_lookup(name, &o), JXLA_OK);
  return o;
}

// An f32 host tensor holding v with the given shape (empty shape: a scalar).
inline jxla_tensor_t data(const std::vector<float>& v, std::vector<int64_t> shape) {
  jxla_tensor_t t = nullptr;
  CHECK_EQ(jxla_tensor_from_data(nullptr, JXLA_F32, shape.data(), static_cast<int32_t>(shape.size()), v.data(),
                                 4 * static_cast<int64_t>(v.size()), &t), JXLA_OK);
  return t;
}

// An f32 tensor on device dev (null: the host) holding v with the given shape.
inline jxla_tensor_t data_on(jxla_device_t dev, const std::vector<float>& v, std::vector<int64_t> shape) {
  jxla_tensor_t t = nullptr;
  CHECK_EQ(jxla_tensor_from_data(dev, JXLA_F32, shape.data(), static_cast<int32_t>(shape.size()), v.data(),
                                 4 * static_cast<int64_t>(v.size()), &t), JXLA_OK);
  return t;
}

// The first n f32 values of t (syncing it if it is pending).
inline std::vector<float> read(jxla_tensor_t t, size_t n) {
  std::vector<float> out(n);
  CHECK_EQ(jxla_tensor_read(t, JXLA_F32, out.data(), 4 * static_cast<int64_t>(n)), JXLA_OK);
  return out;
}

// Adam's per-step scalars in the fused kernel's order: b1, 1 - b1, 1 / (1 - b1^t), b2, 1 - b2,
// 1 / (1 - b2^t), eps, lr (test values, chosen so that every factor changes the bits).
constexpr float kAdamS[8] = {0.9f, 0.1f, 1.5f, 0.999f, 0.001f, 2.5f, 1e-8f, 0.01f};

// The update in scalar f32, in Adam.java's operation order (no FMA: the baseline x86-64 target
// of these tests has none to contract into).
inline void adam_ref(std::vector<float>& p, std::vector<float>& m, std::vector<float>& v, const std::vector<float>& g) {
  const float* kS = kAdamS;
  for (size_t i = 0; i < p.size(); ++i) {
    float m2 = m[i] * kS[0] + g[i] * kS[1];
    float v2 = v[i] * kS[3] + (g[i] * g[i]) * kS[4];
    float q = std::sqrt(v2 * kS[5]) + kS[6];
    p[i] = p[i] - ((m2 * kS[2]) / q) * kS[7];
    m[i] = m2;
    v[i] = v2;
  }
}

}  // namespace jxla_test
