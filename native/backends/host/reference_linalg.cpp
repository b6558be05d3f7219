// reference_linalg.cpp - dot_general (f32/f64 through OpenBLAS GEMM tiled by gemm.h, other dtypes by exact
// loops accumulating in double/int64), conv2d and pooling by direct loops.
#include <cmath>
#include <cstring>
#include <vector>
#include "backends/host/elem.h"
#include "backends/host/gemm.h"
#include "backends/host/reference_internal.h"
#include "ir/error.h"

namespace jxla {

BufferRef permute_buffer(const Buffer& x, const std::vector<int64_t>& perm) {
  Shape os(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) os[i] = x.shape[perm[i]];
  BufferRef o = alloc_buffer(x.dtype, os, nullptr);
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) if (perm[i] != static_cast<int64_t>(i)) identity = false;
  if (identity) { std::memcpy(o->data, x.data, static_cast<size_t>(x.nbytes)); return o; }
  auto xst = strides_of(x.shape);
  std::vector<int64_t> oi(os.size());
  size_t es = static_cast<size_t>(dtype_size(x.dtype));
  int64_t N = o->numel();
  for (int64_t i = 0; i < N; ++i) {
    unravel(i, os, oi.data());
    int64_t src = 0;
    for (size_t d = 0; d < os.size(); ++d) src += oi[d] * xst[perm[d]];
    std::memcpy(static_cast<char*>(o->data) + i * es, static_cast<const char*>(x.data) + src * es, es);
  }
  return o;
}

DotLayout dot_layout(const Node& n, const Shape& l, const Shape& r) {
  const Attrs& at = n.attrs;
  auto lc = at.get_ints("dot_general", "lhs_contract"), rc = at.get_ints("dot_general", "rhs_contract");
  auto lb = at.get_ints_or("lhs_batch", {}), rb = at.get_ints_or("rhs_batch", {});
  auto free_dims = [](size_t rank, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    std::vector<bool> used(rank, false);
    for (auto d : a) used[d] = true;
    for (auto d : b) used[d] = true;
    std::vector<int64_t> f;
    for (size_t d = 0; d < rank; ++d) if (!used[d]) f.push_back(static_cast<int64_t>(d));
    return f;
  };
  auto lf = free_dims(l.size(), lb, lc), rf = free_dims(r.size(), rb, rc);
  DotLayout d;
  for (auto i : lb) d.B *= l[i];
  for (auto i : lf) d.M *= l[i];
  for (auto i : lc) d.K *= l[i];
  for (auto i : rf) d.N *= r[i];
  d.lp = lb;
  d.rp = rb;
  d.lp.insert(d.lp.end(), lf.begin(), lf.end()); d.lp.insert(d.lp.end(), lc.begin(), lc.end());  // [B, M, K]
  d.rp.insert(d.rp.end(), rc.begin(), rc.end()); d.rp.insert(d.rp.end(), rf.begin(), rf.end());  // [B, K, N]
  return d;
}

void ref_dot(const Node& n, const Buffer& l, const Buffer& r, Buffer& out) {
  const DotLayout dl = dot_layout(n, l.shape, r.shape);
  const int64_t B = dl.B, M = dl.M, K = dl.K, N = dl.N;
  const std::vector<int64_t>& lp = dl.lp;
  const std::vector<int64_t>& rp = dl.rp;
  BufferRef L = permute_buffer(l, lp), R = permute_buffer(r, rp);
  if (out.numel() == 0) return;
  if (l.dtype == DType::F32) {
    for (int64_t b = 0; b < B; ++b) {
      if (K == 0) { std::memset(out.as<float>() + b * M * N, 0, static_cast<size_t>(M * N * 4)); continue; }
      host_sgemm(false, false, M, N, K, L->as<float>() + b * M * K, K, R->as<float>() + b * K * N, N, out.as<float>() + b * M * N, N);
    }
    return;
  }
  if (l.dtype == DType::F64) {
    for (int64_t b = 0; b < B; ++b) {
      if (K == 0) { std::memset(out.as<double>() + b * M * N, 0, static_cast<size_t>(M * N * 8)); continue; }
      host_dgemm(false, false, M, N, K, L->as<double>() + b * M * K, K, R->as<double>() + b * K * N, N, out.as<double>() + b * M * N, N);
    }
    return;
  }
  bool fl = is_float(l.dtype);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double af = 0; int64_t ai = 0;
        for (int64_t k = 0; k < K; ++k) {
          int64_t li = (b * M + i) * K + k, ri = (b * K + k) * N + j;
          if (fl) af += getf(*L, li) * getf(*R, ri);
          else ai = static_cast<int64_t>(static_cast<uint64_t>(ai) + static_cast<uint64_t>(geti(*L, li)) * static_cast<uint64_t>(geti(*R, ri)));
        }
        int64_t o = (b * M + i) * N + j;
        if (fl) setf(out, o, af); else seti(out, o, ai);
      }
}

void ref_conv2d(const Node& n, const Buffer& x, const Buffer& w, Buffer& out) {
  auto st = n.attrs.get_ints("conv2d", "stride"), dl = n.attrs.get_ints("conv2d", "dilation");
  auto pd = n.attrs.get_ints("conv2d", "padding");
  int64_t G = n.attrs.get_int("conv2d", "groups");
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t O = w.shape[0], KC = w.shape[1], KH = w.shape[2], KW = w.shape[3];
  int64_t OH = out.shape[2], OW = out.shape[3];
  int64_t opg = O / G;
  for (int64_t b = 0; b < N; ++b)
    for (int64_t o = 0; o < O; ++o) {
      int64_t g = o / opg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = 0;
          for (int64_t kc = 0; kc < KC; ++kc) {
            int64_t c = g * KC + kc;
            for (int64_t kh = 0; kh < KH; ++kh) {
              int64_t ih = oh * st[0] - pd[0] + kh * dl[0];
              if (ih < 0 || ih >= H) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t iw = ow * st[1] - pd[2] + kw * dl[1];
                if (iw < 0 || iw >= W) continue;
                acc += getf(x, ((b * C + c) * H + ih) * W + iw) * getf(w, ((o * KC + kc) * KH + kh) * KW + kw);
              }
            }
          }
          setf(out, ((b * O + o) * OH + oh) * OW + ow, acc);
        }
    }
}

void ref_pool2d(const Node& n, const Buffer& x, Buffer& out) {
  auto k = n.attrs.get_ints("pool", "kernel"), st = n.attrs.get_ints("pool", "stride");
  auto pd = n.attrs.get_ints("pool", "padding");
  bool is_max = n.op == Op::MaxPool2d;
  bool incl = n.attrs.get_int_or("count_include_pad", 1) != 0;
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], OH = out.shape[2], OW = out.shape[3];
  for (int64_t b = 0; b < N; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = is_max ? -HUGE_VAL : 0.0;
          int64_t cnt = 0, cnt_pad = 0;
          for (int64_t kh = 0; kh < k[0]; ++kh)
            for (int64_t kw = 0; kw < k[1]; ++kw) {
              int64_t ih = oh * st[0] - pd[0] + kh, iw = ow * st[1] - pd[2] + kw;
              if (ih < H + pd[1] && iw < W + pd[3]) ++cnt_pad;  // inside input + padding
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              double v = getf(x, ((b * C + c) * H + ih) * W + iw);
              ++cnt;
              if (is_max) acc = (std::isnan(acc) || std::isnan(v)) ? NAN : std::max(acc, v);
              else acc += v;
            }
          int64_t o = ((b * C + c) * OH + oh) * OW + ow;
          if (is_max) setf(out, o, acc);
          else setf(out, o, acc / static_cast<double>(incl ? cnt_pad : (cnt ? cnt : 1)));
        }
}

}  // namespace jxla
