// mxu.cpp - the emulated MXU (see mxu.h for the numerics it defines).
#include "backends/tpu/mxu.h"
#include <immintrin.h>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>
#include "backends/host/elem.h"
#include "backends/host/reference_internal.h"
#include "ir/error.h"

namespace jxla {
namespace tpu {

namespace {
std::atomic<int> g_precision{kPrecisionDefault};

// Reads any float buffer as f32 values (bf16/f16 widen exactly).
std::vector<float> as_f32(const Buffer& b) {
  const int64_t n = b.numel();  // hoisted: numel() walks the shape on every call
  std::vector<float> v(static_cast<size_t>(n));
  if (b.dtype == DType::F32) {  // the common case: a plain copy (same values, bit for bit)
    if (n) std::memcpy(v.data(), b.data, static_cast<size_t>(n) * 4);
    return v;
  }
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(getf(b, i));
  return v;
}

// Writes f32 results with the output dtype's round-to-nearest-even.
void store(Buffer& out, const float* c) {
  int64_t n = out.numel();
  switch (out.dtype) {
    case DType::F32: std::memcpy(out.data, c, static_cast<size_t>(n) * 4); break;
    case DType::BF16: for (int64_t i = 0; i < n; ++i) out.as<uint16_t>()[i] = f32_to_bf16(c[i]); break;
    case DType::F16: for (int64_t i = 0; i < n; ++i) out.as<uint16_t>()[i] = f32_to_f16(c[i]); break;
    default: internal("mxu: unsupported output dtype ", dtype_name(out.dtype));
  }
}

// The AVX2 kernel: 16-column panels of w packed contiguously, 4 rows of a at a time, eight
// 8-wide accumulators kept in registers across the whole k range. Every output element still
// receives its products in ascending k order with one f32 add each (mul then add, no FMA
// needed: the products are exact), so the result equals mxu_pass_reference bit for bit.
template <int R>
__attribute__((target("avx2"))) inline void micro(const float* a, int64_t lda, const float* wp, int64_t K, float* acc) {
  __m256 c[R][2];
  for (int r = 0; r < R; ++r) { c[r][0] = _mm256_setzero_ps(); c[r][1] = _mm256_setzero_ps(); }
  for (int64_t k = 0; k < K; ++k) {
    __m256 w0 = _mm256_loadu_ps(wp + k * 16), w1 = _mm256_loadu_ps(wp + k * 16 + 8);
    for (int r = 0; r < R; ++r) {
      __m256 av = _mm256_set1_ps(a[r * lda + k]);
      c[r][0] = _mm256_add_ps(c[r][0], _mm256_mul_ps(av, w0));
      c[r][1] = _mm256_add_ps(c[r][1], _mm256_mul_ps(av, w1));
    }
  }
  for (int r = 0; r < R; ++r) { _mm256_storeu_ps(acc + r * 16, c[r][0]); _mm256_storeu_ps(acc + r * 16 + 8, c[r][1]); }
}

__attribute__((target("avx2"))) void pass_avx2(const float* a, const float* w, float* c, int64_t M, int64_t K, int64_t N) {
  std::vector<float> wp(static_cast<size_t>(K) * 16);
  float acc[4 * 16];
  for (int64_t j0 = 0; j0 < N; j0 += 16) {
    int64_t nj = std::min<int64_t>(16, N - j0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t t = 0; t < 16; ++t) wp[k * 16 + t] = t < nj ? w[k * N + j0 + t] : 0.0f;
    int64_t i = 0;
    for (; i + 4 <= M; i += 4) {
      micro<4>(a + i * K, K, wp.data(), K, acc);
      for (int r = 0; r < 4; ++r) std::memcpy(c + (i + r) * N + j0, acc + r * 16, static_cast<size_t>(nj) * 4);
    }
    for (; i < M; ++i) {
      micro<1>(a + i * K, K, wp.data(), K, acc);
      std::memcpy(c + i * N + j0, acc, static_cast<size_t>(nj) * 4);
    }
  }
}

bool detect_vectorized() {
  const char* e = std::getenv("JXLA_TPU_FASTPATH");
  if (e && std::strcmp(e, "0") == 0) return false;
  return __builtin_cpu_supports("avx2");
}

inline float nan_to_zero(float v) { return std::isnan(v) ? 0.0f : v; }
}  // namespace

int default_precision() { return g_precision.load(); }
void set_default_precision(int p) {
  if (p < 0 || p > 2) invalid("set_matmul_precision: precision ", p, " is not 0 (DEFAULT), 1 (HIGH) or 2 (HIGHEST)");
  g_precision.store(p);
}

int node_precision(const Node& n) {
  int64_t p = n.attrs.get_int_or("precision", -1);
  if (p < 0) return default_precision();
  if (p > 2) invalid(op_name(n.op), ": precision ", p, " is not 0, 1 or 2");
  return static_cast<int>(p);
}

int mxu_passes(DType dt, int precision) {
  if (dt == DType::BF16) return 1;
  return precision == kPrecisionHighest ? 6 : precision == kPrecisionHigh ? 3 : 1;
}

float bf16_truncate(float x) {
  uint32_t u; std::memcpy(&u, &x, 4);
  u &= 0xffff0000u;
  float r; std::memcpy(&r, &u, 4);
  return r;
}

void split_bf16(float x, int terms, float* out) {
  if (terms == 1) { out[0] = round_bf16(x); return; }
  float hi = bf16_truncate(x);
  float rem = x - hi;  // exact: the low 16 bits of x
  out[0] = hi;
  if (terms == 2) { out[1] = round_bf16(rem); return; }
  float mid = bf16_truncate(rem);
  out[1] = mid;
  out[2] = round_bf16(rem - mid);
}

void mxu_pass_reference(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float acc = 0.0f;
        for (int64_t k = 0; k < K; ++k) acc += a[(b * M + i) * K + k] * w[(b * K + k) * N + j];
        c[(b * M + i) * N + j] = acc;
      }
}

bool mxu_vectorized() {
  static const bool v = detect_vectorized();
  return v;
}

int mxu_threads() {
  static const int n = [] {
    const char* e = std::getenv("JXLA_NUM_THREADS");
    int v = e ? std::atoi(e) : static_cast<int>(std::thread::hardware_concurrency());
    return std::max(1, std::min(v, 64));
  }();
  return n;
}

void mxu_pass(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N) {
  if (!mxu_vectorized()) return mxu_pass_reference(a, w, c, B, M, K, N);
  // Rows are independent and each output keeps its ascending-k order, so splitting the rows
  // over threads changes nothing in the result (tested bit-identical to the reference).
  int T = mxu_threads();
  if (T > 1 && M >= 8 && M * K * N >= (1 << 16)) {
    int64_t per = ((M + T - 1) / T + 3) / 4 * 4;
    for (int64_t b = 0; b < B; ++b) {
      std::vector<std::thread> th;
      for (int64_t r0 = per; r0 < M; r0 += per)
        th.emplace_back(pass_avx2, a + (b * M + r0) * K, w + b * K * N, c + (b * M + r0) * N, std::min(per, M - r0), K, N);
      pass_avx2(a + b * M * K, w + b * K * N, c + b * M * N, std::min(per, M), K, N);
      for (auto& t : th) t.join();
    }
    return;
  }
  for (int64_t b = 0; b < B; ++b) pass_avx2(a + b * M * K, w + b * K * N, c + b * M * N, M, K, N);
}

void mxu_matmul_f32(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N, int precision) {
  const int terms = precision == kPrecisionHighest ? 3 : precision == kPrecisionHigh ? 2 : 1;
  const size_t na = static_cast<size_t>(B * M * K), nw = static_cast<size_t>(B * K * N), nc = static_cast<size_t>(B * M * N);
  std::vector<std::vector<float>> at(terms, std::vector<float>(na)), wt(terms, std::vector<float>(nw));
  float parts[3];
  for (size_t i = 0; i < na; ++i) { split_bf16(a[i], terms, parts); for (int t = 0; t < terms; ++t) at[t][i] = parts[t]; }
  for (size_t i = 0; i < nw; ++i) { split_bf16(w[i], terms, parts); for (int t = 0; t < terms; ++t) wt[t][i] = parts[t]; }
  auto pass = [&](int ta, int tw, float* out) { mxu_pass(at[ta].data(), wt[tw].data(), out, B, M, K, N); };
  if (terms == 1) { pass(0, 0, c); return; }
  std::vector<float> p(nc);
  if (terms == 2) {  // bf16_3x: (lo.hi + hi.lo) then + hi.hi; 0 = hi, 1 = lo
    pass(1, 0, c);
    pass(0, 1, p.data());
    for (size_t i = 0; i < nc; ++i) c[i] = nan_to_zero(c[i] + p[i]);
    pass(0, 0, p.data());
    for (size_t i = 0; i < nc; ++i) c[i] = c[i] + p[i];
    return;
  }
  // bf16_6x: 0 = hi, 1 = mid, 2 = lo; the small terms first, in XLA's order
  pass(1, 1, c);
  const int order[4][2] = {{0, 2}, {2, 0}, {0, 1}, {1, 0}};
  for (auto& o : order) {
    pass(o[0], o[1], p.data());
    for (size_t i = 0; i < nc; ++i) c[i] = c[i] + p[i];
  }
  for (size_t i = 0; i < nc; ++i) c[i] = nan_to_zero(c[i]);
  pass(0, 0, p.data());
  for (size_t i = 0; i < nc; ++i) c[i] = c[i] + p[i];
}

bool mxu_supports(const Node& n) {
  if (n.op != Op::DotGeneral && n.op != Op::Conv2d) return false;
  DType dt = n.inputs.at(0)->dtype;
  return dt == DType::F32 || dt == DType::BF16 || dt == DType::F16;
}

namespace {
// Runs [B,M,K] x [B,K,N] float operands at the node's dtype rules into c.
void run_matmul(DType dt, const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N, int precision) {
  if (dt == DType::BF16) mxu_pass(a, w, c, B, M, K, N);  // values are bf16 already: exact products
  else mxu_matmul_f32(a, w, c, B, M, K, N, precision);
}
}  // namespace

void mxu_dot(const Node& n, const Buffer& l, const Buffer& r, Buffer& out, int precision) {
  const Attrs& at = n.attrs;
  auto lc = at.get_ints("dot_general", "lhs_contract"), rc = at.get_ints("dot_general", "rhs_contract");
  auto lb = at.get_ints_or("lhs_batch", {}), rb = at.get_ints_or("rhs_batch", {});
  auto free_dims = [](size_t rank, const std::vector<int64_t>& x, const std::vector<int64_t>& y) {
    std::vector<bool> used(rank, false);
    for (auto d : x) used[d] = true;
    for (auto d : y) used[d] = true;
    std::vector<int64_t> f;
    for (size_t d = 0; d < rank; ++d) if (!used[d]) f.push_back(static_cast<int64_t>(d));
    return f;
  };
  auto lf = free_dims(l.shape.size(), lb, lc), rf = free_dims(r.shape.size(), rb, rc);
  int64_t B = 1, M = 1, K = 1, N = 1;
  for (auto d : lb) B *= l.shape[d];
  for (auto d : lf) M *= l.shape[d];
  for (auto d : lc) K *= l.shape[d];
  for (auto d : rf) N *= r.shape[d];
  std::vector<int64_t> lp = lb, rp = rb;
  lp.insert(lp.end(), lf.begin(), lf.end()); lp.insert(lp.end(), lc.begin(), lc.end());
  rp.insert(rp.end(), rc.begin(), rc.end()); rp.insert(rp.end(), rf.begin(), rf.end());
  BufferRef L = permute_buffer(l, lp), R = permute_buffer(r, rp);
  std::vector<float> a = as_f32(*L), w = as_f32(*R), c(static_cast<size_t>(B * M * N), 0.0f);
  if (!c.empty() && K > 0) run_matmul(l.dtype, a.data(), w.data(), c.data(), B, M, K, N, precision);
  store(out, c.data());
}

void mxu_conv2d(const Node& n, const Buffer& x, const Buffer& w, Buffer& out, int precision) {
  auto st = n.attrs.get_ints("conv2d", "stride"), dl = n.attrs.get_ints("conv2d", "dilation");
  auto pd = n.attrs.get_ints("conv2d", "padding");
  int64_t G = n.attrs.get_int("conv2d", "groups");
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t O = w.shape[0], KC = w.shape[1], KH = w.shape[2], KW = w.shape[3];
  int64_t OH = out.shape[2], OW = out.shape[3], opg = O / G;
  int64_t rows = N * OH * OW, depth = KC * KH * KW;
  std::vector<float> xs = as_f32(x), ws = as_f32(w), res(static_cast<size_t>(out.numel()), 0.0f);
  // im2col per group: patches [rows, depth] . filters [depth, opg]; padded taps are zeros
  std::vector<float> cols(static_cast<size_t>(rows * depth)), filt(static_cast<size_t>(depth * opg)),
      y(static_cast<size_t>(rows * opg));
  for (int64_t g = 0; g < G && rows > 0 && opg > 0; ++g) {
    for (int64_t b = 0; b < N; ++b)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          float* row = cols.data() + ((b * OH + oh) * OW + ow) * depth;
          for (int64_t kc = 0; kc < KC; ++kc)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * st[0] - pd[0] + kh * dl[0], iw = ow * st[1] - pd[2] + kw * dl[1];
                bool in = ih >= 0 && ih < H && iw >= 0 && iw < W;
                row[(kc * KH + kh) * KW + kw] = in ? xs[static_cast<size_t>(((b * C + g * KC + kc) * H + ih) * W + iw)] : 0.0f;
              }
        }
    for (int64_t o = 0; o < opg; ++o)
      for (int64_t d = 0; d < depth; ++d) filt[static_cast<size_t>(d * opg + o)] = ws[static_cast<size_t>((g * opg + o) * depth + d)];
    if (depth > 0) run_matmul(x.dtype, cols.data(), filt.data(), y.data(), 1, rows, depth, opg, precision);
    else std::fill(y.begin(), y.end(), 0.0f);
    for (int64_t b = 0; b < N; ++b)
      for (int64_t o = 0; o < opg; ++o)
        for (int64_t p = 0; p < OH * OW; ++p)
          res[static_cast<size_t>((b * O + g * opg + o) * OH * OW + p)] = y[static_cast<size_t>((b * OH * OW + p) * opg + o)];
  }
  store(out, res.data());
}

}  // namespace tpu
}  // namespace jxla
