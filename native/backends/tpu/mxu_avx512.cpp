// mxu_avx512.cpp - the AVX-512 pass kernels (zmm FMA and VDPBF16PS; see mxu_avx512.h for when
// each is exact and for the pair layout). Everything that executes AVX-512 is compiled per
// function with target attributes and only called after the CPUID / XCR0 checks below.
#include "backends/tpu/mxu_avx512.h"
#include <cpuid.h>
#include <immintrin.h>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace jxla {
namespace tpu {

using namespace mxu_blocking;

namespace {
// bit 0: AVX-512F usable, bit 1: AVX512-BF16 too
int detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  const unsigned max_sub = a;
  if (!(b & (1u << 16))) return 0;  // AVX512F
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  // XCR0: SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM state enabled by the OS
  if ((lo & 0xe6u) != 0xe6u) return 0;
  if (max_sub < 1) return 1;
  __get_cpuid_count(7, 1, &a, &b, &c, &d);
  return (a & (1u << 5)) ? 3 : 1;  // AVX512_BF16
}

bool env_off(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "0") == 0;
}

std::atomic<bool> g_avx512_allowed{true}, g_bf16_allowed{true};
std::atomic<uint64_t> g_calls[2];

inline uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// One panel chunk: [kcs][W] f32 -> [ceil(kcs/2)][W] pairs (high half: element k, added first).
template <int64_t Wd>
inline void pairs(const float* s, uint32_t* d, int64_t kcs) {
  int64_t k = 0;
  for (; k + 2 <= kcs; k += 2, s += 2 * Wd, d += Wd)
    for (int64_t i = 0; i < Wd; ++i) d[i] = (bits(s[i]) & 0xffff0000u) | (bits(s[Wd + i]) >> 16);
  if (k < kcs)
    for (int64_t i = 0; i < Wd; ++i) d[i] = bits(s[i]) & 0xffff0000u;  // odd K: pad with +0
}

template <int64_t Wd>
void pack(const float* src, uint32_t* dst, int64_t P, int64_t K, int64_t p0, int64_t p1) {
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kcs = std::min(KC, K - k0);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t off = k0 * P + p * kcs * Wd;
      pairs<Wd>(src + off, dst + off, kcs);
    }
  }
}

// acc = cin (or +0); acc[r][j] += products over `steps` k steps (Fma512: one k per step, f32
// panels; Bf16Dp: one k pair per step, pair panels); then comb + acc, NaN -> 0, the epilogue
// (eb: the tile's NP * 16 bias values or null; relu; MxuEpilogue in mxu_kernel.h), store.
// NP: W panels (16 columns each) side by side, 1 or 2.
template <Kernel512 KN, int NP>
__attribute__((target("avx512f,avx512bf16"))) void micro(const void* va, const void* vw0, const void* vw1,
                                                         int64_t steps, const float* cin, int64_t ldi,
                                                         const float* comb, int64_t ldb, bool nz, float* out,
                                                         int64_t ldo, const float* eb, bool ebf, bool relu) {
  const uint32_t* pa = static_cast<const uint32_t*>(va);  // f32 bits or pair words
  const uint32_t* pw0 = static_cast<const uint32_t*>(vw0);
  const uint32_t* pw1 = static_cast<const uint32_t*>(vw1);
  __m512 acc[MR][NP];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j) acc[r][j] = cin ? _mm512_loadu_ps(cin + r * ldi + j * NR) : _mm512_setzero_ps();
  for (int64_t kk = 0; kk < steps; ++kk, pa += MR) {
    __m512i w[NP];
    w[0] = _mm512_loadu_si512(pw0 + kk * NR);
    if (NP == 2) w[NP - 1] = _mm512_loadu_si512(pw1 + kk * NR);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(pa[r]));
#pragma GCC unroll 2
      for (int j = 0; j < NP; ++j) {
        if constexpr (KN == Kernel512::Bf16Dp)
          acc[r][j] = _mm512_dpbf16_ps(acc[r][j], (__m512bh)av, (__m512bh)w[j]);
        else  // exact products (products_exact): one rounding, as mul then add
          acc[r][j] = _mm512_fmadd_ps(_mm512_castsi512_ps(av), _mm512_castsi512_ps(w[j]), acc[r][j]);
      }
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j) {
      __m512 v = acc[r][j];
      if (comb) v = _mm512_add_ps(_mm512_loadu_ps(comb + r * ldb + j * NR), v);
      if (nz) v = _mm512_maskz_mov_ps(static_cast<__mmask16>(~_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)), v);
      if (eb) {  // the first operand's NaN wins, quieted, whatever operand order the add gets
        const __m512 b = _mm512_loadu_ps(eb + j * NR), x = ebf ? b : v;
        const __m512i xq = _mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x00400000));
        v = _mm512_mask_mov_ps(_mm512_add_ps(v, b), _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), _mm512_castsi512_ps(xq));
      }
      // relu: keep v where !(v <= 0) (v > 0 or NaN), else +0
      if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ), v);
      _mm512_storeu_ps(out + r * ldo + j * NR, v);
    }
}

inline void copy_block(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) std::memcpy(dst + i * ldd, src + i * lds, static_cast<size_t>(cols) * 4);
}
}  // namespace

static int features() {
  static const int f = detect();
  return f;
}
bool mxu_avx512_available() { return features() & 1; }
bool mxu_bf16_available() { return features() & 2; }
bool mxu_avx512_enabled() {
  static const bool env = !env_off("JXLA_TPU_AVX512");
  return env && g_avx512_allowed.load() && mxu_avx512_available();
}
bool mxu_bf16_enabled() {
  static const bool env = !env_off("JXLA_TPU_BF16") && !env_off("JXLA_TPU_AMX");
  return env && g_bf16_allowed.load() && mxu_bf16_available();
}
void set_mxu_avx512_allowed(bool on) { g_avx512_allowed.store(on); }
void set_mxu_bf16_allowed(bool on) { g_bf16_allowed.store(on); }
uint64_t mxu_avx512_calls(Kernel512 k) { return g_calls[static_cast<int>(k)].load(); }

void bf16_pack_a(const float* src, uint32_t* dst, int64_t Mp, int64_t K, int64_t p0, int64_t p1) {
  pack<MR>(src, dst, Mp, K, p0, p1);
}
void bf16_pack_w(const float* src, uint32_t* dst, int64_t Np, int64_t K, int64_t p0, int64_t p1) {
  pack<NR>(src, dst, Np, K, p0, p1);
}

void avx512_pass_task(Kernel512 kn, const void* vA, const void* vW, int64_t M, int64_t K, int64_t N, int64_t Mp,
                      int64_t Np, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float* c, float* mid, bool comb,
                      bool nz, const MxuEpilogue* epi) {
  const uint32_t* A = static_cast<const uint32_t*>(vA);  // same offsets for both panel kinds
  const uint32_t* W = static_cast<const uint32_t*>(vW);
  const bool dp = kn == Kernel512::Bf16Dp;
  constexpr int64_t NR2 = 2 * NR;
  alignas(64) float tin[MR * NR2] = {}, tcomb[MR * NR2] = {}, tout[MR * NR2], tbias[NR2] = {};
  const float* bias = epi ? epi->bias : nullptr;
  const bool ebf = epi && epi->bias_first, relu_e = epi && epi->relu;
  uint64_t calls = 0;
  for (int64_t jc = c0; jc < c1; jc += NC) {
    const int64_t jend = std::min(jc + NC, c1);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc), steps = dp ? (kc + 1) / 2 : kc;
      const bool first = pc == 0, last = pc + kc == K;
      float* dst = last ? c : mid;
      const bool cb = last && comb, z = last && nz, eb = last && bias, er = last && relu_e;
      for (int64_t ic = r0; ic < r1; ic += MC) {
        const int64_t iend = std::min(ic + MC, r1);
        for (int64_t jr = jc; jr < jend; jr += NR2) {
          const bool two = jr + NR < jend;  // a second 16-column panel in this block
          const uint32_t* pw0 = W + pc * Np + (jr / NR) * kc * NR;
          const uint32_t* pw1 = two ? pw0 + kc * NR : pw0;
          const int64_t ncols = two ? NR2 : NR, nr = std::min(ncols, N - jr);
          auto kern = dp ? (two ? micro<Kernel512::Bf16Dp, 2> : micro<Kernel512::Bf16Dp, 1>)
                         : (two ? micro<Kernel512::Fma512, 2> : micro<Kernel512::Fma512, 1>);
          for (int64_t ir = ic; ir < iend; ir += MR) {
            const uint32_t* pa = A + pc * Mp + (ir / MR) * kc * MR;
            const int64_t mr = std::min(MR, M - ir);
            ++calls;
            if (mr == MR && nr == ncols) {
              kern(pa, pw0, pw1, steps, first ? nullptr : mid + ir * N + jr, N, cb ? c + ir * N + jr : nullptr, N, z,
                   dst + ir * N + jr, N, eb ? bias + jr : nullptr, ebf, er);
              continue;
            }
            // edge tile through scratch; padded lanes compute +0 products, unused
            if (!first) copy_block(mid + ir * N + jr, N, tin, NR2, mr, nr);
            if (cb) copy_block(c + ir * N + jr, N, tcomb, NR2, mr, nr);
            if (eb) copy_block(bias + jr, 0, tbias, 0, 1, nr);
            kern(pa, pw0, pw1, steps, first ? nullptr : tin, NR2, cb ? tcomb : nullptr, NR2, z, tout, NR2,
                 eb ? tbias : nullptr, ebf, er);
            copy_block(tout, NR2, dst + ir * N + jr, N, mr, nr);
          }
        }
      }
    }
  }
  g_calls[static_cast<int>(kn)].fetch_add(calls, std::memory_order_relaxed);
}

}  // namespace tpu
}  // namespace jxla
