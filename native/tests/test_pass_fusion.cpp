// test_pass_fusion.cpp - the fusion pass's plans, checked as printed text: a chain becomes one
// loop kernel, softmax one row kernel, a dot with its bias+activation one dot kernel, a
// producer with a user outside the group is not duplicated, a column reduction and a gather
// stay single reference kernels, and JXLA_FUSION=0 gives one kernel per op.
#include "tests/fusion_util.h"
using namespace jxla_test;

static std::string plan_of(const std::string& text, bool fuse = true) {
  Graph g = parse_graph(text);
  CompileContext ctx;
  ctx.fusion_enabled = fuse;
  make_fusion_pass(&ctx)->run(g);
  return print_plan(g, ctx.plan);
}

int main() {
  const std::string x = "%x = parameter() {dtype=f32, index=0, shape=[4,8]} : f32[4,8]\n";
  // chain: %1 exp, %2 neg, %3 full (inlined), %4 add -> one loop kernel
  std::string chain = x + "%a = exp(%x) : f32[4,8]\n%b = neg(%a) : f32[4,8]\n%c = full() {dtype=f32, shape=[4,8], value=1} : f32[4,8]\n"
                          "%d = add(%b, %c) : f32[4,8]\nreturn %d\n";
  CHECK_EQ(plan_of(chain), std::string("k0 loop(%1,%2,%3,%4) -> %4\n"));
  CHECK_EQ(plan_of(chain, false), std::string("k0 loop(%1) -> %1\nk1 loop(%2) -> %2\nk2 loop(%3,%4) -> %4\n"));
  // softmax over rows: one row kernel
  std::string sm = x + "%m = reduce_max(%x) {axes=[1], keepdims=1} : f32[4,1]\n%bm = broadcast(%m) {dims=[0,1], shape=[4,8]} : f32[4,8]\n"
                       "%z = sub(%x, %bm) : f32[4,8]\n%e = exp(%z) : f32[4,8]\n%s = reduce_sum(%e) {axes=[1], keepdims=1} : f32[4,1]\n"
                       "%bs = broadcast(%s) {dims=[0,1], shape=[4,8]} : f32[4,8]\n%y = div(%e, %bs) : f32[4,8]\nreturn %y\n";
  CHECK_EQ(plan_of(sm), std::string("k0 row(%1,%2,%3,%4,%5,%6,%7) -> %7 rows=4 len=8\n"));
  // a producer that is also returned stays in the kernel as a second output (multi-output)
  std::string shared = x + "%a = exp(%x) : f32[4,8]\n%b = neg(%a) : f32[4,8]\nreturn %a, %b\n";
  CHECK_EQ(plan_of(shared), std::string("k0 loop(%1,%2) -> %2,%1\n"));
  // a producer with a user in another kernel is materialized once, never duplicated
  std::string two = x + "%a = exp(%x) : f32[4,8]\n%b = neg(%a) : f32[4,8]\n%s = reduce_sum(%a) {axes=[0], keepdims=0} : f32[8]\n"
                        "return %b, %s\n";
  CHECK_EQ(plan_of(two), std::string("k0 loop(%1) -> %1\nk1 loop(%2) -> %2\nk2 single(%3) -> %3\n"));
  // dot + bias + relu: one dot kernel; the bias broadcast is a load inside it
  std::string dot = x + "%w = parameter() {dtype=f32, index=1, shape=[8,5]} : f32[8,5]\n%b = parameter() {dtype=f32, index=2, shape=[5]} : f32[5]\n"
                        "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[4,5]\n"
                        "%bb = broadcast(%b) {dims=[1], shape=[4,5]} : f32[4,5]\n%a = add(%d, %bb) : f32[4,5]\n%r = relu(%a) : f32[4,5]\nreturn %r\n";
  CHECK_EQ(plan_of(dot), std::string("k0 dot(%3,%4,%5,%6) -> %6\n"));
  // a reduction over the leading axis and a gather run as single reference kernels
  std::string col = x + "%i = parameter() {dtype=s64, index=1, shape=[3]} : s64[3]\n%s = reduce_sum(%x) {axes=[0], keepdims=0} : f32[8]\n"
                        "%g = gather(%x, %i) {axis=0} : f32[3,8]\n%n = neg(%g) : f32[3,8]\nreturn %s, %n\n";
  CHECK_EQ(plan_of(col), std::string("k0 single(%2) -> %2\nk1 single(%3) -> %3\nk2 loop(%4) -> %4\n"));
  // a transposed operand is a load: the transpose is fused, its operand stays materialized
  std::string tr = x + "%a = exp(%x) : f32[4,8]\n%t = transpose(%a) {perm=[1,0]} : f32[8,4]\n%n = neg(%t) : f32[8,4]\nreturn %n\n";
  CHECK_EQ(plan_of(tr), std::string("k0 loop(%1) -> %1\nk1 loop(%2,%3) -> %3\n"));
  return check_finish();
}
