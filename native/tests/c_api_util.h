// c_api_util.h - helpers shared by the tests that drive the engine through the C ABI
// (test_donation, test_step_update, test_lazy_c_api): metric counters, op ids, f32 tensors
// from vectors and their values read back. Every call is CHECKed, so a failing C ABI call
// fails the test at the helper rather than later through a null handle.
#pragma once
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

// The first n f32 values of t (syncing it if it is pending).
inline std::vector<float> read(jxla_tensor_t t, size_t n) {
  std::vector<float> out(n);
  CHECK_EQ(jxla_tensor_read(t, JXLA_F32, out.data(), 4 * static_cast<int64_t>(n)), JXLA_OK);
  return out;
}

}  // namespace jxla_test
