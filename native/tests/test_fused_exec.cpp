// test_fused_exec.cpp - the fused host executable: kernel counts of the target graphs
// (8-op chain -> 1, softmax -> <= 2, layer norm -> <= 2, matmul+bias+gelu -> 1, 3-layer MLP
// -> 3), their results against the reference interpreter, and JXLA_FUSION=0 (one kernel per op)
// giving the same results. Tolerances: element-wise f32 arithmetic is exact against the
// reference (correctly rounded ops); exp/erf differ by a few ulp (rtol 1e-5); GEMMs with K <= 256
// accumulate in f32 (bound K*eps*sum|a||b|: atol 1e-4 for O(1) data).
#include "tests/fusion_util.h"

using namespace jxla_test;

static const char* kChain =
    "%x = parameter() {dtype=f32, index=0, shape=[1000,37]} : f32[1000,37]\n"
    "%y = parameter() {dtype=f32, index=1, shape=[1000,37]} : f32[1000,37]\n"
    "%h = full() {dtype=f32, shape=[1000,37], value=0.5} : f32[1000,37]\n"
    "%two = full() {dtype=f32, shape=[1000,37], value=2} : f32[1000,37]\n"
    "%one = full() {dtype=f32, shape=[1000,37], value=1} : f32[1000,37]\n"
    "%a = mul(%x, %y) : f32[1000,37]\n"
    "%b = add(%a, %h) : f32[1000,37]\n"
    "%c = mul(%b, %two) : f32[1000,37]\n"
    "%d = relu(%c) : f32[1000,37]\n"
    "%e = neg(%d) : f32[1000,37]\n"
    "%f = abs(%e) : f32[1000,37]\n"
    "%g = add(%f, %one) : f32[1000,37]\n"
    "%r = sqrt(%g) : f32[1000,37]\n"
    "return %r\n";

// broadcast one-element inputs (scalar-operand loops, both operand orders, a splat read as an
// array by select/clamp) on an output of 32 MiB, which is streamed with non-temporal stores;
// every op is exact, so fused == reference bit for bit
static const char* kScalarsBig =
    "%x = parameter() {dtype=f32, index=0, shape=[2048,4096]} : f32[2048,4096]\n"
    "%s = parameter() {dtype=f32, index=1, shape=[]} : f32[]\n"
    "%t = parameter() {dtype=f32, index=2, shape=[1,1]} : f32[1,1]\n"
    "%p = parameter() {dtype=bool, index=3, shape=[]} : bool[]\n"
    "%bs = broadcast(%s) {dims=[], shape=[2048,4096]} : f32[2048,4096]\n"
    "%bt = broadcast(%t) {dims=[0,1], shape=[2048,4096]} : f32[2048,4096]\n"
    "%bp = broadcast(%p) {dims=[], shape=[2048,4096]} : bool[2048,4096]\n"
    "%a = sub(%bs, %x) : f32[2048,4096]\n"
    "%b = div(%a, %bt) : f32[2048,4096]\n"
    "%c = max(%bs, %b) : f32[2048,4096]\n"
    "%d = select(%bp, %c, %bt) : f32[2048,4096]\n"
    "%e = clamp(%bt, %d, %bs) : f32[2048,4096]\n"
    "%f = mul(%e, %x) : f32[2048,4096]\n"
    "%g = lt(%f, %bs) : bool[2048,4096]\n"
    "%r = select(%g, %f, %a) : f32[2048,4096]\n"
    "return %r\n";

static const char* kSoftmax =
    "%x = parameter() {dtype=f32, index=0, shape=[64,300]} : f32[64,300]\n"
    "%m = reduce_max(%x) {axes=[1], keepdims=1} : f32[64,1]\n"
    "%bm = broadcast(%m) {dims=[0,1], shape=[64,300]} : f32[64,300]\n"
    "%z = sub(%x, %bm) : f32[64,300]\n"
    "%e = exp(%z) : f32[64,300]\n"
    "%s = reduce_sum(%e) {axes=[1], keepdims=1} : f32[64,1]\n"
    "%bs = broadcast(%s) {dims=[0,1], shape=[64,300]} : f32[64,300]\n"
    "%y = div(%e, %bs) : f32[64,300]\n"
    "return %y\n";

static const char* kLayerNorm =
    "%x = parameter() {dtype=f32, index=0, shape=[32,8,96]} : f32[32,8,96]\n"
    "%g = parameter() {dtype=f32, index=1, shape=[96]} : f32[96]\n"
    "%b = parameter() {dtype=f32, index=2, shape=[96]} : f32[96]\n"
    "%s = reduce_sum(%x) {axes=[2], keepdims=1} : f32[32,8,1]\n"
    "%inv = full() {dtype=f32, shape=[32,8,1], value=0.010416666666666666} : f32[32,8,1]\n"
    "%mean = mul(%s, %inv) : f32[32,8,1]\n"
    "%bmean = broadcast(%mean) {dims=[0,1,2], shape=[32,8,96]} : f32[32,8,96]\n"
    "%xc = sub(%x, %bmean) : f32[32,8,96]\n"
    "%sq = mul(%xc, %xc) : f32[32,8,96]\n"
    "%ss = reduce_sum(%sq) {axes=[2], keepdims=1} : f32[32,8,1]\n"
    "%var = mul(%ss, %inv) : f32[32,8,1]\n"
    "%eps = full() {dtype=f32, shape=[32,8,1], value=1e-5} : f32[32,8,1]\n"
    "%ve = add(%var, %eps) : f32[32,8,1]\n"
    "%rs = rsqrt(%ve) : f32[32,8,1]\n"
    "%brs = broadcast(%rs) {dims=[0,1,2], shape=[32,8,96]} : f32[32,8,96]\n"
    "%n = mul(%xc, %brs) : f32[32,8,96]\n"
    "%bg = broadcast(%g) {dims=[2], shape=[32,8,96]} : f32[32,8,96]\n"
    "%bb = broadcast(%b) {dims=[2], shape=[32,8,96]} : f32[32,8,96]\n"
    "%ng = mul(%n, %bg) : f32[32,8,96]\n"
    "%y = add(%ng, %bb) : f32[32,8,96]\n"
    "return %y\n";

static const char* kMatmulBiasGelu =
    "%x = parameter() {dtype=f32, index=0, shape=[48,64]} : f32[48,64]\n"
    "%w = parameter() {dtype=f32, index=1, shape=[64,80]} : f32[64,80]\n"
    "%b = parameter() {dtype=f32, index=2, shape=[80]} : f32[80]\n"
    "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[48,80]\n"
    "%bb = broadcast(%b) {dims=[1], shape=[48,80]} : f32[48,80]\n"
    "%a = add(%d, %bb) : f32[48,80]\n"
    "%y = gelu(%a) : f32[48,80]\n"
    "return %y\n";

// dot epilogues whose add is folded into the GEMM (C prefilled, beta = 1) and near misses that
// must not fold: bias first, column bias (stride-0 rows), residual of the dot's shape, a
// transposed operand, the sum as the root (no epilogue pass), the dot read twice, the sum
// returned next to the root
static const char* kDotSums[] = {
    "%x = parameter() {dtype=f32, index=0, shape=[70,96]} : f32[70,96]\n"
    "%w = parameter() {dtype=f32, index=1, shape=[96,50]} : f32[96,50]\n"
    "%b = parameter() {dtype=f32, index=2, shape=[50]} : f32[50]\n"
    "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[70,50]\n"
    "%bb = broadcast(%b) {dims=[1], shape=[70,50]} : f32[70,50]\n"
    "%a = add(%bb, %d) : f32[70,50]\n"
    "%y = relu(%a) : f32[70,50]\n"
    "return %y\n",
    "%x = parameter() {dtype=f32, index=0, shape=[70,96]} : f32[70,96]\n"
    "%w = parameter() {dtype=f32, index=1, shape=[96,50]} : f32[96,50]\n"
    "%b = parameter() {dtype=f32, index=2, shape=[70,1]} : f32[70,1]\n"
    "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[70,50]\n"
    "%bb = broadcast(%b) {dims=[0,1], shape=[70,50]} : f32[70,50]\n"
    "%a = add(%d, %bb) : f32[70,50]\n"
    "%y = mul(%a, %bb) : f32[70,50]\n"
    "return %y\n",
    "%x = parameter() {dtype=f32, index=0, shape=[96,70]} : f32[96,70]\n"
    "%w = parameter() {dtype=f32, index=1, shape=[96,50]} : f32[96,50]\n"
    "%r = parameter() {dtype=f32, index=2, shape=[70,50]} : f32[70,50]\n"
    "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[0], rhs_batch=[], rhs_contract=[0]} : f32[70,50]\n"
    "%y = add(%d, %r) : f32[70,50]\n"
    "return %y\n",
    "%x = parameter() {dtype=f32, index=0, shape=[70,96]} : f32[70,96]\n"
    "%w = parameter() {dtype=f32, index=1, shape=[96,50]} : f32[96,50]\n"
    "%b = parameter() {dtype=f32, index=2, shape=[50]} : f32[50]\n"
    "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[70,50]\n"
    "%bb = broadcast(%b) {dims=[1], shape=[70,50]} : f32[70,50]\n"
    "%a = add(%d, %bb) : f32[70,50]\n"
    "%m = mul(%d, %d) : f32[70,50]\n"
    "%y = sub(%a, %m) : f32[70,50]\n"
    "return %y\n",
    "%x = parameter() {dtype=f32, index=0, shape=[70,96]} : f32[70,96]\n"
    "%w = parameter() {dtype=f32, index=1, shape=[96,50]} : f32[96,50]\n"
    "%b = parameter() {dtype=f32, index=2, shape=[50]} : f32[50]\n"
    "%d = dot_general(%x, %w) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[70,50]\n"
    "%bb = broadcast(%b) {dims=[1], shape=[70,50]} : f32[70,50]\n"
    "%a = add(%d, %bb) : f32[70,50]\n"
    "%y = relu(%a) : f32[70,50]\n"
    "return %y, %a\n",
};

static std::string mlp_text() {
  std::string t =
      "%x = parameter() {dtype=f32, index=0, shape=[16,78]} : f32[16,78]\n"
      "%w1 = parameter() {dtype=f32, index=1, shape=[78,100]} : f32[78,100]\n"
      "%b1 = parameter() {dtype=f32, index=2, shape=[100]} : f32[100]\n"
      "%w2 = parameter() {dtype=f32, index=3, shape=[100,100]} : f32[100,100]\n"
      "%b2 = parameter() {dtype=f32, index=4, shape=[100]} : f32[100]\n"
      "%w3 = parameter() {dtype=f32, index=5, shape=[100,10]} : f32[100,10]\n"
      "%b3 = parameter() {dtype=f32, index=6, shape=[10]} : f32[10]\n"
      "%d1 = dot_general(%x, %w1) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[16,100]\n"
      "%bb1 = broadcast(%b1) {dims=[1], shape=[16,100]} : f32[16,100]\n"
      "%a1 = add(%d1, %bb1) : f32[16,100]\n"
      "%h1 = relu(%a1) : f32[16,100]\n"
      "%d2 = dot_general(%h1, %w2) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[16,100]\n"
      "%bb2 = broadcast(%b2) {dims=[1], shape=[16,100]} : f32[16,100]\n"
      "%a2 = add(%d2, %bb2) : f32[16,100]\n"
      "%h2 = relu(%a2) : f32[16,100]\n"
      "%d3 = dot_general(%h2, %w3) {lhs_batch=[], lhs_contract=[1], rhs_batch=[], rhs_contract=[0]} : f32[16,10]\n"
      "%bb3 = broadcast(%b3) {dims=[1], shape=[16,10]} : f32[16,10]\n"
      "%y = add(%d3, %bb3) : f32[16,10]\n"
      "return %y\n";
  return t;
}

static void check_graph(const std::string& name, const std::string& text, int64_t max_kernels, int64_t unfused_kernels,
                        double atol, double rtol) {
  Graph g = parse_graph(text);
  auto params = random_params(g, 42);
  auto ref = ref_run(g, params, host_device());
  set_fusion_enabled(true);
  auto exe = compile(g);
  auto out = exe->run(params);
  double err = compare(out, ref, atol, rtol);
  std::printf("%s: %lld kernels, error ratio %.3g\n", name.c_str(), static_cast<long long>(exe->kernel_count()), err);
  CHECK(exe->kernel_count() <= max_kernels);
  CHECK(err <= 1.0);
  set_fusion_enabled(false);
  auto exe0 = compile(g);
  CHECK_EQ(exe0->kernel_count(), unfused_kernels);
  CHECK(compare(exe0->run(params), ref, atol, rtol) <= 1.0);
  set_fusion_enabled(true);
  // a second run with new data reuses the executable
  auto params2 = random_params(g, 7);
  CHECK(compare(exe->run(params2), ref_run(g, params2, host_device()), atol, rtol) <= 1.0);
}

int main() {
  set_pass_verification(true);
  check_graph("chain8", kChain, 1, 8, 0, 0);  // f32 + * sqrt ... are exact
  check_graph("softmax", kSoftmax, 2, 7, 1e-7, 1e-5);
  check_graph("layernorm", kLayerNorm, 2, 15, 1e-5, 1e-5);
  check_graph("matmul_bias_gelu", kMatmulBiasGelu, 1, 4, 1e-4, 1e-5);
  check_graph("mlp3", mlp_text(), 3, 11, 1e-4, 1e-5);
  {  // multi-output: every intermediate of the chain returned (as a lazy trace does) -> 1 kernel
    std::string t = kChain;
    t.replace(t.find("return %r"), std::string::npos, "return %r, %a, %b, %c, %d, %e, %f, %g\n");
    Graph g = parse_graph(t);
    auto params = random_params(g, 11);
    auto exe = compile(g);
    CHECK_EQ(exe->kernel_count(), 1);
    CHECK(compare(exe->run(params), ref_run(g, params, host_device()), 0, 0) <= 0);
    // softmax with its intermediates returned, and a dot whose raw result is also returned
    std::string s = kSoftmax;
    s.replace(s.find("return %y"), std::string::npos, "return %y, %e, %s, %m\n");
    Graph gs = parse_graph(s);
    auto ps = random_params(gs, 12);
    auto es = compile(gs);
    CHECK(es->kernel_count() <= 2);
    CHECK(compare(es->run(ps), ref_run(gs, ps, host_device()), 1e-7, 1e-5) <= 1.0);
    std::string d = kMatmulBiasGelu;
    d.replace(d.find("return %y"), std::string::npos, "return %y, %d, %a\n");
    Graph gd = parse_graph(d);
    auto pd = random_params(gd, 13);
    auto ed = compile(gd);
    CHECK_EQ(ed->kernel_count(), 1);
    CHECK(compare(ed->run(pd), ref_run(gd, pd, host_device()), 1e-4, 1e-5) <= 1.0);
  }
  {  // a 40-op chain with overlapping live ranges and splatted scalars: slots are reused
     // (linear scan) and splats pinned; results bit-identical to the reference (+ - * only)
    std::string t = "%x = parameter() {dtype=f32, index=0, shape=[300,100]} : f32[300,100]\n"
                    "%s0 = parameter() {dtype=f32, index=1, shape=[]} : f32[]\n"
                    "%s1 = parameter() {dtype=f32, index=2, shape=[]} : f32[]\n"
                    "%b0 = broadcast(%s0) {dims=[], shape=[300,100]} : f32[300,100]\n"
                    "%b1 = broadcast(%s1) {dims=[], shape=[300,100]} : f32[300,100]\n"
                    "%v0 = mul(%x, %b0) : f32[300,100]\n%v1 = add(%v0, %x) : f32[300,100]\n";
    const char* ops[3] = {"add", "sub", "mul"};
    for (int i = 2; i < 40; ++i) {
      std::string a = "%v" + std::to_string(i - 1), b = i % 4 == 0 ? "%b1" : i % 4 == 1 ? "%x" : "%v" + std::to_string(i - 2);
      if (i % 7 == 0) b = "%b0";
      t += "%v" + std::to_string(i) + " = " + ops[i % 3] + "(" + a + ", " + b + ") : f32[300,100]\n";
    }
    t += "return %v39\n";
    Graph g = parse_graph(t);
    auto params = random_params(g, 21, -1.0, 1.0);
    auto exe = compile(g);
    CHECK_EQ(exe->kernel_count(), 1);
    CHECK(compare(exe->run(params), ref_run(g, params, host_device()), 0, 0) <= 0);
    setf(*params[1], 0, 0.75);  // a rerun of the cached executable sees the new scalar
    CHECK(compare(exe->run(params), ref_run(g, params, host_device()), 0, 0) <= 0);
  }
  {  // one-element broadcasts and a streamed 32 MiB output; also with the intermediates returned
    Graph g = parse_graph(kScalarsBig);
    for (int variant = 0; variant < 2; ++variant) {
      auto params = random_params(g, 21 + variant);
      setf(*params[3], 0, variant);  // both select branches
      auto exe = compile(g);
      CHECK_EQ(exe->kernel_count(), 1);
      CHECK(compare(exe->run(params), ref_run(g, params, host_device()), 0, 0) <= 0);
    }
    std::string t = kScalarsBig;
    t.replace(t.find("return %r"), std::string::npos, "return %r, %a, %d\n");
    Graph gm = parse_graph(t);
    auto pm = random_params(gm, 23);
    auto em = compile(gm);
    CHECK_EQ(em->kernel_count(), 1);
    CHECK(compare(em->run(pm), ref_run(gm, pm, host_device()), 0, 0) <= 0);
  }
  {  // folded dot sums against the reference (GEMM tolerance: K = 96, O(1) data)
    int i = 0;
    for (const char* text : kDotSums) {
      Graph g = parse_graph(text);
      auto params = random_params(g, 31 + i++);
      auto exe = compile(g);
      CHECK_EQ(exe->kernel_count(), 1);
      CHECK(compare(exe->run(params), ref_run(g, params, host_device()), 1e-4, 1e-5) <= 1.0);
    }
  }
  {  // exact kernel counts of the fused plans
    Graph g = parse_graph(kChain);
    CHECK_EQ(compile(g)->kernel_count(), 1);
    CHECK_EQ(compile(parse_graph(mlp_text()))->kernel_count(), 3);
    CHECK_EQ(compile(parse_graph(kMatmulBiasGelu))->kernel_count(), 1);
  }
  return check_finish();
}
