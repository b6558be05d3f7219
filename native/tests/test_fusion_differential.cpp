// test_fusion_differential.cpp - fusion is invisible to results: random graphs (fixed seeds) of
// 24-40 ops mixing element-wise ops, broadcasts of row/column vectors, row reductions feeding
// element-wise consumers, column reductions and matmuls, run by the fused executable (fusion on
// and off) and by the reference interpreter. Values are kept O(1) (tanh/sigmoid squashing after
// matmuls and products) so the f32 tolerance is meaningful: rtol 1e-4, atol 1e-4 covers f32
// GEMM/sum rounding (K <= 48 terms of size O(1): about 48 * 6e-8 * sum|terms|) and exp/tanh ulps.
#include "ir/builder.h"
#include "tests/fusion_util.h"
using namespace jxla_test;

static NodeRef param(DType dt, const Shape& s, std::mt19937& rng) {
  BufferRef b = alloc_buffer(dt, s, host_device());
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  for (int64_t i = 0; i < b->numel(); ++i) setf(*b, i, u(rng));
  return make_data(b);
}

static NodeRef dot(const NodeRef& a, const NodeRef& w) {
  Attrs at;
  at.set_ints("lhs_contract", {1});
  at.set_ints("rhs_contract", {0});
  return build(Op::DotGeneral, {a, w}, at);
}

int main() {
  set_pass_verification(true);
  int graphs = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    int64_t R = 3 + rng() % 40, C = 2 + rng() % 48;
    std::vector<NodeRef> vals = {param(DType::F32, {R, C}, rng), param(DType::F32, {R, C}, rng)};
    NodeRef row = param(DType::F32, {C}, rng), col = param(DType::F32, {R, 1}, rng), w = param(DType::F32, {C, C}, rng);
    int nops = 24 + static_cast<int>(rng() % 17);
    auto pick = [&]() { return vals[rng() % vals.size()]; };
    for (int i = 0; i < nops; ++i) {
      NodeRef x = rng() % 10 < 7 ? vals.back() : pick(), y;  // mostly a chain, so most ops stay live
      switch (rng() % 12) {
        case 0: y = b_unary(Op::Neg, x); break;
        case 1: y = b_unary(Op::Tanh, x); break;
        case 2: y = b_unary(Op::Sigmoid, x); break;
        case 3: y = b_unary(Op::Exp, b_unary(Op::Tanh, x)); break;
        case 4: y = b_binary(rng() % 2 ? Op::Add : Op::Sub, x, pick()); break;
        case 5: y = b_unary(Op::Tanh, b_binary(Op::Mul, x, pick())); break;
        case 6: y = b_binary(rng() % 2 ? Op::Max : Op::Min, x, rng() % 2 ? row : col); break;
        case 7: y = b_binary(Op::Div, x, b_binary(Op::Add, b_unary(Op::Abs, pick()), b_full(1.0, DType::F32, {}, host_device()))); break;
        case 8: {  // row reduction consumed element-wise (softmax-like)
          Op r = rng() % 2 ? Op::ReduceSum : Op::ReduceMax;
          y = b_binary(Op::Sub, x, b_reduce(r, x, {1}, true));
          if (r == Op::ReduceSum) y = b_unary(Op::Tanh, y);
          break;
        }
        case 9: y = b_unary(Op::Tanh, dot(x, w)); break;
        case 10: y = b_binary(Op::Add, b_unary(Op::Relu, x), b_reduce(Op::ReduceSum, x, {0}, true)); break;  // column sum
        // sqrt(|x| + 1): sqrt near 0 has an unbounded derivative and would amplify one-ulp
        // differences of its operand beyond any fixed tolerance
        default: {
          NodeRef one = b_full(1.0, DType::F32, {}, host_device());
          y = b_binary(Op::Mul, b_unary(Op::Sqrt, b_binary(Op::Add, b_unary(Op::Abs, x), one)), b_full(0.5, DType::F32, {}, host_device()));
          break;
        }
      }
      vals.push_back(y);
    }
    std::vector<const Node*> roots = {vals.back().get(), vals[vals.size() / 2].get()};
    Capture cap = capture(roots);
    Graph g = canonicalize(cap);
    std::vector<BufferRef> ps;
    for (const Node* n : cap.data_leaves) ps.push_back(n->data);
    size_t ops = 0;
    for (auto& n : g.nodes) ops += n->op != Op::Parameter;
    if (ops < 20) continue;  // too small after dead ops were dropped: not counted
    auto ref = ref_run(g, ps, host_device());
    for (bool fuse : {true, false}) {
      set_fusion_enabled(fuse);
      auto exe = compile(g);
      double err = compare(exe->run(ps), ref, 1e-4, 1e-4);
      if (!CHECK(err <= 1.0)) std::fprintf(stderr, "seed %u fuse %d: error ratio %g\n%s", seed, fuse, err, exe->describe().c_str());
    }
    ++graphs;
  }
  set_fusion_enabled(true);
  std::printf("%d random graphs of >= 20 ops compared\n", graphs);
  CHECK(graphs >= 30);
  return check_finish();
}
