// mxu.cpp - the emulated MXU (see mxu.h for the numerics it defines).
#include "backends/tpu/mxu.h"
#include "backends/tpu/mxu_kernel.h"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>
#include "backends/host/elem.h"
#include "backends/host/thread_pool.h"
#include "backends/host/reference_internal.h"
#include "ir/error.h"
#include "runtime/buffer.h"
#include "runtime/metrics.h"

namespace jxla {
namespace tpu {

namespace {
std::atomic<int> g_precision{kPrecisionDefault};

// Reads any float buffer as f32 values (bf16/f16 widen exactly).
std::vector<float> as_f32(const Buffer& b) {
  const int64_t n = b.numel();
  std::vector<float> v(static_cast<size_t>(n));
  switch (b.dtype) {  // typed loops: this runs on every MXU call
    case DType::F32: if (n) std::memcpy(v.data(), b.data, static_cast<size_t>(n) * 4); break;
    case DType::BF16: for (int64_t i = 0; i < n; ++i) v[i] = bf16_to_f32(b.as<uint16_t>()[i]); break;
    default: for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(getf(b, i));
  }
  return v;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i) if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
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

// The fast path: on by default where the blocked kernel can run, off with JXLA_TPU_FASTPATH=0
// or set_mxu_fastpath(false).
std::atomic<bool> g_fast{[] {
  const char* e = std::getenv("JXLA_TPU_FASTPATH");
  return !(e && std::strcmp(e, "0") == 0) && mxu_kernel_available();
}()};

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

bool mxu_vectorized() { return g_fast.load(std::memory_order_relaxed); }
void set_mxu_fastpath(bool on) { g_fast.store(on && mxu_kernel_available()); }

int mxu_threads() { return host_num_threads(); }

void mxu_pass(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N) {
  if (!mxu_vectorized()) return mxu_pass_reference(a, w, c, B, M, K, N);
  const Term exact = Term::Exact;
  const MxuStep step{0, 0, false};
  mxu_blocked(a, w, c, B, M, K, N, &exact, 1, &exact, 1, &step, 1);
}

namespace {
// The same passes and sums as the reference below, as steps of the blocked engine: the
// operands are split while packing and the passes combine in their last k chunk's epilogue.
struct PassPlan {
  const Term* terms;
  int n_terms;
  const MxuStep* steps;
  int n_steps;
};
PassPlan pass_plan(int precision) {
  static const Term t1[] = {Term::Round}, t2[] = {Term::Hi, Term::Lo2}, t3[] = {Term::Hi, Term::Mid, Term::Lo3};
  static const MxuStep s1[] = {{0, 0, false}};
  static const MxuStep s3[] = {{1, 0, false}, {0, 1, true}, {0, 0, false}};  // lo.hi, hi.lo, NaN->0, hi.hi
  static const MxuStep s6[] = {{1, 1, false}, {0, 2, false}, {2, 0, false}, {0, 1, false}, {1, 0, true}, {0, 0, false}};
  if (precision == kPrecisionHighest) return {t3, 3, s6, 6};
  if (precision == kPrecisionHigh) return {t2, 2, s3, 3};
  return {t1, 1, s1, 1};
}

// Constant weights (frozen buffers: ONNX initializers, a function's captured constants) are
// split into their terms and packed once per (buffer, precision, shape) instead of per call, as
// the host's PrepackCache does for its GEMM. Frozen buffers never change and their ids are never
// reused, so an entry can never go stale. A few entries, least recently used first out.
struct WEntry {
  uint64_t id;
  int precision;
  int64_t B, K, N;
  std::shared_ptr<const MxuPackedW> w;
};
std::mutex g_wmu;
std::vector<WEntry> g_wcache;  // most recently used last
constexpr size_t kWEntries = 8;
std::atomic<bool> g_wcache_on{!std::getenv("JXLA_TPU_PREPACK") || std::strcmp(std::getenv("JXLA_TPU_PREPACK"), "0") != 0};

std::shared_ptr<const MxuPackedW> packed_weight(const Buffer& r, const float* wp, int64_t B, int64_t K, int64_t N,
                                                int precision) {
  std::lock_guard<std::mutex> g(g_wmu);  // concurrent first calls pack once
  for (size_t i = 0; i < g_wcache.size(); ++i) {
    const WEntry& e = g_wcache[i];
    if (e.id == r.id && e.precision == precision && e.B == B && e.K == K && e.N == N) {
      WEntry hit = e;
      g_wcache.erase(g_wcache.begin() + static_cast<std::ptrdiff_t>(i));
      g_wcache.push_back(hit);
      return hit.w;
    }
  }
  const PassPlan p = pass_plan(precision);
  WEntry e{r.id, precision, B, K, N, mxu_pack_w(wp, B, K, N, p.terms, p.n_terms)};
  counter_add("TpuPrepackedWeights");
  if (g_wcache.size() >= kWEntries) g_wcache.erase(g_wcache.begin());
  g_wcache.push_back(e);
  return e.w;
}
}  // namespace

namespace {
std::atomic<bool> g_epilogue_on{!std::getenv("JXLA_TPU_EPILOGUE") || std::strcmp(std::getenv("JXLA_TPU_EPILOGUE"), "0") != 0};

inline uint32_t f32_bits(float v) { uint32_t u; std::memcpy(&u, &v, 4); return u; }
inline float quieted(float v) {
  const uint32_t u = f32_bits(v) | 0x00400000u;
  float r; std::memcpy(&r, &u, 4);
  return r;
}
}  // namespace

bool mxu_epilogue_fusion_enabled() { return g_epilogue_on.load(std::memory_order_relaxed); }
void mxu_set_epilogue_fusion_enabled(bool on) { g_epilogue_on = on; }

// The scalar epilogue (MxuEpilogue): the reference's formulas (double add rounded to f32, relu
// keeping NaN), with the NaN-operand rule made explicit as in the vector kernels.
void mxu_apply_epilogue(float* c, int64_t count, int64_t n, const MxuEpilogue& e) {
  for (int64_t r = 0; r < count / n; ++r) {
    float* row = c + r * n;
    for (int64_t j = 0; j < n; ++j) {
      float v = row[j];
      if (e.bias) {
        const float x = e.bias_first ? e.bias[j] : v, y = e.bias_first ? v : e.bias[j];
        v = std::isnan(x) ? quieted(x) : static_cast<float>(static_cast<double>(x) + static_cast<double>(y));
      }
      if (e.relu) v = std::isnan(v) ? v : (v > 0 ? v : 0.0f);
      row[j] = v;
    }
  }
}

void mxu_set_weight_cache_enabled(bool on) {
  g_wcache_on = on;
  if (!on) {
    std::lock_guard<std::mutex> g(g_wmu);
    g_wcache.clear();
  }
}

void mxu_matmul_f32(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N, int precision,
                    const MxuPackedW* pre_w, const MxuEpilogue* epi) {
  if (!mxu_vectorized()) {
    mxu_matmul_f32_reference(a, w, c, B, M, K, N, precision);
    if (epi) mxu_apply_epilogue(c, B * M * N, N, *epi);
    return;
  }
  const PassPlan p = pass_plan(precision);
  mxu_blocked(a, w, c, B, M, K, N, p.terms, p.n_terms, p.terms, p.n_terms, p.steps, p.n_steps, pre_w, epi);
}

void mxu_matmul_f32_reference(const float* a, const float* w, float* c, int64_t B, int64_t M, int64_t K, int64_t N, int precision) {
  const int terms = precision == kPrecisionHighest ? 3 : precision == kPrecisionHigh ? 2 : 1;
  const size_t na = static_cast<size_t>(B * M * K), nw = static_cast<size_t>(B * K * N), nc = static_cast<size_t>(B * M * N);
  std::vector<std::vector<float>> at(terms, std::vector<float>(na)), wt(terms, std::vector<float>(nw));
  float parts[3];
  for (size_t i = 0; i < na; ++i) { split_bf16(a[i], terms, parts); for (int t = 0; t < terms; ++t) at[t][i] = parts[t]; }
  for (size_t i = 0; i < nw; ++i) { split_bf16(w[i], terms, parts); for (int t = 0; t < terms; ++t) wt[t][i] = parts[t]; }
  auto pass = [&](int ta, int tw, float* out) { mxu_pass_reference(at[ta].data(), wt[tw].data(), out, B, M, K, N); };
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

void mxu_dot(const Node& n, const Buffer& l, const Buffer& r, Buffer& out, int precision, const MxuEpilogue* epi) {
  const DotLayout dl = dot_layout(n, l.shape, r.shape);  // the reference's [B,M,K] x [B,K,N] view
  const int64_t B = dl.B, M = dl.M, K = dl.K, N = dl.N;
  if (epi && (l.dtype != DType::F32 || r.dtype != DType::F32 || out.dtype != DType::F32 || out.shape.empty()))
    internal("mxu_dot: an epilogue needs f32 operands and a non-scalar f32 result");
  // the bias runs along the output's last dimension: in the kernel when that is the N columns
  const int64_t last = epi ? out.shape.back() : 0;
  const MxuEpilogue* kepi = epi && last == N ? epi : nullptr;
  const std::vector<int64_t>& lp = dl.lp;
  const std::vector<int64_t>& rp = dl.rp;
  // f32 operands already in [B, M, K] / [B, K, N] order are read in place, and an f32 result
  // is written in place: no copies around the (fast) MXU kernel
  std::vector<float> a, w, c;
  const float* ap = nullptr;
  const float* wp = nullptr;
  if (l.dtype == DType::F32 && is_identity(lp)) ap = l.as<float>();
  else { a = is_identity(lp) ? as_f32(l) : as_f32(*permute_buffer(l, lp)); ap = a.data(); }
  if (r.dtype == DType::F32 && is_identity(rp)) wp = r.as<float>();
  else { w = is_identity(rp) ? as_f32(r) : as_f32(*permute_buffer(r, rp)); wp = w.data(); }
  float* cp = out.dtype == DType::F32 ? out.as<float>() : (c.resize(static_cast<size_t>(B * M * N)), c.data());
  if (B * M * N == 0) return;
  if (K > 0 && l.dtype == DType::F32 && r.dtype == DType::F32 && is_identity(rp) && mxu_vectorized() &&
      r.frozen.load(std::memory_order_acquire) && g_wcache_on.load(std::memory_order_relaxed)) {
    const auto pw = packed_weight(r, wp, B, K, N, precision);
    mxu_matmul_f32(ap, wp, cp, B, M, K, N, precision, pw.get(), kepi);
  } else if (K > 0 && kepi) {
    mxu_matmul_f32(ap, wp, cp, B, M, K, N, precision, nullptr, kepi);
  } else if (K > 0) {
    run_matmul(l.dtype, ap, wp, cp, B, M, K, N, precision);
  } else {
    std::fill(cp, cp + B * M * N, 0.0f);
    if (kepi) mxu_apply_epilogue(cp, B * M * N, N, *kepi);
  }
  if (epi && !kepi) mxu_apply_epilogue(cp, B * M * N, last, *epi);
  if (out.dtype != DType::F32) store(out, cp);
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
