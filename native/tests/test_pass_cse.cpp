// test_pass_cse.cpp - CSE: commutative operands are canonicalized so a+b and b+a merge, and
// nodes that become identical after a rewrite are listed once.
#include "tests/fusion_util.h"
using namespace jxla_test;

int main() {
  Graph g = parse_graph(
      "%x = parameter() {dtype=f32, index=0, shape=[3]} : f32[3]\n"
      "%y = parameter() {dtype=f32, index=1, shape=[3]} : f32[3]\n"
      "%a = add(%x, %y) : f32[3]\n"
      "%b = add(%y, %x) : f32[3]\n"
      "%c = mul(%a, %b) : f32[3]\n"
      "%d = sub(%y, %x) : f32[3]\n"
      "return %c, %d\n");
  auto cse = make_cse_pass();
  CHECK(cse->run(g));
  make_dce_pass()->run(g);
  verify(g);
  CHECK_EQ(print_graph(g),
           std::string("%0 = parameter() {dtype=f32, index=0, shape=[3]} : f32[3]\n"
                       "%1 = parameter() {dtype=f32, index=1, shape=[3]} : f32[3]\n"
                       "%2 = add(%0, %1) : f32[3]\n"
                       "%3 = mul(%2, %2) : f32[3]\n"
                       "%4 = sub(%1, %0) : f32[3]\n"
                       "return %3, %4\n"));  // sub is not commutative: kept as written
  CHECK(!cse->run(g));
  return check_finish();
}
