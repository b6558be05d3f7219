// fast_reduce.cpp - column reductions without the reference's per-element index arithmetic.
// The reference accumulates every output in double, visiting inputs in linear order; for a
// reduction over the leading axes that is "for each row, acc[j] += x[row, j]", which is what
// this loop does (row order preserved per output), so the results are bit-identical.
#include "backends/host/fast_reduce.h"
#include <cmath>
#include <vector>

namespace jxla {

bool fast_reduce(const Node& n, const Buffer& x, Buffer& out) {
  if (x.dtype != DType::F32 || out.dtype != DType::F32) return false;
  if (n.op != Op::ReduceSum && n.op != Op::ReduceMax && n.op != Op::ReduceMin) return false;
  const auto& axes = n.attrs.get_ints("reduce", "axes");
  const Shape& xs = x.shape;
  std::vector<bool> red(xs.size(), false);
  for (auto a : axes) red[static_cast<size_t>(a)] = true;
  size_t lead = 0;
  while (lead < xs.size() && red[lead]) ++lead;
  for (size_t d = lead; d < xs.size(); ++d)
    if (red[d]) return false;  // not a leading run
  int64_t rows = 1, inner = 1;
  for (size_t d = 0; d < lead; ++d) rows *= xs[d];
  for (size_t d = lead; d < xs.size(); ++d) inner *= xs[d];
  if (inner != out.numel()) return false;
  const float* p = x.as<float>();
  float* o = out.as<float>();
  if (n.op == Op::ReduceSum) {
    std::vector<double> acc(static_cast<size_t>(inner), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = p + r * inner;
      for (int64_t j = 0; j < inner; ++j) acc[j] += static_cast<double>(row[j]);
    }
    for (int64_t j = 0; j < inner; ++j) o[j] = static_cast<float>(acc[j]);
    return true;
  }
  // max/min: NaN anywhere in a column gives NaN (the reference's rule), else the extreme
  const bool mx = n.op == Op::ReduceMax;
  std::vector<double> acc(static_cast<size_t>(inner), mx ? -HUGE_VAL : HUGE_VAL);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = p + r * inner;
    for (int64_t j = 0; j < inner; ++j) {
      double v = row[j], a = acc[j];
      acc[j] = (std::isnan(a) || std::isnan(v)) ? NAN : mx ? std::max(a, v) : std::min(a, v);
    }
  }
  for (int64_t j = 0; j < inner; ++j) o[j] = static_cast<float>(acc[j]);
  return true;
}

}  // namespace jxla
