// test_tpu_mxu_fast.cpp - the blocked MXU engine (backends/tpu/mxu_kernel.h) against the scalar
// reference (mxu_pass_reference / mxu_matmul_f32_reference, the spec), BIT FOR BIT:
//  1. mxu_pass over every M, N, K in {1, 5, 17, 127, 129, 300} (edge tiles, one and several k
//     chunks of 256, the threaded split), batch 1 and 3, plus K = 600 (three chunks);
//  2. mxu_matmul_f32 at DEFAULT / HIGH / HIGHEST over a random sample of those shapes;
//  3. operand classes: normal bf16 data (the FMA kernel may run: every product is exact),
//     the same data with FMA forbidden (the mul-then-add kernel), inf / NaN / +-0, bf16
//     subnormals and values whose products are subnormal (FMA would keep bits the mul rounds
//     away, so the exactness gate must fall back), products that overflow, and arbitrary
//     non-bf16 f32 values through mxu_pass (products rounded);
//  4. the fast-path switch (set_mxu_fastpath) and mxu_vectorized agree.
// Every non-NaN result must have the same bits (sign of zero included); a NaN must be a NaN in
// both. The NaN payload is not part of the spec: when two NaNs meet, IEEE 754 leaves open which
// one propagates, and x86 returns the first operand, whose choice the compiler makes for the
// scalar reference (a*w or w*a) as freely as for the kernel (see docs/tpu-model.md).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "backends/tpu/mxu.h"
#include "backends/tpu/mxu_kernel.h"
#include "ir/dtype.h"
#include "tests/check.h"

using namespace jxla;
using namespace jxla::tpu;

namespace {
enum Kind { Normal, Special, Tiny, Huge, RawF32, kKinds };
const char* kind_name[] = {"normal", "special", "tiny", "huge", "raw-f32"};

float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// A value of the class; bf16 except RawF32.
float sample(std::mt19937& g, Kind k) {
  std::normal_distribution<float> nd(0.0f, 1.5f);
  std::uniform_int_distribution<int> pick(0, 15);
  switch (k) {
    case Normal: return round_bf16(nd(g));
    case Special: {
      const float sp[] = {INFINITY, -INFINITY, NAN, -0.0f, 0.0f, from_bits(0x7fc12000u), from_bits(0x00010000u)};
      int p = pick(g);
      return p < 7 ? sp[p] : round_bf16(nd(g));
    }
    case Tiny: return round_bf16(std::ldexp(nd(g), -66));  // products near 2^-132: subnormal
    case Huge: return round_bf16(std::ldexp(nd(g), pick(g) < 8 ? 64 : 0));  // some products overflow
    default: return nd(g);  // all 24 bits: products are rounded
  }
}

std::vector<float> fill(std::mt19937& g, size_t n, Kind k) {
  std::vector<float> v(n);
  for (auto& x : v) x = sample(g, k);
  return v;
}

// First differing index or -1 (bitwise; any NaN equals any NaN).
int64_t diff(const std::vector<float>& x, const std::vector<float>& y) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) && std::isnan(y[i])) continue;
    uint32_t a, b;
    std::memcpy(&a, &x[i], 4);
    std::memcpy(&b, &y[i], 4);
    if (a != b) return static_cast<int64_t>(i);
  }
  return -1;
}

int g_cases = 0;
void expect_same(const std::vector<float>& fast, const std::vector<float>& ref, const char* what, Kind k, int64_t B,
                 int64_t M, int64_t K, int64_t N, int prec) {
  ++g_cases;
  int64_t d = diff(fast, ref);
  if (d >= 0)
    std::printf("MISMATCH %s %s B=%ld M=%ld K=%ld N=%ld prec=%d at %ld: fast %a ref %a (bits %08x %08x)\n", what, kind_name[k], (long)B,
                (long)M, (long)K, (long)N, prec, (long)d, fast[d], ref[d], bits(fast[d]), bits(ref[d]));
  CHECK(d < 0);
}
}  // namespace

int main() {
  if (!mxu_kernel_available()) {
    std::printf("no AVX2: the blocked engine cannot run here; only the switch is checked\n");
    set_mxu_fastpath(true);
    CHECK(!mxu_vectorized());
    return check_finish();
  }
  set_mxu_fastpath(true);
  CHECK(mxu_vectorized());
  std::mt19937 g(2026);
  const int64_t sizes[] = {1, 5, 17, 127, 129, 300};

  // 1. one pass, every shape, batch 1 (normal data) and batch 3 (rotating data classes)
  int rot = 0;
  for (int64_t B : {1, 3})
    for (int64_t M : sizes)
      for (int64_t K : sizes)
        for (int64_t N : sizes) {
          Kind k = B == 1 ? Normal : static_cast<Kind>(rot++ % kKinds);
          auto a = fill(g, static_cast<size_t>(B * M * K), k), w = fill(g, static_cast<size_t>(B * K * N), k);
          std::vector<float> c(static_cast<size_t>(B * M * N)), r(c.size());
          mxu_pass(a.data(), w.data(), c.data(), B, M, K, N);
          mxu_pass_reference(a.data(), w.data(), r.data(), B, M, K, N);
          expect_same(c, r, "pass", k, B, M, K, N, -1);
        }
  // three k chunks, every class, FMA allowed and forbidden
  for (int kind = 0; kind < kKinds; ++kind)
    for (bool fma : {true, false}) {
      set_mxu_fma_allowed(fma);
      const int64_t B = 2, M = 37, K = 600, N = 45;
      auto a = fill(g, B * M * K, static_cast<Kind>(kind)), w = fill(g, B * K * N, static_cast<Kind>(kind));
      std::vector<float> c(B * M * N), r(c.size());
      mxu_pass(a.data(), w.data(), c.data(), B, M, K, N);
      mxu_pass_reference(a.data(), w.data(), r.data(), B, M, K, N);
      expect_same(c, r, fma ? "pass/fma-allowed" : "pass/muladd", static_cast<Kind>(kind), B, M, K, N, -1);
    }
  set_mxu_fma_allowed(true);

  // 2. the three precisions over sampled shapes and every data class, FMA allowed and forbidden
  std::uniform_int_distribution<int> si(0, 5);
  for (int prec = 0; prec < 3; ++prec)
    for (int kind = 0; kind < kKinds; ++kind)
      for (int rep = 0; rep < 6; ++rep) {
        const bool fma = rep % 2 == 0;
        set_mxu_fma_allowed(fma);
        const int64_t B = rep < 4 ? 1 : 2, M = sizes[si(g)], K = rep == 5 ? 600 : sizes[si(g)], N = sizes[si(g)];
        // f32 operands get split: "normal" data gets all 24 bits here (the split terms are bf16)
        const Kind dk = kind == Normal ? RawF32 : static_cast<Kind>(kind);
        auto a = fill(g, B * M * K, dk), w = fill(g, B * K * N, dk);
        std::vector<float> c(B * M * N), r(c.size());
        mxu_matmul_f32(a.data(), w.data(), c.data(), B, M, K, N, prec);
        mxu_matmul_f32_reference(a.data(), w.data(), r.data(), B, M, K, N, prec);
        expect_same(c, r, fma ? "matmul/fma-allowed" : "matmul/muladd", static_cast<Kind>(kind), B, M, K, N, prec);
      }
  set_mxu_fma_allowed(true);

  // 4. the switch: off -> the reference runs (mxu_vectorized false), on again -> blocked
  set_mxu_fastpath(false);
  CHECK(!mxu_vectorized());
  set_mxu_fastpath(true);
  CHECK(mxu_vectorized());
  std::printf("%d bit-exact comparisons (fast engine vs reference), %d thread(s)\n", g_cases, mxu_threads());
  return check_finish();
}
