// test_tpu_mxu_amx.cpp - the AVX-512 pass kernels of the MXU engine (mxu_avx512.h: zmm FMA and
// VDPBF16PS) against the scalar reference (mxu_pass_reference / mxu_matmul_f32_reference), BIT
// FOR BIT. Every product runs three ways: default (zmm FMA preferred), VDPBF16PS (zmm FMA
// switched off) and AVX2 only (both off); all three must equal the reference, and the call
// counters must show that each AVX-512 kernel ran exactly where its exactness condition holds.
//  0. the hardware premise, independently of the engine: VDPBF16PS with each k pair swapped
//     reproduces the scalar k-ordered f32 chain on data where order and rounding matter (FAILS
//     if the premise is wrong). The AMX probe (TDPBF16PS vs the same chain) is printed only: it
//     documents why AMX is not used (docs/tpu-model.md, section 2c).
//  1. mxu_pass over M, N, K around 6/16/32 and the KC = 256 chunk, batch 1 and 3, threaded
//     shapes.
//  2. mxu_matmul_f32 at DEFAULT / HIGH / HIGHEST (the step lists of mxu.cpp) on f32 data.
//  3. data where the VDPBF16PS gate must refuse and results still match: inf / NaN, subnormal
//     products, normal exact products whose partial sums cancel into the subnormal range, a
//     subnormal bf16 input with a large partner (DAZ), sums that could overflow, non-bf16 f32
//     values (the zmm FMA kernel must run for the ones with exact products, and only for them).
// Without AVX-512F / AVX512-BF16 (or with them switched off by env) only the fallbacks are
// checked (counters stay 0, results match), and the test says so.
// `test_tpu_mxu_amx bench [n]` instead times n^3 matmuls at each precision in the three modes
// and the host f32 GEMM (best of 5 after a warm-up; numbers in docs/tpu-model.md, 2c).
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "backends/host/gemm.h"
#include "backends/tpu/mxu.h"
#include "backends/tpu/mxu_avx512.h"
#include "backends/tpu/mxu_kernel.h"
#include "ir/dtype.h"
#include "tests/check.h"

using namespace jxla;
using namespace jxla::tpu;

namespace {
float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float bf(uint16_t h) { return from_bits(uint32_t(h) << 16); }

// ---- 0. hardware probes ------------------------------------------------------------------
// a random bf16 with exponent in [-20, 20), random mantissa and sign: sums round, order matters
uint16_t probe_value(std::mt19937& g) {
  const uint32_t s = g() & 1, e = static_cast<uint32_t>(static_cast<int>(g() % 40) - 20 + 127), m = g() & 0x7f;
  return static_cast<uint16_t>((s << 15) | (e << 7) | m);
}
constexpr int PK = 64;  // probe depth (k), 16 x 16 outputs
// k-ordered chain, from +0, one f32 add per product (the spec)
float chain(const uint16_t* A, const uint16_t* Bk, int m, int n) {
  float s = 0.0f;
  for (int k = 0; k < PK; ++k) s = s + bf(A[m * PK + k]) * bf(Bk[k * 16 + n]);
  return s;
}

__attribute__((target("avx512f,avx512bf16"))) void vdp(const uint16_t* A, const uint16_t* Bk, float* C) {
  for (int m = 0; m < 16; ++m) {
    __m512 acc = _mm512_setzero_ps();
    for (int kp = 0; kp < PK / 2; ++kp) {
      // swapped pair: element 2i+1 (added first) holds k, element 2i holds k+1
      const uint32_t pa = (uint32_t(A[m * PK + 2 * kp]) << 16) | A[m * PK + 2 * kp + 1];
      alignas(64) uint32_t wb[16];
      for (int n = 0; n < 16; ++n) wb[n] = (uint32_t(Bk[2 * kp * 16 + n]) << 16) | Bk[(2 * kp + 1) * 16 + n];
      acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_set1_epi32(static_cast<int>(pa)), (__m512bh)_mm512_load_si512(wb));
    }
    _mm512_storeu_ps(C + m * 16, acc);
  }
}

struct alignas(64) TileCfg {
  uint8_t palette, start;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
__attribute__((target("amx-tile,amx-bf16"))) void amx(const uint16_t* A, const uint16_t* vnni, float* C) {
  TileCfg cfg{};
  cfg.palette = 1;
  for (int t = 0; t < 3; ++t) { cfg.colsb[t] = 64; cfg.rows[t] = 16; }
  _tile_loadconfig(&cfg);
  _tile_zero(0);
  for (int q = 0; q < PK / 32; ++q) {  // k chunks of 32 in ascending order, natural pair order
    _tile_loadd(1, A + q * 32, PK * 2);
    _tile_loadd(2, vnni + q * 16 * 32, 64);
    _tile_dpbf16ps(0, 1, 2);
  }
  _tile_stored(0, C, 64);
  _tile_release();
}
bool amx_usable() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 22)) || !(d & (1u << 24))) return false;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & (3u << 17)) != (3u << 17)) return false;
  return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
}

void probes() {
  std::mt19937 g(7);
  std::vector<uint16_t> A(16 * PK), Bk(PK * 16), vnni(PK * 16);
  std::vector<float> C(256);
  const bool amx_ok = amx_usable();
  int vdp_match = 0, amx_match = 0, total = 0;
  for (int trial = 0; trial < 32; ++trial) {
    for (auto& x : A) x = probe_value(g);
    for (auto& x : Bk) x = probe_value(g);
    vdp(A.data(), Bk.data(), C.data());
    for (int i = 0; i < 256; ++i) vdp_match += bits(C[i]) == bits(chain(A.data(), Bk.data(), i / 16, i % 16));
    if (amx_ok) {
      for (int kp = 0; kp < PK / 2; ++kp)
        for (int n = 0; n < 16; ++n) {
          vnni[kp * 32 + 2 * n] = Bk[2 * kp * 16 + n];
          vnni[kp * 32 + 2 * n + 1] = Bk[(2 * kp + 1) * 16 + n];
        }
      amx(A.data(), vnni.data(), C.data());
      for (int i = 0; i < 256; ++i) amx_match += bits(C[i]) == bits(chain(A.data(), Bk.data(), i / 16, i % 16));
    }
    total += 256;
  }
  std::printf("probe: VDPBF16PS (pairs swapped) matched the k-ordered chain on %d of %d outputs\n", vdp_match, total);
  CHECK_EQ(vdp_match, total);
  if (amx_ok)
    std::printf("probe: AMX TDPBF16PS matched the k-ordered chain on %d of %d outputs (informational)\n", amx_match,
                total);
  else
    std::printf("probe: AMX not usable here (CPUID / XCR0 / arch_prctl)\n");
}

// ---- 1..3. the engine ----------------------------------------------------------------------
enum Kind { Normal, Special, Tiny, Cancel, Daz, Huge, RawF32 };
const char* kind_name[] = {"normal", "special", "tiny", "cancel", "daz", "huge", "raw-f32"};

float sample(std::mt19937& g, Kind k, bool lhs) {
  std::normal_distribution<float> nd(0.0f, 1.5f);
  std::uniform_int_distribution<int> pick(0, 15);
  switch (k) {
    case Normal: return round_bf16(nd(g));
    case Special: {
      const float sp[] = {INFINITY, -INFINITY, NAN, -0.0f, 0.0f};
      const int p = pick(g);
      return p < 5 ? sp[p] : round_bf16(nd(g));
    }
    case Tiny: return round_bf16(std::ldexp(nd(g), -66));  // products near 2^-132
    case Cancel: {
      // |a|, |w| in [2^-63, 2^-62): products in [2^-126, 2^-124), exact and normal (FMA may run),
      // but multiples of 2^-140 only: +- sums cancel into the subnormal range
      const float m = 1.0f + static_cast<float>(g() & 0x7f) / 128.0f;
      return std::ldexp((g() & 1) ? -m : m, -63);
    }
    case Daz: {
      // a: half bf16 subnormals (< 2^-126), half near 2^-120; w near 2^20: every product is
      // normal and exact (and a multiple of 2^-126), but VDPBF16PS reads subnormal inputs as 0
      const float sgn = (g() & 1) ? -1.0f : 1.0f;
      if (lhs) return sgn * (pick(g) < 8 ? from_bits((1u + (g() & 0x7e)) << 16) : std::ldexp(1.0f + (g() & 0x7f) / 128.0f, -120));
      return sgn * std::ldexp(1.0f + (g() & 0x7f) / 128.0f, 20);
    }
    case Huge: return round_bf16(std::ldexp(1.0f + nd(g) * 0.1f, 62));  // K * max|a| * max|w| >= 2^127
    default: return nd(g);
  }
}
std::vector<float> fill(std::mt19937& g, int64_t n, Kind k, bool lhs) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = sample(g, k, lhs);
  return v;
}
int64_t diff(const std::vector<float>& x, const std::vector<float>& y) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) && std::isnan(y[i])) continue;  // NaN payloads are not part of the spec
    if (bits(x[i]) != bits(y[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

int g_cases = 0;
struct Ran { uint64_t z, dp; };  // micro-kernel calls of Fma512 / Bf16Dp in one product
// Runs one product three ways: default (Fma512 preferred), VDPBF16PS (Fma512 switched off) and
// AVX2 only (both off); each must equal the reference. prec < 0: mxu_pass.
Ran compare(const std::vector<float>& a, const std::vector<float>& w, int64_t B, int64_t M, int64_t K, int64_t N,
            int prec, Kind k) {
  const size_t n = static_cast<size_t>(B * M * N);
  std::vector<float> out[3] = {std::vector<float>(n), std::vector<float>(n), std::vector<float>(n)}, ref(n);
  const char* mode[3] = {"default(zmm-fma)", "vdpbf16ps", "avx2-only"};
  Ran r{0, 0};
  for (int m = 0; m < 3; ++m) {
    set_mxu_avx512_allowed(m == 0);
    set_mxu_bf16_allowed(m < 2);
    const uint64_t z0 = mxu_avx512_calls(Kernel512::Fma512), d0 = mxu_avx512_calls(Kernel512::Bf16Dp);
    if (prec < 0) mxu_pass(a.data(), w.data(), out[m].data(), B, M, K, N);
    else mxu_matmul_f32(a.data(), w.data(), out[m].data(), B, M, K, N, prec);
    const uint64_t z = mxu_avx512_calls(Kernel512::Fma512) - z0, d = mxu_avx512_calls(Kernel512::Bf16Dp) - d0;
    if (m == 0) {  // where zmm FMA may run it is preferred (unless env JXLA_TPU_AVX512=0 took it away)
      r.z = z;
      if (mxu_avx512_enabled()) CHECK_EQ(d, uint64_t{0});
    }
    if (m == 1) { r.dp = d; CHECK_EQ(z, uint64_t{0}); }
    if (m == 2) { CHECK_EQ(z + d, uint64_t{0}); }        // switched off: no call
  }
  set_mxu_avx512_allowed(true);
  set_mxu_bf16_allowed(true);
  if (prec < 0) mxu_pass_reference(a.data(), w.data(), ref.data(), B, M, K, N);
  else mxu_matmul_f32_reference(a.data(), w.data(), ref.data(), B, M, K, N, prec);
  for (int m = 0; m < 3; ++m) {
    ++g_cases;
    const int64_t d = diff(out[m], ref);
    if (d >= 0)
      std::printf("MISMATCH %s %s B=%ld M=%ld K=%ld N=%ld prec=%d at %ld: got %a ref %a\n", mode[m], kind_name[k],
                  (long)B, (long)M, (long)K, (long)N, prec, (long)d, out[m][static_cast<size_t>(d)],
                  ref[static_cast<size_t>(d)]);
    CHECK(d < 0);
  }
  return r;
}
template <typename F>
double best_seconds(F f) {
  f();  // warm-up (page faults, pool start)
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

int bench(int64_t n) {
  std::mt19937 g(1);
  auto a = fill(g, n * n, RawF32, true), w = fill(g, n * n, RawF32, false);
  std::vector<float> c(static_cast<size_t>(n * n)), c2(c.size());
  const double flop = 2.0 * n * n * n;
  auto report = [&](const char* what, double s) {
    std::printf("%-44s %8.2f ms %8.1f GFLOP/s\n", what, s * 1e3, flop / s * 1e-9);
  };
  std::printf("n = %ld, %d thread(s), AVX-512F %d, AVX512-BF16 %d (mxu_matmul_f32: packing included)\n", (long)n,
              mxu_threads(), (int)mxu_avx512_available(), (int)mxu_bf16_available());
  const char* mode[3] = {"zmm FMA (default)", "VDPBF16PS", "AVX2 FMA (before)"};
  for (int prec = 0; prec < 3; ++prec) {
    for (int m = 0; m < 3; ++m) {
      set_mxu_avx512_allowed(m == 0);
      set_mxu_bf16_allowed(m < 2);
      const uint64_t z0 = mxu_avx512_calls(Kernel512::Fma512), d0 = mxu_avx512_calls(Kernel512::Bf16Dp);
      const double s = best_seconds([&] { mxu_matmul_f32(a.data(), w.data(), (m ? c2 : c).data(), 1, n, n, n, prec); });
      const bool z = mxu_avx512_calls(Kernel512::Fma512) > z0, d = mxu_avx512_calls(Kernel512::Bf16Dp) > d0;
      char buf[96];
      std::snprintf(buf, sizeof buf, "mxu prec %d, %s%s", prec, mode[m],
                    (m == 0 && !z) || (m == 1 && !d) ? " [did NOT run]" : "");
      report(buf, s);
      if (m) CHECK(diff(c, c2) < 0);
    }
  }
  set_mxu_avx512_allowed(true);
  set_mxu_bf16_allowed(true);
  report("host_sgemm f32", best_seconds([&] {
           host_sgemm(false, false, n, n, n, a.data(), n, w.data(), n, c.data(), n);
         }));
  return check_finish();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "bench") == 0) return bench(argc > 2 ? std::atol(argv[2]) : 1024);
  set_mxu_fastpath(true);
  if (!mxu_kernel_available()) {
    std::printf("no AVX2: the blocked engine (and the bf16 path inside it) cannot run here\n");
    return check_finish();
  }
  const bool have_z = mxu_avx512_enabled(), have = mxu_bf16_enabled();
  if (have) probes();
  else std::printf("AVX512-BF16 unavailable or disabled (JXLA_TPU_BF16 / JXLA_TPU_AMX = 0): its fallback only\n");
  if (!have_z) std::printf("AVX-512F unavailable or disabled (JXLA_TPU_AVX512 = 0): zmm FMA fallback only\n");
  std::mt19937 g(2026);
  // z: the zmm FMA kernel must run (products_exact); dp: VDPBF16PS must run (dp_bf16_exact)
  auto expect_ran = [&](Ran r, bool z, bool dp) {
    CHECK_EQ(r.z > 0, z && have_z);
    CHECK_EQ(r.dp > 0, dp && have);
  };

  // 1. mxu_pass shapes (bf16 data, the gate holds)
  for (int64_t M : {1, 6, 7, 16, 17, 33})
    for (int64_t N : {1, 15, 16, 17, 31, 32, 33, 48, 49})
      for (int64_t K : {1, 2, 3, 31, 32, 33, 255, 256, 257, 513}) {
        auto a = fill(g, M * K, Normal, true), w = fill(g, K * N, Normal, false);
        expect_ran(compare(a, w, 1, M, K, N, -1, Normal), true, true);
      }
  for (int64_t K : {17, 300, 600}) {  // batches, and a shape the pool splits across threads
    auto a = fill(g, 3 * 37 * K, Normal, true), w = fill(g, 3 * K * 45, Normal, false);
    expect_ran(compare(a, w, 3, 37, K, 45, -1, Normal), true, true);
    auto a2 = fill(g, 200 * K, Normal, true), w2 = fill(g, K * 300, Normal, false);
    expect_ran(compare(a2, w2, 1, 200, K, 300, -1, Normal), true, true);
  }

  // 2. the three precisions on f32 data (every split term passes the gate for this data)
  for (int prec = 0; prec < 3; ++prec)
    for (int64_t M : {1, 17, 40})
      for (int64_t K : {3, 33, 300})
        for (int64_t N : {16, 33}) {
          const int64_t B = M == 17 ? 2 : 1;
          auto a = fill(g, B * M * K, RawF32, true), w = fill(g, B * K * N, RawF32, false);
          expect_ran(compare(a, w, B, M, K, N, prec, RawF32), true, true);
        }

  // 3. the VDPBF16PS gate refuses (results still match); products are still exact (zmm FMA
  //    may run) for cancel, daz and huge
  for (Kind k : {Special, Tiny, Cancel, Daz, Huge, RawF32})
    for (int64_t K : {5, 64, 300}) {
      const int64_t M = 19, N = 35;
      auto a = fill(g, M * K, k, true), w = fill(g, K * N, k, false);
      expect_ran(compare(a, w, 1, M, K, N, -1, k), k == Cancel || k == Daz || k == Huge, false);
    }
  // Huge with K = 1 passes the bound (K * max * max < 2^127): the gate is not needlessly strict
  {
    auto a = fill(g, 19, Huge, true), w = fill(g, 35, Huge, false);
    expect_ran(compare(a, w, 1, 19, 1, 35, -1, Huge), true, true);
  }
  // DEFAULT on special data rounds to bf16 but keeps inf / NaN: refused, still exact
  {
    auto a = fill(g, 20 * 70, Special, true), w = fill(g, 70 * 18, Special, false);
    expect_ran(compare(a, w, 1, 20, 70, 18, 0, Special), false, false);
  }
  std::printf("%d bit-exact comparisons; micro-kernel calls: zmm FMA %lu, VDPBF16PS %lu; %d thread(s)\n", g_cases,
              static_cast<unsigned long>(mxu_avx512_calls(Kernel512::Fma512)),
              static_cast<unsigned long>(mxu_avx512_calls(Kernel512::Bf16Dp)), mxu_threads());
  return check_finish();
}
