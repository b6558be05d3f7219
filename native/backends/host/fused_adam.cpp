// fused_adam.cpp - see fused_adam.h: matching the Adam update in a fused kernel and its
// hand-fused loop (AVX2 when the CPU has it and JXLA_ISA does not force sse2, else a scalar
// loop). Neither variant is compiled with FMA enabled, so no multiply-add is ever contracted:
// every operation rounds exactly as in the IR.
#include "backends/host/fused_adam.h"
#include <immintrin.h>
#include <cstring>
#include <unordered_set>
#include "backends/host/fused_ops.h"

namespace jxla {

namespace {
const Node* arg(const Node* n, int i) { return n->inputs[static_cast<size_t>(i)].get(); }

struct Matcher {
  const AdamClassify& classify;
  std::unordered_set<const Node*> members;  // the kernel's nodes: the pattern never leaves them
  std::unordered_set<const Node*> covered;  // pattern nodes and scalar operands

  bool is(const Node* n, Op op) const { return n->op == op && n->dtype == DType::F32 && members.count(n); }

  bool scalar(const Node* n, AdamSrc* s) {
    AdamSrc t;
    if (!classify(n, &t) || t.kind != AdamSrc::Scalar) return false;
    if (s) *s = t;
    covered.insert(n);
    return true;
  }
  bool stream(const Node* n, AdamSrc* s) {
    AdamSrc t;
    if (!classify(n, &t) || t.kind == AdamSrc::Scalar) return false;
    *s = t;
    covered.insert(n);  // a member stream (a reshape of an input) is part of the pattern
    return true;
  }
  // n = op(x, S) or op(S, x) with S a scalar and x not: *x = the other operand
  bool with_scalar(const Node* n, Op op, AdamSrc* s, const Node** x) {
    if (!is(n, op)) return false;
    for (int i = 0; i < 2; ++i) {
      if (scalar(arg(n, 1 - i), s) && !scalar(arg(n, i), nullptr)) {
        *x = arg(n, i);
        covered.insert(n);
        return true;
      }
    }
    return false;
  }
};
}  // namespace

bool match_adam(const Kernel& k, const AdamClassify& classify, AdamPlan* plan) {
  if (k.outputs.empty() || k.kind == Kernel::Row || k.kind == Kernel::Single) return false;
  Matcher mt{classify, {k.nodes.begin(), k.nodes.end()}, {}};
  auto is = [&](const Node* n, Op op) { return mt.is(n, op); };
  AdamPlan pl;
  // p' = p - lr * (n / q)
  const Node* R = k.outputs[0];
  if (!is(R, Op::Sub) || !mt.stream(arg(R, 0), &pl.p)) return false;
  mt.covered.insert(R);
  const Node *D, *M2, *SQ, *V2;
  if (!mt.with_scalar(arg(R, 1), Op::Mul, &pl.lr, &D) || !is(D, Op::Div)) return false;
  mt.covered.insert(D);
  // n = m' * s1, q = sqrt(v' * s2) + eps
  if (!mt.with_scalar(arg(D, 0), Op::Mul, &pl.s1, &M2) || !is(M2, Op::Add)) return false;
  if (!mt.with_scalar(arg(D, 1), Op::Add, &pl.eps, &SQ) || !is(SQ, Op::Sqrt)) return false;
  mt.covered.insert(SQ);
  if (!mt.with_scalar(arg(SQ, 0), Op::Mul, &pl.s2, &V2) || !is(V2, Op::Add)) return false;
  mt.covered.insert(M2);
  mt.covered.insert(V2);
  // v' = v*b2 + (g*g)*c2: the term whose operand is a square names g
  const Node* gsq_term = nullptr;
  const Node* gnode = nullptr;
  for (int i = 0; i < 2 && !gnode; ++i) {
    const Node* x;
    AdamSrc c2;
    if (!mt.with_scalar(arg(V2, i), Op::Mul, &c2, &x)) return false;
    if (is(x, Op::Mul) && arg(x, 0) == arg(x, 1) && mt.stream(arg(x, 0), &pl.g)) {
      gnode = arg(x, 0);
      pl.c2 = c2;
      gsq_term = x;
      const Node* vn;
      if (!mt.with_scalar(arg(V2, 1 - i), Op::Mul, &pl.b2, &vn) || !mt.stream(vn, &pl.v)) return false;
    }
  }
  if (!gnode) return false;
  mt.covered.insert(gsq_term);
  // m' = m*b1 + g*c1
  const Node *x0, *x1;
  AdamSrc s0, s1;
  if (!mt.with_scalar(arg(M2, 0), Op::Mul, &s0, &x0) || !mt.with_scalar(arg(M2, 1), Op::Mul, &s1, &x1)) return false;
  const Node* mnode;
  if (x0 == gnode && x1 != gnode) { pl.c1 = s0; pl.b1 = s1; mnode = x1; }
  else if (x1 == gnode && x0 != gnode) { pl.c1 = s1; pl.b1 = s0; mnode = x0; }
  else return false;
  if (!mt.stream(mnode, &pl.m)) return false;
  // nothing else may be computed in the kernel, and it writes only p', m', v'
  for (const Node* n : k.nodes)
    if (!mt.covered.count(n) && n != k.dot) return false;
  for (size_t i = 0; i < k.outputs.size(); ++i) {
    const Node* o = k.outputs[i];
    int idx = static_cast<int>(i);
    if (o == R) pl.out_p = idx;
    else if (o == M2) pl.out_m = idx;
    else if (o == V2) pl.out_v = idx;
    else return false;
  }
  *plan = pl;
  return true;
}

namespace {
// The element formula, shared by the scalar loop and the vector loop's tail.
inline void adam_one(const float* const in[4], const float s[8], float* const out[3], int64_t i) {
  float g = in[3][i];
  float m2 = in[1][i] * s[0] + g * s[1];
  float v2 = in[2][i] * s[3] + (g * g) * s[4];
  float p2 = in[0][i] - s[7] * ((m2 * s[2]) / (__builtin_sqrtf(v2 * s[5]) + s[6]));
  if (out[1]) out[1][i] = m2;
  if (out[2]) out[2][i] = v2;
  if (out[0]) out[0][i] = p2;
}

void adam_scalar(const float* const in[4], const float s[8], float* const out[3], int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) adam_one(in, s, out, i);
}

// AVX2 without FMA: _mm256_mul_ps + _mm256_add_ps stay two rounded operations.
__attribute__((target("avx2"))) void adam_avx2(const float* const in[4], const float s[8], float* const out[3], int64_t i0,
                                               int64_t i1) {
  const __m256 b1 = _mm256_set1_ps(s[0]), c1 = _mm256_set1_ps(s[1]), s1 = _mm256_set1_ps(s[2]), b2 = _mm256_set1_ps(s[3]),
               c2 = _mm256_set1_ps(s[4]), s2 = _mm256_set1_ps(s[5]), eps = _mm256_set1_ps(s[6]), lr = _mm256_set1_ps(s[7]);
  const float *P = in[0], *M = in[1], *V = in[2], *G = in[3];
  float *Po = out[0], *Mo = out[1], *Vo = out[2];
  int64_t i = i0;
  for (; i + 8 <= i1; i += 8) {
    // every input is loaded before any store: an output may alias an input (in place, or the
    // GEMM result the dot kernel's root buffer holds)
    __m256 g = _mm256_loadu_ps(G + i), p = _mm256_loadu_ps(P + i), m = _mm256_loadu_ps(M + i), v = _mm256_loadu_ps(V + i);
    __m256 m2 = _mm256_add_ps(_mm256_mul_ps(m, b1), _mm256_mul_ps(g, c1));
    __m256 v2 = _mm256_add_ps(_mm256_mul_ps(v, b2), _mm256_mul_ps(_mm256_mul_ps(g, g), c2));
    __m256 q = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(v2, s2)), eps);
    __m256 p2 = _mm256_sub_ps(p, _mm256_mul_ps(lr, _mm256_div_ps(_mm256_mul_ps(m2, s1), q)));
    if (Mo) _mm256_storeu_ps(Mo + i, m2);
    if (Vo) _mm256_storeu_ps(Vo + i, v2);
    if (Po) _mm256_storeu_ps(Po + i, p2);
  }
  adam_scalar(in, s, out, i, i1);
}

bool use_avx2() {
  static const bool on = [] {
    __builtin_cpu_init();
    // the fused engine's ISA choice (JXLA_ISA may force sse2): its avx2 and avx512 tables imply AVX2
    return std::strcmp(fused_ops().isa, "sse2") != 0 && __builtin_cpu_supports("avx2");
  }();
  return on;
}
}  // namespace

void run_adam(const float* const in[4], const float s[8], float* const out[3], int64_t i0, int64_t i1) {
  if (use_avx2()) adam_avx2(in, s, out, i0, i1);
  else adam_scalar(in, s, out, i0, i1);
}

}  // namespace jxla
