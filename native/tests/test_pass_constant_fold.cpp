// test_pass_constant_fold.cpp - constant folding: uniform results fold into one full (with the
// dtype's rounding already applied), non-uniform ones (iota, concat of different values) stay.
#include "tests/fusion_util.h"
using namespace jxla_test;

static std::string folded(const std::string& text) {
  Graph g = parse_graph(text);
  make_constant_fold_pass()->run(g);
  make_dce_pass()->run(g);
  verify(g);
  return print_graph(g);
}

int main() {
  // (2 + 3) * 4 over a big shape folds without evaluating 10^6 elements
  CHECK_EQ(folded("%a = full() {dtype=f32, shape=[1000,1000], value=2} : f32[1000,1000]\n"
                  "%b = full() {dtype=f32, shape=[1000,1000], value=3} : f32[1000,1000]\n"
                  "%c = add(%a, %b) : f32[1000,1000]\n"
                  "%d = full() {dtype=f32, shape=[1000,1000], value=4} : f32[1000,1000]\n"
                  "%e = mul(%c, %d) : f32[1000,1000]\nreturn %e\n"),
           std::string("%0 = full() {dtype=f32, shape=[1000,1000], value=20.0} : f32[1000,1000]\nreturn %0\n"));
  // the folded value is the f32-rounded one: 0.1f + 0.2f
  std::string r = folded("%a = full() {dtype=f32, shape=[2], value=0.1} : f32[2]\n%b = full() {dtype=f32, shape=[2], value=0.2} : f32[2]\n"
                         "%c = add(%a, %b) : f32[2]\nreturn %c\n");
  double expect = static_cast<double>(static_cast<float>(static_cast<double>(0.1f) + static_cast<double>(0.2f)));
  CHECK(r.find("value=" + format_double(expect)) != std::string::npos);
  // a reduction of a small constant folds (sum of 3 ones = 3); exp of 0 = 1
  CHECK_EQ(folded("%a = full() {dtype=f32, shape=[2,3], value=1} : f32[2,3]\n%s = reduce_sum(%a) {axes=[1], keepdims=0} : f32[2]\n"
                  "%e = exp(%s) : f32[2]\nreturn %s\n"),
           std::string("%0 = full() {dtype=f32, shape=[2], value=3.0} : f32[2]\nreturn %0\n"));
  // not uniform: iota stays, and concat of different constants stays
  std::string io = folded("%i = iota() {axis=0, dtype=f32, shape=[4]} : f32[4]\n%n = neg(%i) : f32[4]\nreturn %n\n");
  CHECK(io.find("neg") != std::string::npos);
  std::string cc = folded("%a = full() {dtype=f32, shape=[2], value=1} : f32[2]\n%b = full() {dtype=f32, shape=[2], value=2} : f32[2]\n"
                          "%c = concat(%a, %b) {axis=0} : f32[4]\nreturn %c\n");
  CHECK(cc.find("concat") != std::string::npos);
  // integer division by zero folds to the reference's -1
  CHECK_EQ(folded("%a = full() {dtype=s32, shape=[3], value=7} : s32[3]\n%b = full() {dtype=s32, shape=[3], value=0} : s32[3]\n"
                  "%c = div(%a, %b) : s32[3]\nreturn %c\n"),
           std::string("%0 = full() {dtype=s32, shape=[3], value=-1.0} : s32[3]\nreturn %0\n"));
  return check_finish();
}
