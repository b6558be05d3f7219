// mxu_kernel.cpp - the blocked, bit-exact MXU pass engine (see mxu_kernel.h for the invariant).
// Layout: A is packed per batch into row panels of MR = 6 rows (rows past M are +0), W into
// column panels of NR = 16 columns (columns past N are +0), chunk-major (see pack_a_t): a k
// chunk of a panel is contiguous, and so is that chunk of all panels, so the 16 x KC W
// micro-panel (16 KiB) stays in L1 while the 6-row A micro-panels stream past it in order.
// Loop nest per task (a batch x row range x column range, rows/columns aligned to MR/NR so no
// tile is shared between tasks): pass -> jc (NC columns) -> pc (KC depth, ascending) ->
// ic (MC rows) -> jr (16 columns) -> ir (6 rows) -> 6x16 micro-kernel.
// The micro-kernel keeps 12 ymm accumulators (12 independent add chains cover the add
// latency). Two variants: mul then add (compiled for "avx2" only, so the compiler cannot
// contract them), and FMA, used for a pass only when packing proved every product exact (then
// fma == mul + add bit for bit; see mxu_kernel.h). On Zen 3 the mul+add loop is front-end bound
// (36 instructions per k step vs 24), hence the FMA variant.
// Per pass, AVX-512 kernels (mxu_avx512.cpp, same loop nest over the same panels, two W panels
// per tile) take over where the CPU has them and their exactness condition holds: zmm FMA when
// products_exact (preferred), else VDPBF16PS when dp_bf16_exact; see mxu_avx512.h.
#include "backends/tpu/mxu_kernel.h"
#include <immintrin.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>
#include "backends/host/float_scratch.h"
#include "backends/host/thread_pool.h"
#include "backends/tpu/mxu_avx512.h"
#include "backends/tpu/mxu.h"
#include "ir/dtype.h"
#include "ir/error.h"

namespace jxla {
namespace tpu {

namespace {
// the packed operand terms of mxu_blocked, one pair per calling thread (pool workers only read
// them while the caller waits; a thread runs one mxu_blocked at a time)
thread_local FloatScratch tl_packed_a, tl_packed_w;
// Blocking (values in mxu_bf16.h, shared with the VDPBF16PS path, which reads the same panel
// offsets). KC: a 16 x 256 W micro-panel (16 KiB) plus a 6 x 256 A micro-panel (6 KiB) fit the
// 32 KiB L1d; MC: a 144 x 256 A block (144 KiB) stays in the 512 KiB L2 while W panels stream
// past; NC: C columns per block (measured on Zen 3: 128..1024 within noise).
using mxu_blocking::MR;
using mxu_blocking::NR;
using mxu_blocking::KC;
using mxu_blocking::MC;
using mxu_blocking::NC;

// What packing learned about one packed operand term: products of two terms are exact in f32
// (so FMA == mul then add, bit for bit) when both hold only finite bf16 values (<= 8
// significant bits: a product has <= 16) and every nonzero product lies in [2^-126, 2^127).
struct TermStats {
  uint32_t low_bits = 0;            // OR of the low 16 bits of every value (0: all bf16)
  uint32_t max_abs = 0;             // largest |x| as bits (> 0x7f800000: NaN, == : inf)
  uint32_t min_nz_abs = 0xffffffffu;  // smallest nonzero |x| as bits
  void merge(const TermStats& o) {
    low_bits |= o.low_bits;
    max_abs = std::max(max_abs, o.max_abs);
    min_nz_abs = std::min(min_nz_abs, o.min_nz_abs);
  }
};

// Accumulates the stats of n packed values. On |x| as bits, unsigned integer order is float
// order (NaN above inf), so AVX2 integer max/min do the job without float NaN rules.
__attribute__((target("avx2"))) void scan(const float* x, int64_t n, TermStats* st) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), low = _mm256_set1_epi32(0xffff), zero = _mm256_setzero_si256();
  __m256i lo = zero, mx = zero, mn = _mm256_set1_epi32(-1);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), a = _mm256_and_si256(v, abs_mask);
    lo = _mm256_or_si256(lo, _mm256_and_si256(v, low));
    mx = _mm256_max_epu32(mx, a);
    mn = _mm256_min_epu32(mn, _mm256_or_si256(a, _mm256_cmpeq_epi32(a, zero)));  // zeros -> all ones
  }
  alignas(32) uint32_t l[8], h[8], m[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), lo);
  _mm256_store_si256(reinterpret_cast<__m256i*>(h), mx);
  _mm256_store_si256(reinterpret_cast<__m256i*>(m), mn);
  TermStats r;
  for (int j = 0; j < 8; ++j) { r.low_bits |= l[j]; r.max_abs = std::max(r.max_abs, h[j]); r.min_nz_abs = std::min(r.min_nz_abs, m[j]); }
  for (; i < n; ++i) {
    uint32_t u; std::memcpy(&u, x + i, 4);
    const uint32_t a = u & 0x7fffffffu;
    r.low_bits |= u & 0xffffu;
    r.max_abs = std::max(r.max_abs, a);
    if (a) r.min_nz_abs = std::min(r.min_nz_abs, a);
  }
  st->merge(r);
}

inline float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

bool products_exact(const TermStats& a, const TermStats& w) {
  if (a.low_bits || w.low_bits || a.max_abs >= 0x7f800000u || w.max_abs >= 0x7f800000u) return false;
  if (a.max_abs == 0 || w.max_abs == 0) return true;  // every product is a zero
  const double hi = static_cast<double>(from_bits(a.max_abs)) * from_bits(w.max_abs);
  const double lo = static_cast<double>(from_bits(a.min_nz_abs)) * from_bits(w.min_nz_abs);
  return hi < std::ldexp(1.0, 127) && lo >= std::ldexp(1.0, -126);
}

// The VDPBF16PS path (mxu_bf16.h) equals the k-ordered mul+add chain when, besides finite bf16
// terms: no nonzero input is subnormal (DAZ); every partial sum is 0 or normal (FTZ): a nonzero
// bf16 |x| with biased exponent E is a multiple of 2^(E-134), so every product is a multiple of
// 2^q, q = Ea_min + Ew_min - 268, and so is every exact partial sum and (by induction) every
// rounded one; q >= -126 makes each of them 0 or >= 2^-126. No overflow: every partial sum is
// bounded by K * max|a| * max|w| < 2^127. Products then lie in [2^-112, 2^127): exact.
bool dp_bf16_exact(const TermStats& a, const TermStats& w, int64_t K) {
  if (a.low_bits || w.low_bits || a.max_abs >= 0x7f800000u || w.max_abs >= 0x7f800000u) return false;
  if (a.max_abs == 0 || w.max_abs == 0) return true;  // every product is a zero: the chain stays +0
  const int ea = static_cast<int>(a.min_nz_abs >> 23), ew = static_cast<int>(w.min_nz_abs >> 23);
  if (ea == 0 || ew == 0 || ea + ew < 142) return false;
  const double hi = static_cast<double>(K) * from_bits(a.max_abs) * from_bits(w.max_abs);
  return hi < std::ldexp(1.0, 127);
}

// bf16_truncate (mxu.cpp) inlined: the same bits, without a call per packed element
inline float truncate16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return from_bits(u & 0xffff0000u);
}

template <Term T>
inline float term(float x) {
  if constexpr (T == Term::Exact) return x;
  if constexpr (T == Term::Round) return round_bf16(x);
  const float hi = truncate16(x);
  if constexpr (T == Term::Hi) return hi;
  const float rem = x - hi;
  if constexpr (T == Term::Lo2) return round_bf16(rem);
  const float mid = truncate16(rem);
  if constexpr (T == Term::Mid) return mid;
  return round_bf16(rem - mid);  // Lo3
}

// Packed layout, per term and batch, chunk-major so that one k chunk of all panels (the block
// a macro-kernel sweeps) is contiguous: chunk q (k0 = q*KC, kcs = min(KC, K - k0) deep) starts
// at k0 * Mp (A) / k0 * Np (W); within it panel p starts at p * kcs * 6 (A) / p * kcs * 16 (W)
// and holds [kk][6] / [kk][16].

// Row panels [p0, p1) of one batch of A (M x K): reads the panel's 6 rows side by side.
template <Term T>
void pack_a_t(const float* a, int64_t M, int64_t K, int64_t Mp, int64_t p0, int64_t p1, float* out, TermStats* st) {
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kcs = std::min(KC, K - k0);
    float* chunk = out + k0 * Mp;
    for (int64_t p = p0; p < p1; ++p) {
      float* dst = chunk + p * kcs * MR;
      const int64_t rows = std::min(MR, M - p * MR);
      const float* src = a + p * MR * K + k0;
      if (rows == MR) {
        for (int64_t k = 0; k < kcs; ++k)
          for (int64_t i = 0; i < MR; ++i) dst[k * MR + i] = term<T>(src[i * K + k]);
      } else {
        for (int64_t k = 0; k < kcs; ++k)
          for (int64_t i = 0; i < MR; ++i) dst[k * MR + i] = i < rows ? term<T>(src[i * K + k]) : 0.0f;
      }
    }
    scan(chunk + p0 * kcs * MR, (p1 - p0) * kcs * MR, st);
  }
}

// Column panels [p0, p1) of one batch of W (K x N): row by row, so each source row segment is
// read once, contiguously, for all the job's panels.
template <Term T>
void pack_w_t(const float* w, int64_t K, int64_t N, int64_t Np, int64_t p0, int64_t p1, float* out, TermStats* st) {
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kcs = std::min(KC, K - k0);
    float* chunk = out + k0 * Np;
    for (int64_t k = 0; k < kcs; ++k) {
      const float* src = w + (k0 + k) * N;
      for (int64_t p = p0; p < p1; ++p) {
        float* d = chunk + p * kcs * NR + k * NR;
        const int64_t j0 = p * NR, nj = std::min(NR, N - j0);
        if (nj == NR) {
          for (int64_t t = 0; t < NR; ++t) d[t] = term<T>(src[j0 + t]);
        } else {
          for (int64_t t = 0; t < NR; ++t) d[t] = t < nj ? term<T>(src[j0 + t]) : 0.0f;
        }
      }
    }
    scan(chunk + p0 * kcs * NR, (p1 - p0) * kcs * NR, st);
  }
}

template <template <Term> class F, typename... Args>
void with_term(Term t, Args... args) {
  switch (t) {
    case Term::Exact: F<Term::Exact>::run(args...); break;
    case Term::Round: F<Term::Round>::run(args...); break;
    case Term::Hi: F<Term::Hi>::run(args...); break;
    case Term::Lo2: F<Term::Lo2>::run(args...); break;
    case Term::Mid: F<Term::Mid>::run(args...); break;
    case Term::Lo3: F<Term::Lo3>::run(args...); break;
  }
}
template <Term T> struct PackA {
  static void run(const float* a, int64_t M, int64_t K, int64_t Mp, int64_t p0, int64_t p1, float* o, TermStats* st) {
    pack_a_t<T>(a, M, K, Mp, p0, p1, o, st);
  }
};
template <Term T> struct PackW {
  static void run(const float* w, int64_t K, int64_t N, int64_t Np, int64_t p0, int64_t p1, float* o, TermStats* st) {
    pack_w_t<T>(w, K, N, Np, p0, p1, o, st);
  }
};

// acc = cin (or +0 when cin is null); acc += pa[k] * pw[k] for k < kc in ascending k; then
// acc = comb + acc if comb; acc = NaN->0(acc) if nz; the epilogue (eb: the tile's 16 bias values
// or null, ebf: bias first; relu); out = acc. JXLA_MAC is the multiply-add:
// mul then add (two roundings) or, where the caller proved every product exact, one FMA.
#define JXLA_MICRO_BODY                                                                      \
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;                         \
  if (cin) {                                                                                 \
    JXLA_ROWS(JXLA_LOAD)                                                                     \
  } else {                                                                                   \
    JXLA_ROWS(JXLA_ZERO)                                                                     \
  }                                                                                          \
  /* not unrolled: GCC then hoists the broadcasts and spills the accumulators */             \
  for (const float* end = pw + kc * NR; pw != end; pa += MR, pw += NR) {                     \
    const __m256 w0 = _mm256_loadu_ps(pw), w1 = _mm256_loadu_ps(pw + 8);                    \
    JXLA_ROWS(JXLA_ROW)                                                                      \
  }                                                                                          \
  if (comb) { JXLA_ROWS(JXLA_COMB) }                                                         \
  if (nz) { JXLA_ROWS(JXLA_NZ) }                                                             \
  if (eb) {                                                                                  \
    const __m256 b0 = _mm256_loadu_ps(eb), b1 = _mm256_loadu_ps(eb + 8);                     \
    JXLA_ROWS(JXLA_BIAS)                                                                     \
  }                                                                                          \
  if (relu) { JXLA_ROWS(JXLA_RELU) }                                                         \
  JXLA_ROWS(JXLA_STORE)

#define JXLA_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define JXLA_LOAD(r) c##r##0 = _mm256_loadu_ps(cin + r * ldi); c##r##1 = _mm256_loadu_ps(cin + r * ldi + 8);
#define JXLA_ZERO(r) c##r##0 = _mm256_setzero_ps(); c##r##1 = _mm256_setzero_ps();
#define JXLA_ROW(r)                                  \
  {                                                  \
    const __m256 av = _mm256_broadcast_ss(pa + r);   \
    c##r##0 = JXLA_MAC(c##r##0, av, w0);             \
    c##r##1 = JXLA_MAC(c##r##1, av, w1);             \
  }
#define JXLA_COMB(r)                                                   \
  c##r##0 = _mm256_add_ps(_mm256_loadu_ps(comb + r * ldb), c##r##0);   \
  c##r##1 = _mm256_add_ps(_mm256_loadu_ps(comb + r * ldb + 8), c##r##1);
// NaN -> +0: the unordered self-compare is all ones exactly on NaN lanes
#define JXLA_NZ(r)                                                                      \
  c##r##0 = _mm256_andnot_ps(_mm256_cmp_ps(c##r##0, c##r##0, _CMP_UNORD_Q), c##r##0);   \
  c##r##1 = _mm256_andnot_ps(_mm256_cmp_ps(c##r##1, c##r##1, _CMP_UNORD_Q), c##r##1);
// v + b, the first operand's NaN (quieted) where it is one: the add's operand order is the
// compiler's, so the NaN rule is made explicit (MxuEpilogue)
#define JXLA_ADD1(v, b)                                                                          \
  {                                                                                              \
    const __m256 x = ebf ? b : v;                                                                \
    const __m256 xq = _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(x), quiet));       \
    v = _mm256_blendv_ps(_mm256_add_ps(v, b), xq, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));            \
  }
#define JXLA_BIAS(r) JXLA_ADD1(c##r##0, b0) JXLA_ADD1(c##r##1, b1)
// relu: keep lanes where !(v <= 0) (v > 0 or NaN), else +0
#define JXLA_RELU(r)                                                                         \
  c##r##0 = _mm256_and_ps(c##r##0, _mm256_cmp_ps(c##r##0, _mm256_setzero_ps(), _CMP_NLE_UQ)); \
  c##r##1 = _mm256_and_ps(c##r##1, _mm256_cmp_ps(c##r##1, _mm256_setzero_ps(), _CMP_NLE_UQ));
#define JXLA_STORE(r) _mm256_storeu_ps(out + r * ldo, c##r##0); _mm256_storeu_ps(out + r * ldo + 8, c##r##1);

using MicroFn = void (*)(const float*, const float*, int64_t, const float*, int64_t, const float*, int64_t, bool,
                         float*, int64_t, const float*, bool, bool);

// "avx2" only: without "fma" in the target the compiler cannot contract the mul and the add.
__attribute__((target("avx2"))) void micro_muladd(const float* pa, const float* pw, int64_t kc, const float* cin,
                                                  int64_t ldi, const float* comb, int64_t ldb, bool nz, float* out,
                                                  int64_t ldo, const float* eb, bool ebf, bool relu) {
  const __m256i quiet = _mm256_set1_epi32(0x00400000);
#define JXLA_MAC(c, a, w) _mm256_add_ps(c, _mm256_mul_ps(a, w))
  JXLA_MICRO_BODY
#undef JXLA_MAC
}

__attribute__((target("avx2,fma"))) void micro_fma(const float* pa, const float* pw, int64_t kc, const float* cin,
                                                   int64_t ldi, const float* comb, int64_t ldb, bool nz, float* out,
                                                   int64_t ldo, const float* eb, bool ebf, bool relu) {
  const __m256i quiet = _mm256_set1_epi32(0x00400000);
#define JXLA_MAC(c, a, w) _mm256_fmadd_ps(a, w, c)
  JXLA_MICRO_BODY
#undef JXLA_MAC
}
#undef JXLA_MICRO_BODY
#undef JXLA_ROWS
#undef JXLA_LOAD
#undef JXLA_ZERO
#undef JXLA_ROW
#undef JXLA_COMB
#undef JXLA_NZ
#undef JXLA_ADD1
#undef JXLA_BIAS
#undef JXLA_RELU
#undef JXLA_STORE

std::atomic<bool> g_fma_allowed{true};

struct Task {
  int64_t b, r0, r1, c0, c1;  // batch, rows [r0, r1), columns [c0, c1)
};

struct Plan {
  int64_t M, K, N, Mp, Np;
  std::vector<const float*> pa, pw;  // packed terms, batch 0
  float* c;
  float* p;  // pass scratch (steps > 0, k chunks before the last), may be null
  const MxuStep* steps;
  int n_steps;
  const MxuEpilogue* epi;  // may be null; the last step's final stores apply it
  std::vector<bool> fma;  // per step: products proven exact, FMA is bit-identical
  std::vector<int> k512;  // per step: -1 (AVX2 kernels) or the Kernel512 that runs it
  std::vector<const uint32_t*> pa16, pw16;  // bf16 pair panels of the terms Bf16Dp steps read
};

// Copies a rows x cols block between row-major arrays (edge tiles).
inline void copy_block(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) std::memcpy(dst + i * ldd, src + i * lds, static_cast<size_t>(cols) * 4);
}

void run_task(const Plan& pl, const Task& t) {
  const int64_t M = pl.M, K = pl.K, N = pl.N;
  float* c = pl.c + t.b * M * N;
  float* p = pl.p ? pl.p + t.b * M * N : nullptr;
  alignas(32) float tin[MR * NR] = {}, tcomb[MR * NR] = {}, tout[MR * NR], tbias[NR] = {};
  for (int s = 0; s < pl.n_steps; ++s) {
    const MxuStep& st = pl.steps[s];
    const MxuEpilogue* epi = s == pl.n_steps - 1 ? pl.epi : nullptr;
    const float* bias = epi ? epi->bias : nullptr;
    const bool ebf = epi && epi->bias_first, relu = epi && epi->relu;
    const float* A = pl.pa[st.ta] + t.b * pl.Mp * K;
    const float* W = pl.pw[st.tw] + t.b * K * pl.Np;
    float* mid = s == 0 ? c : p;  // where a pass's partial sums live between k chunks
    if (pl.k512[s] >= 0) {
      const Kernel512 kn = static_cast<Kernel512>(pl.k512[s]);
      const bool dp = kn == Kernel512::Bf16Dp;
      const void* pa = dp ? static_cast<const void*>(pl.pa16[st.ta] + t.b * pl.Mp * K) : A;
      const void* pw = dp ? static_cast<const void*>(pl.pw16[st.tw] + t.b * K * pl.Np) : W;
      avx512_pass_task(kn, pa, pw, M, K, N, pl.Mp, pl.Np, t.r0, t.r1, t.c0, t.c1, c, mid, s > 0, st.nz_after, epi);
      continue;
    }
    const MicroFn micro = pl.fma[s] ? micro_fma : micro_muladd;
    for (int64_t jc = t.c0; jc < t.c1; jc += NC) {
      const int64_t jend = std::min(jc + NC, t.c1);
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = std::min(KC, K - pc);
        const bool first = pc == 0, last = pc + kc == K;
        float* dst = last ? c : mid;
        for (int64_t ic = t.r0; ic < t.r1; ic += MC) {
          const int64_t iend = std::min(ic + MC, t.r1);
          for (int64_t jr = jc; jr < jend; jr += NR) {
            const float* pw = W + pc * pl.Np + (jr / NR) * kc * NR;
            const int64_t nr = std::min(NR, N - jr);
            for (int64_t ir = ic; ir < iend; ir += MR) {
              const float* pa = A + pc * pl.Mp + (ir / MR) * kc * MR;
              const int64_t mr = std::min(MR, M - ir);
              const bool comb = last && s > 0, nz = last && st.nz_after, eb = last && bias, er = last && relu;
              if (mr == MR && nr == NR) {
                micro(pa, pw, kc, first ? nullptr : mid + ir * N + jr, N, comb ? c + ir * N + jr : nullptr, N, nz,
                      dst + ir * N + jr, N, eb ? bias + jr : nullptr, ebf, er);
                continue;
              }
              // edge tile: through 6x16 scratch; the padded lanes compute +0 products, unused
              if (!first) copy_block(mid + ir * N + jr, N, tin, NR, mr, nr);
              if (comb) copy_block(c + ir * N + jr, N, tcomb, NR, mr, nr);
              if (eb) copy_block(bias + jr, 0, tbias, 0, 1, nr);
              micro(pa, pw, kc, first ? nullptr : tin, NR, comb ? tcomb : nullptr, NR, nz, tout, NR,
                    eb ? tbias : nullptr, ebf, er);
              copy_block(tout, NR, dst + ir * N + jr, N, mr, nr);
            }
          }
        }
      }
    }
  }
}
}  // namespace

bool mxu_kernel_available() { return __builtin_cpu_supports("avx2"); }
void set_mxu_fma_allowed(bool on) { g_fma_allowed.store(on); }

namespace {
constexpr int64_t kPackJob = 16;  // panels per packing job
// W packing job j (of n_terms x B x ceil(panels / kPackJob)): term t, batch b, a run of panels,
// into out (terms x B x K x Np, the per-call layout); shared by mxu_blocked and mxu_pack_w so
// both write the same panels and stats
void pack_w_job(int64_t j, const float* w, int64_t B, int64_t K, int64_t N, int64_t Np, const Term* w_terms, float* out,
                TermStats* st) {
  const int64_t w_panels = Np / NR, wj = (w_panels + kPackJob - 1) / kPackJob;
  const int64_t t = j / (B * wj), b = j / wj % B, q = j % wj;
  with_term<PackW>(w_terms[t], w + b * K * N, K, N, Np, q * kPackJob, std::min(w_panels, (q + 1) * kPackJob),
                   out + (t * B + b) * K * Np, st);
}
}  // namespace

struct MxuPackedW {
  int64_t B = 0, K = 0, N = 0, Np = 0;
  std::vector<Term> terms;
  std::unique_ptr<float, PackedB::Free> data;  // terms x B x K x Np, the per-call layout
  std::vector<TermStats> stats;                // per term
};

int64_t mxu_packed_w_bytes(const MxuPackedW& p) {
  return static_cast<int64_t>(p.terms.size()) * p.B * p.K * p.Np * 4;
}

std::shared_ptr<const MxuPackedW> mxu_pack_w(const float* w, int64_t B, int64_t K, int64_t N, const Term* w_terms,
                                             int n_w_terms) {
  auto r = std::make_shared<MxuPackedW>();
  r->B = B, r->K = K, r->N = N, r->Np = (N + NR - 1) / NR * NR;
  r->terms.assign(w_terms, w_terms + n_w_terms);
  r->data.reset(sgemm_avx2_alloc(static_cast<size_t>(std::max<int64_t>(1, n_w_terms * B * K * r->Np))));
  const int64_t wj = (r->Np / NR + kPackJob - 1) / kPackJob, jobs = n_w_terms * B * wj;
  std::vector<TermStats> job_stats(static_cast<size_t>(jobs));
  const auto fn = [&](int64_t j) {
    pack_w_job(j, w, B, K, N, r->Np, w_terms, r->data.get(), &job_stats[static_cast<size_t>(j)]);
  };
  if (host_num_threads() > 1 && B * K * N >= (int64_t{1} << 16)) parallel_for(jobs, fn);
  else for (int64_t j = 0; j < jobs; ++j) fn(j);
  r->stats.resize(static_cast<size_t>(n_w_terms));
  for (int64_t j = 0; j < jobs; ++j) r->stats[static_cast<size_t>(j / (B * wj))].merge(job_stats[static_cast<size_t>(j)]);
  return r;
}

void mxu_blocked(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N,
                 const Term* a_terms, int n_a_terms, const Term* w_terms, int n_w_terms,
                 const MxuStep* steps, int n_steps, const MxuPackedW* pre_w, const MxuEpilogue* epi) {
  if (B <= 0 || M <= 0 || N <= 0) return;
  if (K <= 0) {  // every pass is an empty sum: +0
    std::fill(c, c + B * M * N, 0.0f);
    if (epi) mxu_apply_epilogue(c, B * M * N, N, *epi);
    return;
  }
  Plan pl;
  pl.M = M; pl.K = K; pl.N = N;
  pl.Mp = (M + MR - 1) / MR * MR;
  pl.Np = (N + NR - 1) / NR * NR;
  const int64_t a_panels = pl.Mp / MR, w_panels = pl.Np / NR;
  // uninitialized: packing writes every element (padding included)
  // grow-only per calling thread (64-byte aligned, 2 MB pages from 1 MB): a fresh MB-sized
  // allocation per call paid its page faults every time (~2.5% of a 1024^3 DEFAULT pass)
  float* packed_a = tl_packed_a.get(static_cast<size_t>(n_a_terms * B * pl.Mp * K));
  if (pre_w && (pre_w->B != B || pre_w->K != K || pre_w->N != N ||
                pre_w->terms != std::vector<Term>(w_terms, w_terms + n_w_terms)))
    internal("mxu_blocked: a prepacked W of ", pre_w->B, " x ", pre_w->K, " x ", pre_w->N, " for ", B, " x ", K, " x ", N);
  float* packed_w = pre_w ? pre_w->data.get() : tl_packed_w.get(static_cast<size_t>(n_w_terms * B * K * pl.Np));
  for (int t = 0; t < n_a_terms; ++t) pl.pa.push_back(packed_a + t * B * pl.Mp * K);
  for (int t = 0; t < n_w_terms; ++t) pl.pw.push_back(packed_w + t * B * K * pl.Np);
  const int64_t work = B * M * N * K * n_steps;
  const bool parallel = host_num_threads() > 1 && work >= (int64_t{1} << 20);
  auto each = [&](int64_t n, const std::function<void(int64_t)>& fn) {
    if (parallel) parallel_for(n, fn);
    else for (int64_t i = 0; i < n; ++i) fn(i);
  };

  // packing: split each operand into its terms once (jobs of up to 16 panels)
  const int64_t PJ = kPackJob, aj = (a_panels + PJ - 1) / PJ, wj = (w_panels + PJ - 1) / PJ;
  // with a prepacked W only A is packed here (the bf16 pair panels below still cover W)
  const int64_t a_jobs = n_a_terms * B * aj, w_jobs_all = n_w_terms * B * wj, w_jobs = pre_w ? 0 : w_jobs_all;
  std::vector<TermStats> job_stats(static_cast<size_t>(a_jobs + w_jobs));
  each(a_jobs + w_jobs, [&](int64_t j) {
    TermStats* st = &job_stats[static_cast<size_t>(j)];
    if (j < a_jobs) {
      const int64_t t = j / (B * aj), b = j / aj % B, q = j % aj;
      with_term<PackA>(a_terms[t], a + b * M * K, M, K, pl.Mp, q * PJ, std::min(a_panels, (q + 1) * PJ),
                       const_cast<float*>(pl.pa[t]) + b * pl.Mp * K, st);
    } else {
      pack_w_job(j - a_jobs, w, B, K, N, pl.Np, w_terms, packed_w, st);
    }
  });
  std::vector<TermStats> sa(static_cast<size_t>(n_a_terms)), sw(static_cast<size_t>(n_w_terms));
  for (int64_t j = 0; j < a_jobs; ++j) sa[static_cast<size_t>(j / (B * aj))].merge(job_stats[static_cast<size_t>(j)]);
  for (int64_t j = 0; j < w_jobs; ++j) sw[static_cast<size_t>(j / (B * wj))].merge(job_stats[static_cast<size_t>(a_jobs + j)]);
  if (pre_w) sw = pre_w->stats;
  const bool fma_ok = g_fma_allowed.load() && __builtin_cpu_supports("fma");
  for (int s = 0; s < n_steps; ++s)
    pl.fma.push_back(fma_ok && products_exact(sa[static_cast<size_t>(steps[s].ta)], sw[static_cast<size_t>(steps[s].tw)]));

  // AVX-512 where the pass may fuse (FMA allowed) and it is proven exact: zmm FMA (the faster,
  // see mxu_avx512.h) or else VDPBF16PS, whose terms are pair-packed from the f32 panels
  const bool z_ok = fma_ok && mxu_avx512_enabled(), dp_ok = g_fma_allowed.load() && mxu_bf16_enabled();
  std::vector<bool> need_a(static_cast<size_t>(n_a_terms)), need_w(static_cast<size_t>(n_w_terms));
  bool any_dp = false;
  for (int s = 0; s < n_steps; ++s) {
    const size_t ta = static_cast<size_t>(steps[s].ta), tw = static_cast<size_t>(steps[s].tw);
    int k = -1;
    if (z_ok && pl.fma[static_cast<size_t>(s)]) {
      k = static_cast<int>(Kernel512::Fma512);
    } else if (dp_ok && dp_bf16_exact(sa[ta], sw[tw], K)) {
      k = static_cast<int>(Kernel512::Bf16Dp);
      need_a[ta] = need_w[tw] = any_dp = true;
    }
    pl.k512.push_back(k);
  }
  std::unique_ptr<uint32_t[]> pair_a, pair_w;  // same offsets as the f32 panels (half used)
  pl.pa16.assign(static_cast<size_t>(n_a_terms), nullptr);
  pl.pw16.assign(static_cast<size_t>(n_w_terms), nullptr);
  if (any_dp) {
    pair_a.reset(new uint32_t[static_cast<size_t>(n_a_terms * B * pl.Mp * K)]);
    pair_w.reset(new uint32_t[static_cast<size_t>(n_w_terms * B * K * pl.Np)]);
    for (int t = 0; t < n_a_terms; ++t) pl.pa16[static_cast<size_t>(t)] = pair_a.get() + t * B * pl.Mp * K;
    for (int t = 0; t < n_w_terms; ++t) pl.pw16[static_cast<size_t>(t)] = pair_w.get() + t * B * K * pl.Np;
    each(a_jobs + w_jobs_all, [&](int64_t j) {
      if (j < a_jobs) {
        const int64_t t = j / (B * aj), b = j / aj % B, q = j % aj;
        if (!need_a[static_cast<size_t>(t)]) return;
        bf16_pack_a(pl.pa[t] + b * pl.Mp * K, const_cast<uint32_t*>(pl.pa16[t]) + b * pl.Mp * K, pl.Mp, K, q * PJ,
                    std::min(a_panels, (q + 1) * PJ));
      } else {
        j -= a_jobs;
        const int64_t t = j / (B * wj), b = j / wj % B, q = j % wj;
        if (!need_w[static_cast<size_t>(t)]) return;
        bf16_pack_w(pl.pw[t] + b * K * pl.Np, const_cast<uint32_t*>(pl.pw16[t]) + b * K * pl.Np, pl.Np, K, q * PJ,
                    std::min(w_panels, (q + 1) * PJ));
      }
    });
  }

  std::vector<float> scratch;
  if (n_steps > 1 && K > KC) scratch.resize(static_cast<size_t>(B * M * N));
  pl.c = c;
  pl.p = scratch.empty() ? nullptr : scratch.data();
  pl.steps = steps;
  pl.n_steps = n_steps;
  pl.epi = epi && (epi->bias || epi->relu) ? epi : nullptr;

  // tasks: whole batches, each split into row x column blocks (aligned to MR / NR) when the
  // batches alone cannot keep the threads busy; a few tasks per thread balance a shared machine
  const int64_t T = parallel ? host_num_threads() : 1;
  const int64_t per_b = std::max<int64_t>(1, (4 * T + B - 1) / B);
  const int64_t rb = std::min(per_b, std::max<int64_t>(1, a_panels / 2));
  const int64_t cb = std::min((per_b + rb - 1) / rb, std::max<int64_t>(1, w_panels / 2));
  std::vector<Task> tasks;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < rb; ++r)
      for (int64_t q = 0; q < cb; ++q) {
        Task t{b, a_panels * r / rb * MR, std::min(M, a_panels * (r + 1) / rb * MR),
               w_panels * q / cb * NR, std::min(N, w_panels * (q + 1) / cb * NR)};
        if (t.r0 < t.r1 && t.c0 < t.c1) tasks.push_back(t);
      }
  each(static_cast<int64_t>(tasks.size()), [&](int64_t i) { run_task(pl, tasks[static_cast<size_t>(i)]); });
}

}  // namespace tpu
}  // namespace jxla
