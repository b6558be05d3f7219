// test_profile.cpp - JXLA_PROFILE=1 (fused_exec.cpp): a host executable sums each kernel's wall
// time over its runs and Executable::profile() reports one line per kernel. Checked here: the
// summary line names the kernel and run counts, there is exactly one line per kernel in plan
// order, a dot kernel names its operand shapes, every time is non-negative and the shares add
// up to 100% (each is printed to 0.1%). The variable is read once, so it is set before the first
// executable is built.
#include <cstdlib>
#include <sstream>
#include "tests/fusion_util.h"

using namespace jxla_test;

static const char* kMlp =
    "%x = parameter() {dtype=f32, index=0, shape=[64,96]} : f32[64,96]\n"
    "%w = parameter() {dtype=f32, index=1, shape=[96,32]} : f32[96,32]\n"
    "%b = parameter() {dtype=f32, index=2, shape=[32]} : f32[32]\n"
    "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[64,32]\n"
    "%bb = broadcast(%b) {dims=[1], shape=[64,32]} : f32[64,32]\n"
    "%a = add(%d, %bb) : f32[64,32]\n"
    "%r = relu(%a) : f32[64,32]\n"
    "%s = reduce_sum(%r) {axes=[1], keepdims=0} : f32[64]\n"
    "%e = exp(%s) : f32[64]\n"
    "return %e\n";

int main() {
  setenv("JXLA_PROFILE", "1", 1);
  Graph g = parse_graph(kMlp);
  auto exe = compile(g);
  CHECK_EQ(exe->profile(), std::string());  // nothing ran yet
  auto params = random_params(g, 7, -1, 1);
  for (int i = 0; i < 3; ++i) exe->run(params);
  const std::string p = exe->profile();
  std::istringstream in(p);
  std::string line;
  std::getline(in, line);
  const std::string head = "jxla profile: " + std::to_string(exe->kernel_count()) + " kernels, 3 runs, ";
  CHECK(line.rfind(head, 0) == 0);
  int64_t lines = 0;
  double share = 0;
  bool dot = false;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string k, us, pct, kind;
    double t = -1;
    f >> k >> t >> us >> pct >> kind;
    CHECK_EQ(k, "k" + std::to_string(lines));
    CHECK(t >= 0);
    CHECK_EQ(us, std::string("us"));
    share += std::atof(pct.c_str());
    if (kind == "dot") dot = dot || line.find("dot_general[64,96]x[96,32]") != std::string::npos;
    ++lines;
  }
  CHECK_EQ(lines, exe->kernel_count());
  CHECK(dot);
  CHECK_NEAR(share, 100.0, 0.06 * static_cast<double>(lines) + 1e-9);
  return check_finish();
}
