// test_function.cpp - compiled functions through the C ABI: constants captured from the trace,
// parameter order, exact and batch-padded calls, signature errors, identity outputs, and
// concurrent calls from many threads giving the same bytes as one thread.
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include "jxla/jxla.h"
#include "tests/check.h"

static jxla_tensor_t f32(std::vector<float> v, std::vector<int64_t> shape) {
  jxla_tensor_t t = nullptr;
  jxla_status s = jxla_tensor_from_data(nullptr, JXLA_F32, shape.data(), static_cast<int32_t>(shape.size()), v.data(),
                                        static_cast<int64_t>(v.size() * 4), &t);
  CHECK_EQ(s, 0);
  return t;
}
static std::vector<float> read(jxla_tensor_t t, size_t n) {
  std::vector<float> v(n);
  CHECK_EQ(jxla_tensor_read(t, JXLA_F32, v.data(), static_cast<int64_t>(n * 4)), 0);
  return v;
}
static std::vector<int64_t> shape_of(jxla_tensor_t t) {
  int32_t r = 0;
  jxla_tensor_rank(t, &r);
  std::vector<int64_t> s(static_cast<size_t>(r));
  jxla_tensor_shape(t, s.data(), r);
  return s;
}
static int32_t op(const char* n) { int32_t o = -1; jxla_op_lookup(n, &o); return o; }

int main() {
  int32_t ADD = op("add"), MUL = op("mul"), DOT = op("dot_general"), RELU = op("relu");
  // f(x[B,2], y[B,2]) = (relu(x @ W) + y, x * 3)   with W a captured 2x2 constant
  jxla_tensor_t x = f32({0, 0, 0, 0}, {2, 2}), y = f32({0, 0, 0, 0}, {2, 2});
  jxla_tensor_t w = f32({1, 2, -1, 1}, {2, 2}), three = f32({3}, {});
  jxla_tensor_t xw = nullptr, r = nullptr, o0 = nullptr, o1 = nullptr;
  jxla_tensor_t dot_in[2] = {x, w};
  CHECK_EQ(jxla_tensor_op(DOT, dot_in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &xw), 0);
  CHECK_EQ(jxla_tensor_unary(RELU, xw, &r), 0);
  CHECK_EQ(jxla_tensor_binary(ADD, r, y, &o0), 0);
  CHECK_EQ(jxla_tensor_binary(MUL, x, three, &o1), 0);
  jxla_tensor_t params[2] = {x, y}, outs[2] = {o0, o1};
  jxla_function_t fn = nullptr;
  CHECK_EQ(jxla_function_create(params, 2, outs, 2, &fn), 0);
  int32_t np = 0, no = 0;
  CHECK_EQ(jxla_function_arity(fn, &np, &no), 0);
  CHECK_EQ(np, 2);
  CHECK_EQ(no, 2);
  // the trace is no longer needed: the function keeps W and 3 alive as constants
  for (jxla_tensor_t t : {x, y, w, three, xw, r, o0, o1}) jxla_tensor_free(t);
  char buf[4096];
  int64_t len = 0;
  CHECK_EQ(jxla_function_ir(fn, buf, sizeof buf, &len), 0);
  CHECK(std::string(buf).find("index=3") != std::string::npos);  // 2 params + 2 constants

  // x = [[1,2],[3,-4]], y = [[10,20],[30,40]]: x@W = [[-1,4],[7,2]] -> relu -> + y
  jxla_tensor_t in[2] = {f32({1, 2, 3, -4}, {2, 2}), f32({10, 20, 30, 40}, {2, 2})};
  jxla_tensor_t res[2] = {nullptr, nullptr};
  CHECK_EQ(jxla_function_call(fn, in, 2, res), 0);
  std::vector<float> a = read(res[0], 4), b = read(res[1], 4);
  CHECK(a == std::vector<float>({10, 24, 37, 42}));
  CHECK(b == std::vector<float>({3, 6, 9, -12}));
  jxla_tensor_free(res[0]);
  jxla_tensor_free(res[1]);

  // signature errors name the input and both signatures; the function stays usable
  jxla_tensor_t bad[2] = {f32({1, 2, 3}, {3}), in[1]};
  CHECK(jxla_function_call(fn, bad, 2, res) == JXLA_ERR_INVALID_ARGUMENT);
  std::string msg = jxla_last_error();
  CHECK(msg.find("input 0") != std::string::npos && msg.find("f32[3]") != std::string::npos &&
        msg.find("f32[2,2]") != std::string::npos);
  CHECK(jxla_function_call(fn, in, 1, res) == JXLA_ERR_INVALID_ARGUMENT);
  jxla_tensor_free(bad[0]);

  // batch padding: one row in, padded to 2, one row out with the same values as row 0 above
  jxla_tensor_t in1[2] = {f32({1, 2}, {1, 2}), f32({10, 20}, {1, 2})};
  CHECK_EQ(jxla_function_call_padded(fn, in1, 2, res), 0);
  CHECK(shape_of(res[0]) == std::vector<int64_t>({1, 2}));
  CHECK(read(res[0], 2) == std::vector<float>({10, 24}));
  CHECK(read(res[1], 2) == std::vector<float>({3, 6}));
  jxla_tensor_free(res[0]);
  jxla_tensor_free(res[1]);
  // a batch larger than the parameter's is an error
  jxla_tensor_t in3[2] = {f32({1, 2, 3, 4, 5, 6}, {3, 2}), f32({1, 2, 3, 4, 5, 6}, {3, 2})};
  CHECK(jxla_function_call_padded(fn, in3, 2, res) == JXLA_ERR_INVALID_ARGUMENT);
  for (jxla_tensor_t t : {in1[0], in1[1], in3[0], in3[1]}) jxla_tensor_free(t);

  // many threads, one function: every thread gets the bytes of the single-thread call
  std::vector<std::thread> th;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t)
    th.emplace_back([&, t] {
      int good = 0;
      for (int i = 0; i < 200; ++i) {
        jxla_tensor_t o[2] = {nullptr, nullptr};
        if (jxla_function_call(fn, in, 2, o) != 0) continue;
        std::vector<float> v(4);
        jxla_tensor_read(o[0], JXLA_F32, v.data(), 16);
        if (v == std::vector<float>({10, 24, 37, 42})) ++good;
        jxla_tensor_free(o[0]);
        jxla_tensor_free(o[1]);
      }
      ok[t] = good;
    });
  for (auto& t : th) t.join();
  for (int t = 0; t < 8; ++t) CHECK_EQ(ok[t], 200);
  CHECK_EQ(jxla_function_free(fn), 0);
  jxla_tensor_free(in[0]);
  jxla_tensor_free(in[1]);

  // an output that is a parameter itself (identity), and a parameter the outputs do not use
  jxla_tensor_t p = f32({0, 0}, {2}), q = f32({0}, {1});
  jxla_tensor_t ps[2] = {p, q}, os[1] = {p};
  CHECK_EQ(jxla_function_create(ps, 2, os, 1, &fn), 0);
  jxla_tensor_t ii[2] = {f32({5, 6}, {2}), f32({7}, {1})}, oo[1] = {nullptr};
  CHECK_EQ(jxla_function_call(fn, ii, 2, oo), 0);
  CHECK(read(oo[0], 2) == std::vector<float>({5, 6}));
  for (jxla_tensor_t t : {p, q, ii[0], ii[1], oo[0]}) jxla_tensor_free(t);
  jxla_function_free(fn);

  // parameters must be data and distinct
  jxla_tensor_t d = f32({1}, {1}), e = nullptr;
  jxla_tensor_unary(op("neg"), d, &e);
  jxla_tensor_t pe[1] = {e}, pd[2] = {d, d}, od[1] = {d};
  CHECK(jxla_function_create(pe, 1, od, 1, &fn) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(jxla_last_error()).find("pending") != std::string::npos);
  CHECK(jxla_function_create(pd, 2, od, 1, &fn) == JXLA_ERR_INVALID_ARGUMENT);
  CHECK(jxla_function_create(pd, 1, od, 0, &fn) == JXLA_ERR_INVALID_ARGUMENT);
  jxla_tensor_free(d);
  jxla_tensor_free(e);
  CHECK(jxla_function_call(nullptr, nullptr, 0, oo) == JXLA_ERR_STATE);
  int64_t live = -1;
  jxla_memory_live_tensors(&live);
  CHECK_EQ(live, 0);
  return check_finish();
}
