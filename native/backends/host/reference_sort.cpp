// reference_sort.cpp - the reference kernel of top_k (the engine's only sorting op).
// top_k returns s64 indices only; values are take_along_axis(x, indices), so the IR stays
// single-output and the values get take_along_axis's VJP for free.
// Order (the op's spec, docs/ops.md "TopK"): along the axis, the k largest (largest=1, sorted
// descending) or k smallest (largest=0, ascending) elements; equal values keep the lower index
// first (ONNX); NaN ranks above +inf (ONNX Runtime), so NaNs come first for largest and last for
// smallest; -0.0 equals 0.0. Ints are compared exactly as int64, floats as double (exact for
// every float dtype, so f16/bf16 need no special case).
// Invariant: the comparator is a strict total order over (value, index) pairs, so partial_sort's
// lack of stability cannot show and the result is deterministic.
#include <algorithm>
#include <cmath>
#include <vector>
#include "backends/host/elem.h"
#include "backends/host/reference_internal.h"
#include "ir/dtype.h"

namespace jxla {

namespace {

// true when a ranks strictly before b (values only)
bool before_f(double a, double b, bool largest) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return largest ? (na && !nb) : (nb && !na);
  return largest ? a > b : a < b;
}

}  // namespace

void ref_top_k(const Node& n, const Buffer& x, Buffer& out) {
  int64_t ax = n.attrs.get_int("top_k", "axis");
  int64_t k = n.attrs.get_int("top_k", "k");
  bool largest = n.attrs.get_int("top_k", "largest") != 0;
  const Shape& xs = x.shape;
  int64_t outer = 1, inner = 1, len = xs[ax];
  for (int64_t d = 0; d < ax; ++d) outer *= xs[d];
  for (size_t d = ax + 1; d < xs.size(); ++d) inner *= xs[d];
  if (k == 0 || outer == 0 || inner == 0) return;
  bool fl = is_float(x.dtype);
  std::vector<double> vf(fl ? len : 0);
  std::vector<int64_t> vi(fl ? 0 : len), idx(len);
  auto cmp = [&](int64_t a, int64_t b) {
    if (fl) {
      if (before_f(vf[a], vf[b], largest)) return true;
      if (before_f(vf[b], vf[a], largest)) return false;
    } else if (vi[a] != vi[b]) {
      return largest ? vi[a] > vi[b] : vi[a] < vi[b];
    }
    return a < b;
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      for (int64_t j = 0; j < len; ++j) {
        int64_t src = (o * len + j) * inner + in;
        if (fl) vf[j] = getf(x, src);
        else vi[j] = geti(x, src);
        idx[j] = j;
      }
      std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), cmp);
      for (int64_t j = 0; j < k; ++j) seti(out, (o * k + j) * inner + in, idx[j]);
    }
}

}  // namespace jxla
