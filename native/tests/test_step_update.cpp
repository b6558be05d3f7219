// test_step_update.cpp - compiled steps through the C ABI (jxla_function_call_update, the trace
// guard, jxla_tensor_alias/share; what optim.TrainStep builds on): an Adam update traced once
// with placeholders and called three times updates p, m, v in place, bit for bit equal to the
// update evaluated here in scalar f32 (the same correctly rounded operations in the same order),
// with p, m, v donated when nothing else reads them and not donated while a detached copy
// shares p's buffer (which keeps its value). The guard turns syncs, reads and transfers of
// pre-trace tensors into state errors; bad targets are argument errors; the engine stays usable.
#include <cmath>
#include <cstring>
#include <vector>
#include "jxla/jxla.h"
#include "runtime/lazy.h"
#include "tests/c_api_util.h"
#include "tests/check.h"

namespace {
using jxla_test::counter;
using jxla_test::data;
using jxla_test::op;
using jxla_test::read;
using jxla_test::adam_ref;
std::vector<float> ramp(size_t n, float a, float b) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = a * std::sin(0.37f * static_cast<float>(i) + b);
  return v;
}
jxla_tensor_t alias(jxla_tensor_t x) {
  jxla_tensor_t a = nullptr;
  CHECK_EQ(jxla_tensor_alias(x, &a), JXLA_OK);
  return a;
}

constexpr const float* kS = jxla_test::kAdamS;

constexpr int64_t R = 37, C = 29;  // not multiples of the vector width: scalar tails too
constexpr size_t N = static_cast<size_t>(R * C);

struct Step {
  jxla_tensor_t p, m, v, g, s[8], loss;
  jxla_function_t fn;
};

// Traces one Adam update of p (gradient g) plus an output sum(p*p) (a "loss" read before the
// update) into a function over [g, p, m, v, s0..s7]; p, m, v get their values back.
void trace(Step& st) {
  jxla_tensor_t ph[3] = {alias(st.p), alias(st.m), alias(st.v)};
  CHECK_EQ(jxla_trace_guard_begin("the test step"), JXLA_OK);
  jxla_tensor_t pp = nullptr, loss = nullptr;
  CHECK_EQ(jxla_tensor_binary(op("mul"), st.p, st.p, &pp), JXLA_OK);
  jxla_tensor_t in[1] = {pp};
  CHECK_EQ(jxla_tensor_op(op("reduce_sum"), in, 1, "axes=[0, 1], keepdims=0", nullptr, &loss), JXLA_OK);
  CHECK_EQ(jxla_optim_adam_update(st.p, st.g, st.m, st.v, st.s), JXLA_OK);
  CHECK_EQ(jxla_trace_guard_end(), JXLA_OK);
  jxla_tensor_t params[12] = {st.g, ph[0], ph[1], ph[2]};
  for (int i = 0; i < 8; ++i) params[4 + i] = st.s[i];
  jxla_tensor_t outs[4] = {loss, st.p, st.m, st.v};
  CHECK_EQ(jxla_function_create(params, 12, outs, 4, &st.fn), JXLA_OK);
  CHECK_EQ(jxla_tensor_share(st.p, ph[0]), JXLA_OK);
  CHECK_EQ(jxla_tensor_share(st.m, ph[1]), JXLA_OK);
  CHECK_EQ(jxla_tensor_share(st.v, ph[2]), JXLA_OK);
  for (jxla_tensor_t t : {ph[0], ph[1], ph[2], pp, loss}) CHECK_EQ(jxla_tensor_free(t), JXLA_OK);
}

float call(Step& st) {
  jxla_tensor_t in[12] = {st.g, st.p, st.m, st.v};
  for (int i = 0; i < 8; ++i) in[4 + i] = st.s[i];
  jxla_tensor_t targets[3] = {st.p, st.m, st.v}, loss = nullptr;
  CHECK_EQ(jxla_function_call_update(st.fn, in, 12, targets, 3, &loss), JXLA_OK);
  float l = 0;
  CHECK_EQ(jxla_tensor_read(loss, JXLA_F32, &l, 4), JXLA_OK);
  CHECK_EQ(jxla_tensor_free(loss), JXLA_OK);
  return l;
}

Step make() {
  Step st{};
  st.p = data(ramp(N, 1.0f, 0.1f), {R, C});
  st.m = data(std::vector<float>(N, 0.0f), {R, C});
  st.v = data(std::vector<float>(N, 0.0f), {R, C});
  st.g = data(ramp(N, 0.3f, 2.0f), {R, C});
  for (int i = 0; i < 8; ++i) st.s[i] = data({kS[i]}, {});
  trace(st);
  return st;
}

void release(Step& st) {
  for (jxla_tensor_t t : {st.p, st.m, st.v, st.g}) CHECK_EQ(jxla_tensor_free(t), JXLA_OK);
  for (auto* s : st.s) CHECK_EQ(jxla_tensor_free(s), JXLA_OK);
  CHECK_EQ(jxla_function_free(st.fn), JXLA_OK);
}
}  // namespace

int main() {
  // 1. three calls == three reference updates, bit for bit; donated in place, or not: same bits
  std::vector<float> p = ramp(N, 1.0f, 0.1f), m(N, 0.0f), v(N, 0.0f), g = ramp(N, 0.3f, 2.0f);
  std::vector<float> losses;
  for (int k = 0; k < 3; ++k) {
    double l = 0;
    for (float x : p) l += static_cast<double>(x) * x;
    losses.push_back(static_cast<float>(l));
    adam_ref(p, m, v, g);
  }
  for (bool donate : {true, false}) {
    jxla::set_donation_enabled(donate);
    Step st = make();
    int64_t d0 = counter("DonatedBuffers"), c0 = counter("UncachedCompile"), t0 = counter("LazyTracing");
    for (int k = 0; k < 3; ++k) {
      float l = call(st);
      CHECK_NEAR(l, losses[static_cast<size_t>(k)], 1e-4 * losses[static_cast<size_t>(k)]);  // f32 sum vs f64 sum
    }
    CHECK_EQ(counter("DonatedBuffers") - d0, donate ? 9 : 0);  // p, m and v on every call
    CHECK_EQ(counter("UncachedCompile"), c0);
    CHECK_EQ(counter("LazyTracing"), t0);  // calls trace nothing
    std::vector<float> rp = read(st.p, N), rm = read(st.m, N), rv = read(st.v, N);
    CHECK(std::memcmp(rp.data(), p.data(), 4 * N) == 0);
    CHECK(std::memcmp(rm.data(), m.data(), 4 * N) == 0);
    CHECK(std::memcmp(rv.data(), v.data(), 4 * N) == 0);
    release(st);
  }
  jxla::set_donation_enabled(true);

  // 2. a detached copy shares p's buffer: p is not donated and the copy keeps the old value
  {
    Step st = make();
    call(st);
    jxla_tensor_t old = nullptr;
    CHECK_EQ(jxla_tensor_detach(st.p, &old), JXLA_OK);
    std::vector<float> before = read(old, N);
    int64_t d0 = counter("DonatedBuffers");
    call(st);
    CHECK_EQ(counter("DonatedBuffers") - d0, 2);  // m and v only
    std::vector<float> after = read(old, N);
    CHECK(std::memcmp(before.data(), after.data(), 4 * N) == 0);
    std::vector<float> now = read(st.p, N);
    CHECK(std::memcmp(before.data(), now.data(), 4 * N) != 0);
    CHECK_EQ(jxla_tensor_free(old), JXLA_OK);

    // 3. bad targets: listed twice, or the wrong shape; nothing changes, the next call works
    jxla_tensor_t in[12] = {st.g, st.p, st.m, st.v};
    for (int i = 0; i < 8; ++i) in[4 + i] = st.s[i];
    jxla_tensor_t twice[3] = {st.p, st.p, st.v}, wrong[3] = {st.p, st.m, st.s[0]}, out = nullptr;
    CHECK_EQ(jxla_function_call_update(st.fn, in, 12, twice, 3, &out), JXLA_ERR_INVALID_ARGUMENT);
    CHECK(std::strstr(jxla_last_error(), "listed twice") != nullptr);
    CHECK_EQ(jxla_function_call_update(st.fn, in, 12, wrong, 3, &out), JXLA_ERR_INVALID_ARGUMENT);
    CHECK(std::strstr(jxla_last_error(), "target 2") != nullptr);
    CHECK(std::memcmp(now.data(), read(st.p, N).data(), 4 * N) == 0);
    call(st);
    release(st);
  }

  // 4. the guard: a sync, a read of a pending tensor, a transfer of a pre-trace tensor fail
  {
    jxla_tensor_t a = data({1, 2, 3}, {3}), b = nullptr, c = nullptr;
    jxla_device_t host = nullptr;
    CHECK_EQ(jxla_device_host(&host), JXLA_OK);
    CHECK_EQ(jxla_trace_guard_begin("guarded"), JXLA_OK);
    CHECK_EQ(jxla_tensor_binary(op("add"), a, a, &b), JXLA_OK);
    CHECK_EQ(jxla_sync(), JXLA_ERR_STATE);
    CHECK(std::strstr(jxla_last_error(), "guarded") != nullptr);
    float buf[3];
    CHECK_EQ(jxla_tensor_read(b, JXLA_F32, buf, 12), JXLA_ERR_STATE);
    CHECK_EQ(jxla_tensor_to_device(a, host, &c), JXLA_ERR_STATE);
    CHECK(std::strstr(jxla_last_error(), "to_device") != nullptr);
    jxla_tensor_t fresh = data({5}, {}), moved = nullptr;
    CHECK_EQ(jxla_tensor_to_device(fresh, host, &moved), JXLA_OK);  // made inside: allowed
    jxla_tensor_t alias_pending = nullptr;
    CHECK_EQ(jxla_tensor_alias(b, &alias_pending), JXLA_ERR_INVALID_ARGUMENT);
    CHECK_EQ(jxla_trace_guard_end(), JXLA_OK);
    CHECK_EQ(jxla_tensor_read(b, JXLA_F32, buf, 12), JXLA_OK);  // usable again
    CHECK_EQ(buf[2], 6.0f);
    for (jxla_tensor_t t : {a, b, fresh, moved}) CHECK_EQ(jxla_tensor_free(t), JXLA_OK);
  }
  return check_finish();
}
