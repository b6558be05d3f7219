// test_function_host.cpp - jxla_function_call_host (jxla.h): the zero-copy call that reads inputs
// in place from caller memory and copies outputs into caller memory. Claims: (1) the same bytes
// as jxla_function_call + jxla_tensor_read, for a dot/relu/add graph, an identity output (the
// output IS the borrowed input inside the engine) and a reshape of it, with f32 and converted
// (f64) destinations; (2) nothing refers to the caller's memory after the call: results already
// copied out do not change when the input memory is overwritten and then freed (ASan would report
// a later read), and later calls see the new contents; (3) batch padding as
// jxla_function_call_padded; (4) errors name the input or output at fault and leave the function
// usable: wrong shape, unknown dtype, too small a destination, null pointers, too many outputs;
// (5) borrowed inputs are not counted as live engine memory.
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "jxla/jxla.h"
#include "tests/c_api_util.h"
#include "tests/check.h"

namespace {
using jxla_test::op;
using jxla_test::read;
jxla_tensor_t f32(const std::vector<float>& v, std::vector<int64_t> shape) { return jxla_test::data(v, std::move(shape)); }
bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// f(x[B,3], y[B,4]) = (relu(x @ W) + y, x, reshape(x, [B*3]))  with W a captured 3x4 constant
jxla_function_t make(int64_t B) {
  jxla_tensor_t x = f32(std::vector<float>(static_cast<size_t>(B * 3)), {B, 3});
  jxla_tensor_t y = f32(std::vector<float>(static_cast<size_t>(B * 4)), {B, 4});
  jxla_tensor_t w = f32({0.5f, -1, 2, 0.25f, 1, 1, -3, 0.5f, -2, 0.75f, 1, 1}, {3, 4});
  jxla_tensor_t xw = nullptr, r = nullptr, o0 = nullptr, o2 = nullptr, in[2] = {x, w};
  CHECK_EQ(jxla_tensor_op(op("dot_general"), in, 2, "lhs_contract=[1], rhs_contract=[0]", nullptr, &xw), 0);
  CHECK_EQ(jxla_tensor_unary(op("relu"), xw, &r), 0);
  CHECK_EQ(jxla_tensor_binary(op("add"), r, y, &o0), 0);
  const std::string attrs = "shape=[" + std::to_string(B * 3) + "]";
  CHECK_EQ(jxla_tensor_op(op("reshape"), &x, 1, attrs.c_str(), nullptr, &o2), 0);
  jxla_tensor_t params[2] = {x, y}, outs[3] = {o0, x, o2};
  jxla_function_t fn = nullptr;
  CHECK_EQ(jxla_function_create(params, 2, outs, 3, &fn), 0);
  for (jxla_tensor_t t : {x, y, w, xw, r, o0, o2}) jxla_tensor_free(t);
  return fn;
}

// the reference: copying call + reads
std::vector<std::vector<float>> call_copying(jxla_function_t fn, int64_t B, const std::vector<float>& x,
                                             const std::vector<float>& y, bool padded) {
  jxla_tensor_t in[2] = {f32(x, {B, 3}), f32(y, {B, 4})}, res[3] = {};
  CHECK_EQ(padded ? jxla_function_call_padded(fn, in, 2, res) : jxla_function_call(fn, in, 2, res), 0);
  // (padded: the reshape output's leading dimension is not the batch, so it keeps all B * 3 values)
  std::vector<std::vector<float>> r = {read(res[0], static_cast<size_t>(B * 4)), read(res[1], static_cast<size_t>(B * 3))};
  if (!padded) r.push_back(read(res[2], static_cast<size_t>(B * 3)));
  for (jxla_tensor_t t : {in[0], in[1], res[0], res[1], res[2]}) jxla_tensor_free(t);
  return r;
}

struct HostCall {
  int32_t dtypes[2] = {JXLA_F32, JXLA_F32}, ranks[2] = {2, 2};
  int64_t dims[4];
  const void* data[2];
  int32_t out_dtypes[3] = {JXLA_F32, JXLA_F32, JXLA_F32};
  void* out[3];
  int64_t caps[3];
  HostCall(int64_t B, const float* x, const float* y, std::vector<std::vector<float>>& r) : dims{B, 3, B, 4}, data{x, y} {
    r = {std::vector<float>(static_cast<size_t>(B * 4)), std::vector<float>(static_cast<size_t>(B * 3)),
         std::vector<float>(static_cast<size_t>(B * 3))};
    for (int j = 0; j < 3; ++j) {
      out[j] = r[j].data();
      caps[j] = static_cast<int64_t>(r[j].size() * 4);
    }
  }
  jxla_status run(jxla_function_t fn, int32_t padded = 0, int32_t nout = 3) {
    return jxla_function_call_host(fn, 2, dtypes, ranks, dims, data, padded, nout, out_dtypes, out, caps);
  }
};
}  // namespace

int main() {
  const int64_t B = 5;
  jxla_function_t fn = make(B);
  std::vector<float> x(B * 3), y(B * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 2.5f;
  for (size_t i = 0; i < y.size(); ++i) y[i] = 0.125f * static_cast<float>(i);
  const auto want = call_copying(fn, B, x, y, false);
  CHECK(want[1] == x);  // the identity output is the input

  // (1) same bytes, and (5) borrowed inputs are not live engine memory
  int64_t live0 = 0, live1 = 0;
  jxla_memory_live_bytes(&live0);
  {
    auto xin = std::make_unique<std::vector<float>>(x);
    std::vector<std::vector<float>> got;
    HostCall c(B, xin->data(), y.data(), got);
    CHECK_EQ(c.run(fn), 0);
    jxla_memory_live_bytes(&live1);
    CHECK_EQ(live1, live0);
    for (int j = 0; j < 3; ++j) CHECK(std::memcmp(got[j].data(), want[j].data(), want[j].size() * 4) == 0);
    // (2) the outputs are copies: overwriting and freeing the input leaves them as they were
    const auto copy = got;
    for (auto& v : *xin) v = 99.0f;
    xin.reset();
    for (int j = 0; j < 3; ++j) CHECK(got[j] == copy[j]);
    // a later call reads the new input memory
    std::vector<float> x2(x.size(), 1.0f);
    c.data[0] = x2.data();
    CHECK_EQ(c.run(fn), 0);
    CHECK(got[1] == x2);
    CHECK(got[0] == call_copying(fn, B, x2, y, false)[0]);
  }
  // converted destination: output 0 as f64
  {
    std::vector<std::vector<float>> got;
    HostCall c(B, x.data(), y.data(), got);
    std::vector<double> d(static_cast<size_t>(B * 4));
    c.out_dtypes[0] = JXLA_F64;
    c.out[0] = d.data();
    c.caps[0] = static_cast<int64_t>(d.size() * 8);
    c.out[2] = nullptr;  // dropped
    CHECK_EQ(c.run(fn), 0);
    for (size_t i = 0; i < d.size(); ++i) CHECK(d[i] == static_cast<double>(want[0][i]));
    CHECK(got[1] == x);
  }

  // (3) padding: 2 rows in, padded to B, 2 rows out, the first rows of the copying call's results
  // (outputs 0 and 1; the reshape output keeps the padded batch's B * 3 values)
  {
    const int64_t b = 2;
    std::vector<float> xs(x.begin(), x.begin() + b * 3), ys(y.begin(), y.begin() + b * 4);
    std::vector<std::vector<float>> got;
    HostCall c(b, xs.data(), ys.data(), got);
    CHECK_EQ(c.run(fn, 1, 2), 0);
    const auto ref = call_copying(fn, b, xs, ys, true);
    CHECK(got[0] == ref[0]);
    CHECK(got[1] == xs);
    CHECK(std::vector<float>(want[0].begin(), want[0].begin() + b * 4) == got[0]);
    // without padding the short batch is a signature error naming the input
    CHECK(c.run(fn, 0, 2) == JXLA_ERR_INVALID_ARGUMENT);
    CHECK(has(jxla_last_error(), "input 0"));
    // the reshape output is 15 values: a destination for 6 is refused, naming it
    CHECK(c.run(fn, 1, 3) == JXLA_ERR_INVALID_ARGUMENT);
    CHECK(has(jxla_last_error(), "output 2 is f32[15]"));
  }

  // (4) errors, each leaving the function usable
  {
    std::vector<std::vector<float>> got;
    HostCall c(B, x.data(), y.data(), got);
    c.caps[1] = 4 * 3 * B - 4;  // one float short
    CHECK(c.run(fn) == JXLA_ERR_INVALID_ARGUMENT);
    std::string m = jxla_last_error();
    CHECK(has(m, "output 1") && has(m, "f32[5,3]") && has(m, "60 bytes") && has(m, "56"));
    c.caps[1] = 4 * 3 * B;
    c.dtypes[1] = 999;
    CHECK(c.run(fn) == JXLA_ERR_INVALID_ARGUMENT);
    CHECK(has(jxla_last_error(), "input 1"));
    c.dtypes[1] = JXLA_F32;
    c.data[1] = nullptr;
    CHECK(c.run(fn) == JXLA_ERR_INVALID_ARGUMENT);
    CHECK(has(jxla_last_error(), "input 1 has null data"));
    c.data[1] = y.data();
    CHECK(c.run(fn, 0, 4) == JXLA_ERR_INVALID_ARGUMENT);
    CHECK(has(jxla_last_error(), "4 outputs requested"));
    CHECK(jxla_function_call_host(fn, 2, c.dtypes, c.ranks, c.dims, nullptr, 0, 3, c.out_dtypes, c.out, c.caps) ==
          JXLA_ERR_INVALID_ARGUMENT);
    CHECK(jxla_function_call_host(nullptr, 2, c.dtypes, c.ranks, c.dims, c.data, 0, 3, c.out_dtypes, c.out, c.caps) ==
          JXLA_ERR_STATE);
    CHECK_EQ(c.run(fn), 0);
    for (int j = 0; j < 3; ++j) CHECK(got[j] == want[j]);
  }
  jxla_function_free(fn);
  return check_finish();
}
