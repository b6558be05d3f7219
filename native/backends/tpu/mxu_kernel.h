// mxu_kernel.h - the fast MXU pass engine: a BLIS-style blocked GEMM (packed 6-row A panels and
// 16-column W panels, k blocked in chunks, 6x16 AVX2 register tile, mul then add, parallel on
// the host thread pool) that is BIT-IDENTICAL to mxu_pass_reference.
// Invariant that makes blocking exact: every product a*w is rounded once (f32 mul) and every
// output element receives its products in ascending k with one f32 add each, starting from +0.
// k chunks are visited in ascending order and each chunk's accumulator starts from the f32
// value the previous chunk stored, so the add sequence per element is the reference's.
// The operand split (hi / mid / lo) happens while packing, once per operand and term, and all
// passes of a HIGH/HIGHEST dot read the same packed panels. The combination of the passes is
// fused into the tile epilogue of each pass's last k chunk (c = c + pass, then NaN -> 0 where
// the algorithm says so), in the order mxu.h defines.
// FMA: fma(a, w, acc) rounds once, a*w + acc; mul then add rounds a*w first. When a*w is exact
// in f32 the two are identical, so a pass uses the FMA kernel exactly when packing proved every
// product exact: both terms hold finite bf16 values (8 significant bits, so a product has at
// most 16) and every nonzero product lies in [2^-126, 2^127) (no subnormal, no overflow).
// Otherwise (inf/NaN, non-bf16 values, extreme ranges) the mul-then-add kernel runs.
// AVX-512 (mxu_avx512.h, chosen per pass at run time): where FMA is allowed and proven exact a
// 6x32 zmm FMA kernel replaces the AVX2 FMA one; with it switched off, a VDPBF16PS kernel runs
// the passes dp_bf16_exact (mxu_kernel.cpp) proves equal to the chain. Same invariant for both.
#pragma once
#include <cstdint>
#include <memory>

namespace jxla {
namespace tpu {

// The value an operand element contributes to a pass (applied while packing).
enum class Term : uint8_t {
  Exact,  // x itself (mxu_pass: the caller's values are bf16 already)
  Round,  // bf16(x), nearest even (DEFAULT)
  Hi,     // x with the low 16 bits cleared
  Lo2,    // bf16(x - hi)                    (HIGH's lo)
  Mid,    // trunc(x - hi)                   (HIGHEST's mid)
  Lo3,    // bf16(x - hi - mid)              (HIGHEST's lo)
};

// One pass of a multi-pass dot: operand terms a_terms[ta] x w_terms[tw]. Pass 0 stores its sum
// into c; every later pass s does c = c + pass_s, then c = NaN->0(c) if nz_after.
struct MxuStep {
  int ta, tw;
  bool nz_after;
};

// The element-wise tail of a dense layer, applied to the final f32 MXU result c exactly as the
// reference evaluates add then relu on f32 (backends/host/reference.cpp):
//   y = f32(c + bias[j]) (bias_first: bias[j] + c), j the column (the output's last index);
//       the f32 sum equals the reference's double sum rounded to f32 (53 >= 2*24 + 2 bits);
//       NaN: the first operand's NaN wins, quieted (the x86 rule the reference's add follows);
//   relu: y = (y > 0 || y is NaN) ? y : +0 (so -0 -> +0, NaN kept).
struct MxuEpilogue {
  const float* bias = nullptr;  // bias[0..N) (N the output's last dimension); null: no add
  bool bias_first = false;      // the graph's add reads the bias as its first operand
  bool relu = false;
};
// The same on a flat row-major array of `count` values whose last dimension is n (the scalar
// form: fallback paths and tests).
void mxu_apply_epilogue(float* c, int64_t count, int64_t n, const MxuEpilogue& e);

// True when the CPU can run the blocked kernel (AVX2).
bool mxu_kernel_available();
// Whether a pass whose products are all exact may use FMA (default true; tests turn it off to
// exercise the mul-then-add kernel on the same data).
void set_mxu_fma_allowed(bool on);

// W (B x K x N) split into its terms and packed exactly as mxu_blocked packs it per call, with
// what packing learned about each term (session 7): built once for a constant weight, it
// replaces the per-call W packing (same panels, same stats, so the same kernels and bits).
struct MxuPackedW;
std::shared_ptr<const MxuPackedW> mxu_pack_w(const float* w, int64_t B, int64_t K, int64_t N, const Term* w_terms,
                                             int n_w_terms);
int64_t mxu_packed_w_bytes(const MxuPackedW& p);

// c[b] = combination of the steps' passes over a[b] (M x K) . w[b] (K x N), row-major,
// batch-major. Runs on the host thread pool. Requires mxu_kernel_available().
// pre_w (may be null): w packed by mxu_pack_w with the same B, K, N and terms (w is then not
// read); anything else is an internal error. epi (may be null): applied to every output in
// the last step's final store (bias of N values).
void mxu_blocked(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N,
                 const Term* a_terms, int n_a_terms, const Term* w_terms, int n_w_terms,
                 const MxuStep* steps, int n_steps, const MxuPackedW* pre_w = nullptr,
                 const MxuEpilogue* epi = nullptr);

}  // namespace tpu
}  // namespace jxla
