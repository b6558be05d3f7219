// test_fused_jit.cpp - the AVX2 code generator of element-wise loop kernels (fused_jit.h)
// against the block interpreter (same kernel with the JIT switched off) and the reference
// interpreter (ref_run). Every op the JIT emits is tested on its own, on every pair of special
// values (+-0, +-1, halves, +-inf, NaN, subnormals, +-FLT_MAX, ...) and as array-array and
// scalar-array operands in both orders; then random element-wise chains (multi-output, scalar
// operands, ops outside the JIT's scope that make the kernel fall back) on sizes 1..100 (tails
// shorter than one vector, no full vector at all), 4,099 and 2^24 + 3 (streaming stores + tail).
// Tolerance: none. Every op here is correctly rounded or exact, so results must be identical
// bit for bit; a NaN only has to be a NaN (its payload is unspecified when both operands are NaN).
#include <cfloat>
#include <cstdint>
#include "backends/host/fused_jit.h"
#include "backends/host/fused_kernel.h"
#include "backends/host/denormal.h"
#include "tests/fusion_util.h"

using namespace jxla_test;

namespace {
const float kSpecial[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 3.0f, 1e-40f, -1e-40f,
                          FLT_MIN, FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, NAN, -NAN, 1e-30f, 7.25f, -123.75f,
                          16777217.0f, 0.1f};
constexpr int kS = sizeof(kSpecial) / sizeof(kSpecial[0]);

bool same(float a, float b) {
  if (a != a || b != b) return a != a && b != b;
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

// How results must match the reference interpreter. The JIT must equal the block interpreter bit
// for bit in every case; the interpreter's own known differences from the reference are:
// max/min return y when x == y (so max(-0, +0) = +0 where the reference may give -0): equal as
// values; rsqrt is 1/sqrt in f32, two roundings: 2 ulp; exp is an f32 polynomial: not compared
// here (test_fused_ops covers it).
enum class Ref { Bits, Value, Ulp2, None };

bool matches(float x, float y, Ref m) {
  switch (m) {
    case Ref::Bits: return same(x, y);
    case Ref::Value: return (x != x && y != y) || x == y;
    case Ref::Ulp2: return (x != x && y != y) || x == y || std::fabs(x - y) <= 2.4e-7f * std::fabs(y);
    default: return true;
  }
}

// number of elements that differ
int64_t diffs(const std::vector<BufferRef>& a, const std::vector<BufferRef>& b, Ref m, const char* what, const std::string& ctx) {
  int64_t bad = 0;
  if (a.size() != b.size()) return 1;
  for (size_t k = 0; k < a.size(); ++k)
    for (int64_t i = 0; i < a[k]->numel(); ++i) {
      float x = static_cast<float>(getf(*a[k], i)), y = static_cast<float>(getf(*b[k], i));
      if (!matches(x, y, m)) {
        if (bad < 3) std::fprintf(stderr, "%s: %s\n out %zu [%lld]: %.9g vs %.9g\n", what, ctx.c_str(), k, static_cast<long long>(i), x, y);
        ++bad;
      }
    }
  return bad;
}

// Runs g on ps with the JIT on and off and by the reference. want_jit: 1 the JIT must have run,
// 0 it must not (an op outside its scope), -1 either (several kernels).
void check_graph(const std::string& text, const std::vector<BufferRef>& ps, int want_jit, Ref ref_mode = Ref::Bits) {
  Graph g = parse_graph(text);
  auto exe = compile(g);
  jit_set_enabled(true);
  int64_t runs = fused_jit_runs();
  auto with = exe->run(ps);
  if (want_jit >= 0) CHECK_EQ(fused_jit_runs() > runs, want_jit == 1);
  jit_set_enabled(false);
  runs = fused_jit_runs();
  auto without = exe->run(ps);
  CHECK_EQ(fused_jit_runs(), runs);
  jit_set_enabled(true);
  CHECK_EQ(diffs(with, without, Ref::Bits, "jit vs interpreter", text), 0);
  if (ref_mode != Ref::None) CHECK_EQ(diffs(with, ref_run(g, ps, host_device()), ref_mode, "jit vs reference", text), 0);
}

BufferRef f32(int64_t n) { return alloc_buffer(DType::F32, {n}, host_device()); }
std::string ty(int64_t n) { return "f32[" + std::to_string(n) + "]"; }
std::string sh(int64_t n) { return "[" + std::to_string(n) + "]"; }
std::string param(const char* name, int idx, int64_t n) {
  return std::string("%") + name + " = parameter() {dtype=f32, index=" + std::to_string(idx) + ", shape=" + sh(n) + "} : " + ty(n) + "\n";
}

// x, y over every pair of special values, then a tail of random values (n = kS^2 + 13)
std::vector<BufferRef> pair_params(int64_t* n_out) {
  const int64_t n = kS * kS + 13;
  BufferRef x = f32(n), y = f32(n);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-4, 4);
  for (int64_t i = 0; i < n; ++i) {
    x->as<float>()[i] = i < kS * kS ? kSpecial[i / kS] : u(rng);
    y->as<float>()[i] = i < kS * kS ? kSpecial[i % kS] : u(rng);
  }
  *n_out = n;
  return {x, y};
}

// The expression of one op on (x, y) ending in an f32 value %r.
std::string op_body(const std::string& op, int64_t n, const std::string& x, const std::string& y) {
  const std::string t = ty(n), b = "bool" + sh(n);
  static const char* unary[] = {"neg", "abs", "relu", "sqrt", "rsqrt", "floor", "ceil"};
  for (const char* u : unary)
    if (op == u) return "%r = " + op + "(" + x + ") : " + t + "\n";
  if (op == "add" || op == "sub" || op == "mul" || op == "div" || op == "max" || op == "min")
    return "%r = " + op + "(" + x + ", " + y + ") : " + t + "\n";
  if (op == "eq" || op == "ne" || op == "lt" || op == "le" || op == "gt" || op == "ge")  // bool -> f32 convert
    return "%c = " + op + "(" + x + ", " + y + ") : " + b + "\n%r = convert(%c) {dtype=f32} : " + t + "\n";
  if (op == "ne0")  // f32 -> bool convert, then select
    return "%c = convert(" + x + ") {dtype=bool} : " + b + "\n%r = select(%c, " + x + ", " + y + ") : " + t + "\n";
  if (op == "not")
    return "%c = lt(" + x + ", " + y + ") : " + b + "\n%d = not(%c) : " + b + "\n%r = select(%d, " + x + ", " + y + ") : " + t + "\n";
  if (op == "and" || op == "or" || op == "xor")
    return "%c = lt(" + x + ", " + y + ") : " + b + "\n%d = ge(" + x + ", " + y + ") : " + b + "\n%e = gt(" + x + ", " + y +
           ") : " + b + "\n%f = " + op + "(%c, %e) : " + b + "\n%h = " + op + "(%d, %f) : " + b + "\n%r = select(%h, " + x +
           ", " + y + ") : " + t + "\n";
  if (op == "select") return "%c = le(" + x + ", " + y + ") : " + b + "\n%r = select(%c, " + y + ", " + x + ") : " + t + "\n";
  return "";
}

const char* kOps[] = {"neg", "abs", "relu", "sqrt", "rsqrt", "floor", "ceil", "add", "sub", "mul", "div", "max", "min", "eq",
                      "ne",  "lt",  "le",   "gt",   "ge",    "ne0",   "not",  "and", "or",  "xor", "select"};

void test_each_op() {
  int64_t n;
  auto ps = pair_params(&n);
  for (const char* op : kOps) {
    const std::string o = op;
    const Ref rm = o == "rsqrt" ? Ref::Ulp2 : (o == "max" || o == "min") ? Ref::Value : Ref::Bits;
    // array-array
    check_graph(param("x", 0, n) + param("y", 1, n) + op_body(op, n, "%x", "%y") + "return %r\n", ps, 1, rm);
    // one operand a scalar (a broadcast one-element input), in both orders, for every special
    std::string head = param("x", 0, n) + "%s = parameter() {dtype=f32, index=1, shape=[]} : f32[]\n" +
                       "%bs = broadcast(%s) {dims=[], shape=" + sh(n) + "} : " + ty(n) + "\n";
    for (int order = 0; order < 2; ++order) {
      std::string text = head + op_body(op, n, order ? "%bs" : "%x", order ? "%x" : "%bs") + "return %r\n";
      for (float s : kSpecial) {
        BufferRef sb = alloc_buffer(DType::F32, {}, host_device());
        sb->as<float>()[0] = s;
        check_graph(text, {ps[0], sb}, 1, rm);
      }
    }
  }
  // a constant operand (full) and the 8-op chain of the benchmark
  std::string chain = param("x", 0, n) + param("y", 1, n) + "%h = full() {dtype=f32, shape=" + sh(n) + ", value=0.5} : " + ty(n) +
                      "\n%two = full() {dtype=f32, shape=" + sh(n) + ", value=2} : " + ty(n) + "\n%one = full() {dtype=f32, shape=" +
                      sh(n) + ", value=1} : " + ty(n) + "\n%a = mul(%x, %y) : " + ty(n) + "\n%b = add(%a, %h) : " + ty(n) +
                      "\n%c = mul(%b, %two) : " + ty(n) + "\n%d = relu(%c) : " + ty(n) + "\n%e = neg(%d) : " + ty(n) +
                      "\n%f = abs(%e) : " + ty(n) + "\n%g = add(%f, %one) : " + ty(n) + "\n%r = sqrt(%g) : " + ty(n) + "\nreturn %r\n";
  check_graph(chain, ps, 1);
}

// Ops outside the JIT's scope keep the kernel on the interpreter (results unchanged).
void test_fallback() {
  int64_t n;
  auto ps = pair_params(&n);
  const std::string t = ty(n);
  check_graph(param("x", 0, n) + param("y", 1, n) + "%a = add(%x, %y) : " + t + "\n%r = round(%a) : " + t + "\nreturn %r\n", ps, 0);
  check_graph(param("x", 0, n) + param("y", 1, n) + "%a = mul(%x, %y) : " + t + "\n%r = clamp(%x, %a, %y) : " + t + "\nreturn %r\n", ps, 0,
              Ref::Value);
  // a bool output
  check_graph(param("x", 0, n) + param("y", 1, n) + "%a = mul(%x, %y) : " + t + "\n%r = lt(%a, %y) : bool" + sh(n) + "\nreturn %r\n", ps, 0);
  // two scalar operands of one op
  BufferRef s = alloc_buffer(DType::F32, {}, host_device());
  s->as<float>()[0] = 1.5f;
  check_graph(param("x", 0, n) + "%s = parameter() {dtype=f32, index=1, shape=[]} : f32[]\n%bs = broadcast(%s) {dims=[], shape=" + sh(n) +
                  "} : " + t + "\n%c = lt(%x, %bs) : bool" + sh(n) + "\n%r = select(%c, %bs, %bs) : " + t + "\nreturn %r\n",
              {ps[0], s}, 0);
}

// Random chains of JIT-able ops on three inputs with scalar operands; some values are returned
// too (multi-output). with_unsupported adds exp (the kernel then runs on the interpreter).
std::string random_chain(std::mt19937& rng, int64_t n, bool with_unsupported, int* nout) {
  const std::string t = ty(n), b = "bool" + sh(n);
  std::string s = param("x0", 0, n) + param("x1", 1, n) + param("x2", 2, n) +
                  "%s = parameter() {dtype=f32, index=3, shape=[]} : f32[]\n%v3 = broadcast(%s) {dims=[], shape=" + sh(n) + "} : " + t +
                  "\n%v4 = full() {dtype=f32, shape=" + sh(n) + ", value=-0.75} : " + t + "\n";
  s += "%v0 = add(%x0, %x1) : " + t + "\n%v1 = mul(%x1, %x2) : " + t + "\n%v2 = sub(%x2, %x0) : " + t + "\n";
  int nv = 5;
  std::vector<std::string> outs;
  const int len = 6 + static_cast<int>(rng() % 14);
  auto val = [&](bool scalar_ok) {
    int k = static_cast<int>(rng() % (nv + 3));
    if (k >= nv) k = nv - 1 - static_cast<int>(rng() % 3);  // favour recent values (chains)
    if (!scalar_ok && (k == 3 || k == 4)) k = 0;
    return "%v" + std::to_string(k);
  };
  for (int i = 0; i < len; ++i) {
    std::string d = "%v" + std::to_string(nv);
    int kind = static_cast<int>(rng() % 10);
    static const char* un[] = {"neg", "abs", "relu", "sqrt", "floor", "ceil", "neg"};  // rsqrt: per-op test
    static const char* bin[] = {"add", "sub", "mul", "div", "max", "min"};
    static const char* cmp[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    if (with_unsupported && i == len / 2) {
      s += d + " = exp(" + val(false) + ") : " + t + "\n";
      outs.push_back(d);  // returned, so it stays in the kernel
    }
    else if (kind < 3) s += d + " = " + un[rng() % 7] + "(" + val(false) + ") : " + t + "\n";
    else if (kind < 8) {
      std::string a = val(true), c = val(a != "%v3" && a != "%v4");
      s += d + " = " + bin[rng() % 6] + "(" + a + ", " + c + ") : " + t + "\n";
    } else {
      std::string p = "%p" + std::to_string(nv);
      s += p + " = " + cmp[rng() % 6] + "(" + val(false) + ", " + val(true) + ") : " + b + "\n";
      s += d + " = select(" + p + ", " + val(false) + ", " + val(false) + ") : " + t + "\n";
    }
    if (rng() % 6 == 0 && outs.size() < 2) outs.push_back(d);
    ++nv;
  }
  outs.push_back("%v" + std::to_string(nv - 1));
  std::string ret = "return ";
  for (size_t i = 0; i < outs.size(); ++i) ret += (i ? ", " : "") + outs[i];
  *nout = static_cast<int>(outs.size());
  return s + ret + "\n";
}

std::vector<BufferRef> chain_params(std::mt19937& rng, int64_t n) {
  std::uniform_real_distribution<float> u(-3, 3);
  std::vector<BufferRef> ps;
  for (int k = 0; k < 3; ++k) {
    BufferRef x = f32(n);
    for (int64_t i = 0; i < n; ++i) x->as<float>()[i] = rng() % 11 == 0 ? kSpecial[rng() % kS] : u(rng);
    ps.push_back(x);
  }
  BufferRef s = alloc_buffer(DType::F32, {}, host_device());
  s->as<float>()[0] = kSpecial[rng() % kS];
  ps.push_back(s);
  return ps;
}

void test_random_chains() {
  std::mt19937 rng(1234);
  // the reference agrees by value (max/min's zero signs aside, which later ops can expose, e.g.
  // 1/-0): chains with max/min are compared with the interpreter only
  auto ref_mode = [](const std::string& text) {
    return text.find(" = max(") != std::string::npos || text.find(" = min(") != std::string::npos ? Ref::None : Ref::Value;
  };
  for (int64_t n = 1; n <= 100; ++n) {
    int nout;
    std::string text = random_chain(rng, n, false, &nout);
    check_graph(text, chain_params(rng, n), 1, ref_mode(text));
    if (n % 10 == 0) check_graph(random_chain(rng, n, true, &nout), chain_params(rng, n), -1, Ref::None);
  }
  for (int64_t n : {int64_t(4099), (int64_t(1) << 24) + 3}) {
    int nout;
    std::string text = random_chain(rng, n, false, &nout);
    check_graph(text, chain_params(rng, n), 1, ref_mode(text));
  }
}
}  // namespace

int main() {
  // IEEE subnormals even under JXLA_FTZ=1: the special values include subnormal operands and
  // results, compared bit for bit with the reference (flush-to-zero: test_denormal)
  host_ftz_set_enabled(false);
  if (!jit_enabled()) {
    // no AVX2 (or JXLA_JIT=0 / JXLA_ISA=sse2): the interpreter must still agree with the reference
    std::fprintf(stderr, "JIT unavailable here: checking the interpreter path only\n");
    int64_t n;
    auto ps = pair_params(&n);
    Graph g = parse_graph(param("x", 0, n) + param("y", 1, n) + op_body("max", n, "%x", "%y") + "return %r\n");
    CHECK_EQ(diffs(compile(g)->run(ps), ref_run(g, ps, host_device()), Ref::Value, "interpreter vs reference", "max"), 0);
    return check_finish();
  }
  // small kernels stay on the interpreter by default (compile cost): checked, then switched off
  {
    const std::string t = ty(100);
    std::string text = param("x", 0, 100) + "%r = neg(%x) : " + t + "\nreturn %r\n";
    Graph g = parse_graph(text);
    auto ps = random_params(g, 3);
    check_graph(text, ps, jit_min_elements() <= 100 ? 1 : 0);
  }
  jit_set_min_elements(0);
  test_each_op();
  test_fallback();
  test_random_chains();
  return check_finish();
}
