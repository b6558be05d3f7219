// test_trace_target.cpp - the thread's trace target (jxla_trace_target_set, ir/builder.h): while
// it is a TPU T, ops mix host and T operands, so a function traced on the host for T captures a
// weight already resident on T in place (no upload, no new HBM) and may return T-only outputs;
// without it, or with an operand on a third device, the builder refuses naming both devices; a
// mixed value cannot run eagerly; the target nests (previous value) and is per thread.
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include "jxla/jxla.h"
#include "tests/c_api_util.h"
#include "tests/check.h"

static jxla_tensor_t f32(jxla_device_t dev, std::vector<float> v, std::vector<int64_t> shape) {
  return jxla_test::data_on(dev, v, std::move(shape));
}
using jxla_test::counter;
using jxla_test::read;
static int64_t hbm(jxla_device_t d) {
  int64_t in_use = -1;
  jxla_device_memory(d, &in_use, nullptr, nullptr);
  return in_use;
}
static bool names(const std::string& msg, const char* a, const char* b) {
  return msg.find(a) != std::string::npos && msg.find(b) != std::string::npos;
}

int main() {
  int32_t DOT = -1, ADD = -1, MUL = -1;
  jxla_op_lookup("dot_general", &DOT);
  jxla_op_lookup("add", &ADD);
  jxla_op_lookup("mul", &MUL);
  jxla_device_t tpu = nullptr, v4 = nullptr, host = nullptr;
  CHECK_EQ(jxla_device_tpu("v5e", 1, 0, &tpu), 0);
  CHECK_EQ(jxla_device_tpu("v4", 1, 0, &v4), 0);
  CHECK_EQ(jxla_device_host(&host), 0);
  // W on the TPU; small integers are exact in bf16, so the DEFAULT MXU pass is exact
  jxla_tensor_t x = f32(nullptr, {0, 0, 0, 0}, {2, 2}), wh = f32(nullptr, {1, 2, -1, 1}, {2, 2});
  jxla_tensor_t w = nullptr, w4 = nullptr, out = nullptr;
  CHECK_EQ(jxla_tensor_to_device(wh, tpu, &w), 0);
  CHECK_EQ(jxla_tensor_to_device(wh, v4, &w4), 0);
  jxla_tensor_t xw_in[2] = {x, w};

  // no trace target: host and TPU do not mix
  CHECK(jxla_tensor_op(DOT, xw_in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &out) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK(names(jxla_last_error(), "tpu:v5e", "host"));
  // the host as target changes nothing
  jxla_device_t prev = tpu;
  CHECK_EQ(jxla_trace_target_set(host, &prev), 0);
  CHECK(prev == nullptr);
  CHECK(jxla_tensor_binary(ADD, x, w, &out) == JXLA_ERR_INVALID_ARGUMENT);

  // target T: f(x) = x @ W + x traces, and a function of W alone (W * 2) too
  CHECK_EQ(jxla_trace_target_set(tpu, &prev), 0);
  CHECK(prev == host);
  jxla_tensor_t xw = nullptr, y = nullptr, w2 = nullptr;
  CHECK_EQ(jxla_tensor_op(DOT, xw_in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &xw), 0);
  CHECK_EQ(jxla_tensor_binary(ADD, xw, x, &y), 0);
  CHECK_EQ(jxla_tensor_binary(MUL, w, w, &w2), 0);  // T only: stays on T
  // a third device is still refused, naming it and the target
  CHECK(jxla_tensor_binary(ADD, x, w4, &out) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK(names(jxla_last_error(), "tpu:v4", "tpu:v5e"));
  CHECK(jxla_tensor_binary(ADD, w, w4, &out) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK(names(jxla_last_error(), "tpu:v4", "tpu:v5e"));
  // a mixed value is refused eagerly (it only exists for the compiled function); a T-only one runs
  std::vector<float> buf(4);
  CHECK(jxla_tensor_read(y, JXLA_F32, buf.data(), 16) == JXLA_ERR_STATE);
  CHECK(names(jxla_last_error(), "tpu:v5e", "host"));
  // the target is per thread: another thread still refuses the mix
  int other = -1;
  std::thread th([&] {
    jxla_tensor_t o = nullptr;
    other = jxla_tensor_binary(ADD, x, w, &o);
    if (o) jxla_tensor_free(o);
  });
  th.join();
  CHECK_EQ(other, JXLA_ERR_INVALID_ARGUMENT);
  // nesting: a nested trace for another device restores T afterwards
  CHECK_EQ(jxla_trace_target_set(v4, &prev), 0);
  CHECK(prev == tpu);
  CHECK_EQ(jxla_tensor_binary(ADD, x, w4, &out), 0);
  jxla_tensor_free(out);
  CHECK(jxla_tensor_binary(ADD, x, w, &out) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK_EQ(jxla_trace_target_set(prev, nullptr), 0);
  CHECK_EQ(jxla_trace_target_set(nullptr, &prev), 0);  // cleared
  CHECK(prev == tpu);
  CHECK(jxla_tensor_binary(ADD, x, w, &out) == JXLA_ERR_INVALID_ARGUMENT);

  jxla_metrics_clear();
  int64_t hbm0 = hbm(tpu);
  jxla_tensor_t ps[1] = {x}, os[2] = {y, w2};
  jxla_function_t f = nullptr;
  CHECK_EQ(jxla_function_create_on(ps, 1, os, 2, tpu, &f), 0);
  CHECK_EQ(counter("FunctionConstantUpload"), 0);  // W used in place
  CHECK_EQ(hbm(tpu), hbm0);
  // the same outputs without a target: the mix is an error naming both devices
  jxla_function_t bad = nullptr;
  CHECK(jxla_function_create(ps, 1, os, 2, &bad) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK(names(jxla_last_error(), "tpu:v5e", "host"));
  // ... and so is another target
  CHECK(jxla_function_create_on(ps, 1, os, 2, v4, &bad) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK(names(jxla_last_error(), "tpu:v5e", "tpu:v4"));

  // x = [[1,2],[3,-4]]: x@W = [[-1,4],[7,2]], + x = [[0,6],[10,-2]]; W*W = [[1,4],[1,1]]
  jxla_tensor_t in[1] = {f32(nullptr, {1, 2, 3, -4}, {2, 2})}, res[2] = {nullptr, nullptr};
  CHECK_EQ(jxla_function_call(f, in, 1, res), 0);
  CHECK(read(res[0], 4) == std::vector<float>({0, 6, 10, -2}));
  CHECK(read(res[1], 4) == std::vector<float>({1, 4, 1, 1}));
  // the outputs live on the TPU: adding one to W needs no trace target
  CHECK_EQ(jxla_tensor_binary(ADD, res[0], w, &out), 0);
  CHECK(read(out, 4) == std::vector<float>({1, 8, 9, -1}));
  jxla_tensor_free(out);
  for (jxla_tensor_t t : {res[0], res[1], in[0]}) jxla_tensor_free(t);
  CHECK_EQ(jxla_function_free(f), 0);

  for (jxla_tensor_t t : {x, wh, w, w4, xw, y, w2}) jxla_tensor_free(t);
  int64_t live = -1;
  jxla_memory_live_tensors(&live);
  CHECK_EQ(live, 0);
  return check_finish();
}
