// test_pass_dce.cpp - dead code elimination, checked on the printed text IR.
#include "tests/fusion_util.h"
using namespace jxla_test;

int main() {
  Graph g = parse_graph(
      "%x = parameter() {dtype=f32, index=0, shape=[4]} : f32[4]\n"
      "%y = parameter() {dtype=f32, index=1, shape=[4]} : f32[4]\n"
      "%dead = exp(%x) : f32[4]\n"
      "%dead2 = add(%dead, %y) : f32[4]\n"
      "%r = neg(%x) : f32[4]\n"
      "return %r\n");
  auto p = make_dce_pass();
  CHECK(p->run(g));
  verify(g);
  CHECK_EQ(print_graph(g),
           std::string("%0 = parameter() {dtype=f32, index=0, shape=[4]} : f32[4]\n"
                       "%1 = parameter() {dtype=f32, index=1, shape=[4]} : f32[4]\n"
                       "%2 = neg(%0) : f32[4]\n"
                       "return %2\n"));
  CHECK(!p->run(g));  // a fixed point: nothing more to remove, unused parameters stay
  return check_finish();
}
