// reference_dynamic.cpp - the dynamic-shape ops (nonzero, unique, masked_select). Their result
// shape depends on data, so the runtime evaluates them eagerly on the host at trace time.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#include "backends/host/elem.h"
#include "backends/host/reference.h"
#include "ir/error.h"

namespace jxla {

BufferRef ref_dynamic(Op op, const std::vector<const Buffer*>& in, Device* dev) {
  const Buffer& x = *in.at(0);
  int64_t N = x.numel();
  auto nonzero_at = [&](int64_t i) { return is_float(x.dtype) ? getf(x, i) != 0.0 : geti(x, i) != 0; };
  switch (op) {
    case Op::Nonzero: {
      std::vector<int64_t> hits;
      for (int64_t i = 0; i < N; ++i) if (nonzero_at(i)) hits.push_back(i);
      int64_t r = static_cast<int64_t>(x.shape.size());
      BufferRef o = alloc_buffer(DType::S64, {static_cast<int64_t>(hits.size()), r}, dev);
      std::vector<int64_t> idx(r);
      for (size_t h = 0; h < hits.size(); ++h) {
        unravel(hits[h], x.shape, idx.data());
        for (int64_t d = 0; d < r; ++d) o->as<int64_t>()[h * r + d] = idx[d];
      }
      return o;
    }
    case Op::Unique: {
      std::vector<int64_t> order(N);
      for (int64_t i = 0; i < N; ++i) order[i] = i;
      bool fl = is_float(x.dtype);
      auto less = [&](int64_t a, int64_t b) {
        if (fl) {
          double va = getf(x, a), vb = getf(x, b);
          if (std::isnan(va)) return false;  // NaN sorts last
          if (std::isnan(vb)) return true;
          return va < vb;
        }
        return geti(x, a) < geti(x, b);
      };
      std::stable_sort(order.begin(), order.end(), less);
      std::vector<int64_t> keep;
      for (int64_t i = 0; i < N; ++i) {
        if (!keep.empty()) {
          // skip a value equal to the previous kept one; NaNs (sorted last) collapse into one,
          // like NumPy 2's np.unique (equal_nan=True); -0.0 and 0.0 are equal
          bool nan_i = fl && std::isnan(getf(x, order[i])), nan_k = fl && std::isnan(getf(x, keep.back()));
          if (nan_i ? nan_k : !nan_k && !less(keep.back(), order[i]) && !less(order[i], keep.back())) continue;
        }
        keep.push_back(order[i]);
      }
      BufferRef o = alloc_buffer(x.dtype, {static_cast<int64_t>(keep.size())}, dev);
      size_t es = static_cast<size_t>(dtype_size(x.dtype));
      for (size_t i = 0; i < keep.size(); ++i)
        std::memcpy(static_cast<char*>(o->data) + i * es, static_cast<const char*>(x.data) + keep[i] * es, es);
      return o;
    }
    case Op::MaskedSelect: {
      const Buffer& m = *in.at(1);
      if (m.dtype != DType::Bool) invalid("masked_select: mask must be bool, got ", dtype_name(m.dtype), shape_str(m.shape));
      if (m.shape != x.shape)
        invalid("masked_select: mask ", shape_str(m.shape), " must have the shape of the operand ", shape_str(x.shape));
      std::vector<int64_t> keep;
      for (int64_t i = 0; i < N; ++i) if (m.as<uint8_t>()[i]) keep.push_back(i);
      BufferRef o = alloc_buffer(x.dtype, {static_cast<int64_t>(keep.size())}, dev);
      size_t es = static_cast<size_t>(dtype_size(x.dtype));
      for (size_t i = 0; i < keep.size(); ++i)
        std::memcpy(static_cast<char*>(o->data) + i * es, static_cast<const char*>(x.data) + keep[i] * es, es);
      return o;
    }
    default: invalid(op_name(op), ": not a dynamic-shape op");
  }
}

}  // namespace jxla
