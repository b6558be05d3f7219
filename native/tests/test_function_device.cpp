// test_function_device.cpp - compiled functions traced on the host and compiled for an emulated
// TPU (jxla_function_create_on): the graph runs on the TPU (its profile holds the MXU kernel),
// captured host constants are uploaded once and shared by a second function, host and device
// inputs are accepted, inputs on a third device are rejected, and HBM returns to its starting
// level when the functions and outputs are freed.
#include <string>
#include <utility>
#include <vector>
#include "jxla/jxla.h"
#include "tests/c_api_util.h"
#include "tests/check.h"

static jxla_tensor_t f32(std::vector<float> v, std::vector<int64_t> shape) {
  return jxla_test::data_on(nullptr, v, std::move(shape));
}
using jxla_test::counter;
using jxla_test::read;
static std::string profile(jxla_device_t d) {
  std::vector<char> buf(1 << 16);
  int64_t len = 0;
  CHECK_EQ(jxla_device_profile(d, 0, buf.data(), static_cast<int64_t>(buf.size()), &len), 0);
  return std::string(buf.data());
}
static int64_t hbm(jxla_device_t d) {
  int64_t in_use = -1;
  jxla_device_memory(d, &in_use, nullptr, nullptr);
  return in_use;
}

int main() {
  int32_t DOT = -1, ADD = -1;
  jxla_op_lookup("dot_general", &DOT);
  jxla_op_lookup("add", &ADD);
  jxla_device_t tpu = nullptr, v4 = nullptr;
  CHECK_EQ(jxla_device_tpu("v5e", 1, 0, &tpu), 0);
  CHECK_EQ(jxla_device_tpu("v4", 1, 0, &v4), 0);
  int64_t hbm0 = hbm(tpu);
  jxla_metrics_clear();
  // f(x[2,2]) = x @ W + x with W a captured host constant; small integers are exact in bf16, so
  // the DEFAULT (one bf16 pass) MXU result is exact
  jxla_tensor_t x = f32({0, 0, 0, 0}, {2, 2}), w = f32({1, 2, -1, 1}, {2, 2}), xw = nullptr, y = nullptr;
  jxla_tensor_t dot_in[2] = {x, w};
  CHECK_EQ(jxla_tensor_op(DOT, dot_in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &xw), 0);
  CHECK_EQ(jxla_tensor_binary(ADD, xw, x, &y), 0);
  jxla_tensor_t ps[1] = {x}, os[1] = {y};
  jxla_function_t f = nullptr, g = nullptr;
  CHECK_EQ(jxla_function_create_on(ps, 1, os, 1, tpu, &f), 0);
  CHECK_EQ(counter("FunctionConstantUpload"), 1);
  CHECK(hbm(tpu) > hbm0);  // W lives in HBM
  // a second function over the same weight shares the uploaded copy
  CHECK_EQ(jxla_function_create_on(ps, 1, os, 1, tpu, &g), 0);
  CHECK_EQ(counter("FunctionConstantUpload"), 1);
  // NULL device: the trace device (the host), as jxla_function_create
  jxla_function_t h = nullptr;
  CHECK_EQ(jxla_function_create_on(ps, 1, os, 1, nullptr, &h), 0);
  for (jxla_tensor_t t : {x, w, xw, y}) jxla_tensor_free(t);

  // x = [[1,2],[3,-4]]: x@W = [[-1,4],[7,2]], + x = [[0,6],[10,-2]]
  jxla_tensor_t in[1] = {f32({1, 2, 3, -4}, {2, 2})}, out[1] = {nullptr};
  CHECK_EQ(jxla_function_call(f, in, 1, out), 0);  // host input: transferred
  CHECK(read(out[0], 4) == std::vector<float>({0, 6, 10, -2}));
  std::string prof = profile(tpu);
  CHECK(prof.find(" dot_general ") != std::string::npos);
  CHECK(prof.find("transfer:h2d") != std::string::npos);
  jxla_tensor_free(out[0]);
  CHECK_EQ(jxla_function_call(h, in, 1, out), 0);  // the host function gives the same values
  CHECK(read(out[0], 4) == std::vector<float>({0, 6, 10, -2}));
  jxla_tensor_free(out[0]);

  // a device-resident input, and the batch-padded call (1 row padded to 2 on the device)
  jxla_tensor_t on_tpu = nullptr;
  CHECK_EQ(jxla_tensor_to_device(in[0], tpu, &on_tpu), 0);
  jxla_tensor_t in2[1] = {on_tpu};
  CHECK_EQ(jxla_function_call(g, in2, 1, out), 0);
  CHECK(read(out[0], 4) == std::vector<float>({0, 6, 10, -2}));
  jxla_tensor_free(out[0]);
  jxla_tensor_t row[1] = {f32({3, -4}, {1, 2})};
  CHECK_EQ(jxla_function_call_padded(f, row, 1, out), 0);
  CHECK(read(out[0], 2) == std::vector<float>({10, -2}));
  jxla_tensor_free(out[0]);

  // an input on another device is rejected, naming both devices; the function stays usable
  jxla_tensor_t on_v4 = nullptr;
  CHECK_EQ(jxla_tensor_to_device(in[0], v4, &on_v4), 0);
  jxla_tensor_t in3[1] = {on_v4};
  CHECK(jxla_function_call(f, in3, 1, out) == JXLA_ERR_INVALID_ARGUMENT);
  std::string msg = jxla_last_error();
  CHECK(msg.find("tpu:v4") != std::string::npos && msg.find("tpu:v5e") != std::string::npos);
  CHECK_EQ(jxla_function_call(f, in, 1, out), 0);
  jxla_tensor_free(out[0]);

  for (jxla_tensor_t t : {in[0], on_tpu, on_v4, row[0]}) jxla_tensor_free(t);
  for (jxla_function_t fn : {f, g, h}) CHECK_EQ(jxla_function_free(fn), 0);
  CHECK_EQ(hbm(tpu), hbm0);  // the uploaded weight died with the last function using it
  int64_t live = -1;
  jxla_memory_live_tensors(&live);
  CHECK_EQ(live, 0);
  return check_finish();
}
