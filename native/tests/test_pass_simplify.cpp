// test_pass_simplify.cpp - the algebraic simplifier's rules, each checked on printed text IR,
// and results unchanged (reference interpreter before vs after).
#include "tests/fusion_util.h"
using namespace jxla_test;

static std::string simplified(const std::string& text) {
  Graph g = parse_graph(text);
  make_simplify_pass()->run(g);
  make_dce_pass()->run(g);
  verify(g);
  return print_graph(g);
}

static const char* P = "%x = parameter() {dtype=f32, index=0, shape=[2,3]} : f32[2,3]\n";
static const char* P0 = "%0 = parameter() {dtype=f32, index=0, shape=[2,3]} : f32[2,3]\n";

int main() {
  // x + 0, x * 1, x / 1, x - 0 -> x
  CHECK_EQ(simplified(std::string(P) +
                      "%z = full() {dtype=f32, shape=[2,3], value=0} : f32[2,3]\n"
                      "%o = full() {dtype=f32, shape=[2,3], value=1} : f32[2,3]\n"
                      "%a = add(%x, %z) : f32[2,3]\n%b = mul(%o, %a) : f32[2,3]\n%c = div(%b, %o) : f32[2,3]\n"
                      "%d = sub(%c, %z) : f32[2,3]\nreturn %d\n"),
           std::string(P0) + "return %0\n");
  // x * 0 stays for floats (NaN * 0 = NaN) but folds for integers
  std::string fz = simplified(std::string(P) + "%z = full() {dtype=f32, shape=[2,3], value=0} : f32[2,3]\n%a = mul(%x, %z) : f32[2,3]\nreturn %a\n");
  CHECK(fz.find("mul") != std::string::npos);
  CHECK_EQ(simplified("%i = parameter() {dtype=s32, index=0, shape=[4]} : s32[4]\n"
                      "%z = full() {dtype=s32, shape=[4], value=0} : s32[4]\n%a = mul(%i, %z) : s32[4]\nreturn %a\n"),
           std::string("%0 = parameter() {dtype=s32, index=0, shape=[4]} : s32[4]\n"
                       "%1 = full() {dtype=s32, shape=[4], value=0.0} : s32[4]\nreturn %1\n"));
  // neg(neg x), convert to the same dtype, pow(x, 2) -> x * x
  CHECK_EQ(simplified(std::string(P) + "%a = neg(%x) : f32[2,3]\n%b = neg(%a) : f32[2,3]\n%c = convert(%b) {dtype=f32} : f32[2,3]\n"
                                       "%t = full() {dtype=f32, shape=[2,3], value=2} : f32[2,3]\n%p = pow(%c, %t) : f32[2,3]\nreturn %p\n"),
           std::string(P0) + "%1 = mul(%0, %0) : f32[2,3]\nreturn %1\n");
  // a slice of everything is x; a proper slice (offset, stride, smaller) stays
  CHECK_EQ(simplified(std::string(P) + "%a = slice(%x) {limit=[2,3], start=[0,0], stride=[1,1]} : f32[2,3]\n%b = neg(%a) : f32[2,3]\nreturn %b\n"),
           std::string(P0) + "%1 = neg(%0) : f32[2,3]\nreturn %1\n");
  CHECK(simplified(std::string(P) + "%a = slice(%x) {limit=[2,3], start=[0,1], stride=[1,1]} : f32[2,2]\nreturn %a\n").find("slice") != std::string::npos);
  CHECK(simplified(std::string(P) + "%a = slice(%x) {limit=[2,3], start=[0,0], stride=[1,2]} : f32[2,2]\nreturn %a\n").find("slice") != std::string::npos);
  // reshape of reshape, transpose of transpose (identity), broadcast of a scalar constant
  CHECK_EQ(simplified(std::string(P) + "%a = reshape(%x) {shape=[3,2]} : f32[3,2]\n%b = reshape(%a) {shape=[6]} : f32[6]\nreturn %b\n"),
           std::string(P0) + "%1 = reshape(%0) {shape=[6]} : f32[6]\nreturn %1\n");
  CHECK_EQ(simplified(std::string(P) + "%a = transpose(%x) {perm=[1,0]} : f32[3,2]\n%b = transpose(%a) {perm=[1,0]} : f32[2,3]\nreturn %b\n"),
           std::string(P0) + "return %0\n");
  CHECK_EQ(simplified("%c = full() {dtype=f32, shape=[], value=1.5} : f32[]\n%b = broadcast(%c) {dims=[], shape=[2,2]} : f32[2,2]\nreturn %b\n"),
           std::string("%0 = full() {dtype=f32, shape=[2,2], value=1.5} : f32[2,2]\nreturn %0\n"));
  // 3-D transposes compose
  const char* P3 = "%x = parameter() {dtype=f32, index=0, shape=[2,3,4]} : f32[2,3,4]\n";
  const char* P30 = "%0 = parameter() {dtype=f32, index=0, shape=[2,3,4]} : f32[2,3,4]\n";
  std::string t3 = simplified(std::string(P3) + "%a = transpose(%x) {perm=[1,2,0]} : f32[3,4,2]\n%b = transpose(%a) {perm=[2,0,1]} : f32[2,3,4]\n"
                                                "%c = transpose(%b) {perm=[2,1,0]} : f32[4,3,2]\nreturn %c\n");
  CHECK_EQ(t3, std::string(P30) + "%1 = transpose(%0) {perm=[2,1,0]} : f32[4,3,2]\nreturn %1\n");
  // the simplified graph computes what the original did
  std::string src = std::string(P3) + "%a = transpose(%x) {perm=[1,2,0]} : f32[3,4,2]\n%b = transpose(%a) {perm=[1,0,2]} : f32[4,3,2]\n"
                                      "%n = neg(%b) : f32[4,3,2]\n%m = neg(%n) : f32[4,3,2]\nreturn %m\n";
  Graph g0 = parse_graph(src), g1 = parse_graph(src);
  make_simplify_pass()->run(g1);
  auto ps = random_params(g0, 3);
  CHECK(compare(ref_run(g1, ps, host_device()), ref_run(g0, ps, host_device()), 0, 0) <= 0);
  return check_finish();
}
