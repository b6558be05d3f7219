// test_ir.cpp - IR core: hash-consing, shape rules and their errors, text IR round trip,
// the verifier, fingerprints that ignore data, and the reference interpreter on small graphs.
#include <cmath>
#include <cstring>
#include <functional>
#include "backends/host/reference.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/buffer.h"
#include "runtime/device.h"
#include "tests/check.h"

using namespace jxla;

static NodeRef data_f32(const Shape& s, std::initializer_list<float> v) {
  BufferRef b = alloc_buffer(DType::F32, s, host_device());
  std::memcpy(b->data, v.begin(), v.size() * 4);
  return make_data(b);
}

static std::string error_of(const std::function<void()>& f) {
  try { f(); } catch (const Error& e) { return e.what(); }
  return "";
}

int main() {
  // hash-consing: equal expressions share one node; data leaves never do
  NodeRef x = data_f32({2, 2}, {1, 2, 3, 4});
  NodeRef y = data_f32({2, 2}, {1, 2, 3, 4});
  CHECK(x.get() != y.get());
  NodeRef a1 = b_binary(Op::Add, x, y), a2 = b_binary(Op::Add, x, y);
  CHECK(a1.get() == a2.get());
  CHECK(b_binary(Op::Add, y, x).get() != a1.get());

  // broadcasting and promotion
  NodeRef row = data_f32({2}, {10, 20});
  NodeRef s = b_binary(Op::Mul, x, row);
  CHECK(s->shape == (Shape{2, 2}));
  CHECK(s->inputs[1]->op == Op::Broadcast);
  std::string err = error_of([&] { b_binary(Op::Add, x, data_f32({3}, {1, 2, 3})); });
  CHECK(err.find("add") != std::string::npos && err.find("[2,2]") != std::string::npos && err.find("[3]") != std::string::npos);
  err = error_of([&] { b_reduce(Op::ReduceSum, x, {2}, false); });
  CHECK(err.find("reduce_sum") != std::string::npos && err.find("axes 2") != std::string::npos);

  // reference evaluation through a captured, canonical graph
  NodeRef r = b_reduce(Op::ReduceSum, s, {1}, false);  // [1*10+2*20, 3*10+4*20] = [50, 110]
  Capture cap = capture({r.get()});
  Graph g = canonicalize(cap);
  verify(g);
  std::vector<BufferRef> params;
  for (auto* n : cap.data_leaves) params.push_back(n->data);
  auto out = ref_run(g, params, host_device());
  CHECK_EQ(out.size(), 1u);
  CHECK_NEAR(out[0]->as<float>()[0], 50.0, 0);
  CHECK_NEAR(out[0]->as<float>()[1], 110.0, 0);

  // fingerprints ignore data but see shapes
  NodeRef x2 = data_f32({2, 2}, {5, 6, 7, 8});
  NodeRef row2 = data_f32({2}, {0, 0});
  Capture cap2 = capture({b_reduce(Op::ReduceSum, b_binary(Op::Mul, x2, row2), {1}, false).get()});
  CHECK_EQ(cap.fingerprint, cap2.fingerprint);
  CHECK_EQ(cap.fingerprint2, cap2.fingerprint2);
  NodeRef x3 = data_f32({1, 2}, {5, 6});
  Capture cap3 = capture({b_reduce(Op::ReduceSum, b_binary(Op::Mul, x3, row2), {1}, false).get()});
  CHECK(cap.fingerprint != cap3.fingerprint);

  // text round trip: print -> parse -> print is identical
  std::string t1 = print_graph(g);
  Graph g2 = parse_graph(t1);
  verify(g2);
  CHECK_EQ(print_graph(g2), t1);
  const char* text =
      "%p = parameter() {dtype=f32, index=0, shape=[4,3]} : f32[4,3]\n"
      "%w = parameter() {dtype=f32, index=1, shape=[3,2]} : f32[3,2]\n"
      "%d = dot_general(%p, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[4,2]\n"
      "%c = full() {dtype=f32, shape=[4,2], value=0.5} : f32[4,2]\n"
      "%e = add(%d, %c) : f32[4,2]\n"
      "%m = reduce_max(%e) {axes=[1], keepdims=1} : f32[4,1]\n"
      "return %e, %m\n";
  Graph g3 = parse_graph(text);
  verify(g3);
  CHECK_EQ(g3.params.size(), 2u);
  CHECK_EQ(print_graph(parse_graph(print_graph(g3))), print_graph(g3));
  err = error_of([&] { parse_graph("%a = parameter() {dtype=f32, index=0, shape=[2]} : f32[3]\nreturn %a\n"); });
  CHECK(err.find("annotated") != std::string::npos);
  err = error_of([&] { parse_graph("%a = nosuchop() : f32[3]\nreturn %a\n"); });
  CHECK(err.find("unknown op") != std::string::npos);

  // a deep chain is destroyed without recursion
  {
    NodeRef c = x;
    for (int i = 0; i < 200000; ++i) c = b_unary(Op::Neg, c);
  }
  return check_finish();
}
