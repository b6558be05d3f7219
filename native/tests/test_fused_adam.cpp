// test_fused_adam.cpp - the hand-fused Adam update (backends/host/fused_adam.*): the pattern is
// recognized in the graphs optim/Adam.java traces (a loop kernel whose gradient is an input or a
// reshape of one, and a dot kernel whose gradient is the GEMM result, updated in place in the
// root's buffer), in both operand orders; its results equal the reference interpreter's bit for
// bit (the loop performs the same correctly rounded f32 operations, no FMA). Shapes that are
// not multiples of the vector width exercise the scalar tail. Near misses (an extra output, a
// weight-decayed gradient, a missing square) are not matched and still compute the right thing.
#include <string>
#include "runtime/metrics.h"
#include "tests/fusion_util.h"

using namespace jxla_test;

namespace {
std::string shp(int64_t r, int64_t c) { return "[" + std::to_string(r) + "," + std::to_string(c) + "]"; }

// The update as Adam.java traces it. gsrc defines %g; swap flips every commutative operand
// order; extra is appended before the return line, ret lists the returned values.
std::string adam_graph(int64_t r, int64_t c, const std::string& gsrc, bool swap, const std::string& extra = "",
                       const std::string& ret = "%p2, %m2, %v2") {
  std::string n = shp(r, c), t = " : f32" + n + "\n";
  auto bin = [&](const char* op, const char* a, const char* b) {
    return std::string(op) + "(" + (swap ? b : a) + ", " + (swap ? a : b) + ")" + t;
  };
  std::string s;
  const char* names[] = {"p", "m", "v"};
  for (int i = 0; i < 3; ++i)
    s += std::string("%") + names[i] + " = parameter() {dtype=f32, index=" + std::to_string(i) + ", shape=" + n + "}" + t;
  const char* sc[] = {"b1", "c1", "s1", "b2", "c2", "s2", "eps", "lr"};
  for (int i = 0; i < 8; ++i) {
    s += std::string("%") + sc[i] + " = parameter() {dtype=f32, index=" + std::to_string(3 + i) + ", shape=[]} : f32[]\n";
    std::string B = sc[i];
    for (auto& ch : B) ch = static_cast<char>(std::toupper(ch));
    s += "%" + B + " = broadcast(%" + sc[i] + ") {dims=[], shape=" + n + "}" + t;
  }
  s += gsrc;
  s += "%1 = " + bin("mul", "%m", "%B1");
  s += "%2 = " + bin("mul", "%g", "%C1");
  s += "%m2 = " + bin("add", "%1", "%2");
  s += "%3 = " + bin("mul", "%m2", "%S1");
  s += "%4 = " + bin("mul", "%v", "%B2");
  s += "%5 = mul(%g, %g)" + t;
  s += "%6 = " + bin("mul", "%5", "%C2");
  s += "%v2 = " + bin("add", "%4", "%6");
  s += "%7 = " + bin("mul", "%v2", "%S2");
  s += "%8 = sqrt(%7)" + t;
  s += "%9 = " + bin("add", "%8", "%EPS");
  s += "%10 = div(%3, %9)" + t;
  s += "%11 = " + bin("mul", "%LR", "%10");
  s += "%p2 = sub(%p, %11)" + t;
  s += extra;
  s += "return " + ret + "\n";
  return s;
}

std::string g_param(int64_t r, int64_t c) {
  return "%g = parameter() {dtype=f32, index=11, shape=" + shp(r, c) + "} : f32" + shp(r, c) + "\n";
}

// g = reshape of a [1, r*c] input (the bias gradient's reduce_sum output)
std::string g_reshape(int64_t r, int64_t c) {
  return "%g0 = parameter() {dtype=f32, index=11, shape=[1," + std::to_string(r * c) + "]} : f32[1," + std::to_string(r * c) +
         "]\n%g = reshape(%g0) {shape=" + shp(r, c) + "} : f32" + shp(r, c) + "\n";
}

// g = a^T x (the weight gradient) with a [k, r], x [k, c]
std::string g_dot(int64_t r, int64_t c, int64_t k) {
  return "%a = parameter() {dtype=f32, index=11, shape=" + shp(k, r) + "} : f32" + shp(k, r) + "\n%x = parameter() {dtype=f32, index=12, shape=" +
         shp(k, c) + "} : f32" + shp(k, c) + "\n%g = dot_general(%a, %x) {lhs_batch=[], lhs_contract=[0], rhs_batch=[], rhs_contract=[0]} : f32" +
         shp(r, c) + "\n";
}

// Runs g fused and by the reference; returns how many Adam kernels were compiled and whether
// the results are identical (NaN-aware, bit for bit).
int64_t run_case(const std::string& text, bool integer_dot_operands, bool* same) {
  Graph g = parse_graph(text);
  auto ps = random_params(g, 7, 0.05, 1.0);
  if (integer_dot_operands) {
    // small integers: every GEMM sum is exact in f32, so the GEMM equals the reference's dot
    for (size_t i = 11; i < ps.size(); ++i)
      for (int64_t j = 0; j < ps[i]->numel(); ++j) ps[i]->as<float>()[j] = static_cast<float>((j * 7 + i) % 5) - 2.0f;
  }
  int64_t before = counter_get("FusedAdamKernels");
  auto exe = compile(g);
  int64_t matched = counter_get("FusedAdamKernels") - before;
  auto a = exe->run(ps);
  auto b = ref_run(g, ps, host_device());
  *same = a.size() == b.size();
  for (size_t k = 0; *same && k < a.size(); ++k) *same = a[k]->nbytes == b[k]->nbytes && std::memcmp(a[k]->data, b[k]->data, a[k]->nbytes) == 0;
  return matched;
}
}  // namespace

int main() {
  bool same = false;
  // loop kernels: gradient as an input, both operand orders, sizes with a scalar tail
  for (auto rc : {std::pair<int64_t, int64_t>{256, 784}, {37, 29}, {1, 7}, {3, 40000}}) {
    for (bool swap : {false, true}) {
      CHECK_EQ(run_case(adam_graph(rc.first, rc.second, g_param(rc.first, rc.second), swap), false, &same), int64_t(1));
      CHECK(same);
    }
  }
  // the bias form: the gradient is a reshape of a materialized input
  CHECK_EQ(run_case(adam_graph(1, 250, g_reshape(1, 250), false), false, &same), int64_t(1));
  CHECK(same);
  // dot kernels: the GEMM result is the gradient, the update runs in place in the root's buffer
  CHECK_EQ(run_case(adam_graph(256, 784, g_dot(256, 784, 64), false), true, &same), int64_t(1));
  CHECK(same);
  CHECK_EQ(run_case(adam_graph(10, 131, g_dot(10, 131, 9), true), true, &same), int64_t(1));
  CHECK(same);
  // only m' returned besides p' (v' dead): still the pattern, v' not written
  CHECK_EQ(run_case(adam_graph(37, 29, g_param(37, 29), false, "", "%p2, %m2"), false, &same), int64_t(1));
  CHECK(same);

  // near misses: not matched, same results as the reference
  // an intermediate is returned too (it would have to be written)
  CHECK_EQ(run_case(adam_graph(37, 29, g_param(37, 29), false, "", "%p2, %m2, %v2, %10"), false, &same), int64_t(0));
  CHECK(same);
  // L2 weight decay: the gradient is computed in the kernel (g = g0 + p * wd)
  std::string wd = "%g0 = parameter() {dtype=f32, index=11, shape=[37,29]} : f32[37,29]\n"
                   "%wd = parameter() {dtype=f32, index=12, shape=[]} : f32[]\n"
                   "%WD = broadcast(%wd) {dims=[], shape=[37,29]} : f32[37,29]\n"
                   "%pw = mul(%p, %WD) : f32[37,29]\n%g = add(%g0, %pw) : f32[37,29]\n";
  CHECK_EQ(run_case(adam_graph(37, 29, wd, false), false, &same), int64_t(0));
  CHECK(same);
  // g*m instead of g*g in the second moment
  std::string text = adam_graph(37, 29, g_param(37, 29), false);
  std::string from = "%5 = mul(%g, %g)", to = "%5 = mul(%g, %m)";
  text.replace(text.find(from), from.size(), to);
  CHECK_EQ(run_case(text, false, &same), int64_t(0));
  CHECK(same);
  return check_finish();
}
