// elem.h - scalar element access for the reference interpreter: every dtype read as double
// (floats, bool) or int64 (integers), written back with the dtype's rounding rule.
// Conversions to integers truncate toward zero and saturate; NaN converts to 0 (documented in
// docs/ops.md). Slow by design: the reference favours obviously-right over fast.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include "ir/dtype.h"
#include "runtime/buffer.h"

namespace jxla {

inline double getf(const Buffer& b, int64_t i) {
  switch (b.dtype) {
    case DType::F32: return b.as<float>()[i];
    case DType::BF16: return bf16_to_f32(b.as<uint16_t>()[i]);
    case DType::F16: return f16_to_f32(b.as<uint16_t>()[i]);
    case DType::F64: return b.as<double>()[i];
    case DType::S32: return b.as<int32_t>()[i];
    case DType::S64: return static_cast<double>(b.as<int64_t>()[i]);
    case DType::Bool: return b.as<uint8_t>()[i] ? 1.0 : 0.0;
  }
  return 0;
}

inline int64_t geti(const Buffer& b, int64_t i) {
  switch (b.dtype) {
    case DType::S32: return b.as<int32_t>()[i];
    case DType::S64: return b.as<int64_t>()[i];
    case DType::Bool: return b.as<uint8_t>()[i] ? 1 : 0;
    default: {
      double v = getf(b, i);
      if (std::isnan(v)) return 0;
      if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
      if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
      return static_cast<int64_t>(v);
    }
  }
}

inline int64_t sat_to(DType dt, double v) {
  if (std::isnan(v)) return 0;
  if (dt == DType::S32) {
    if (v >= 2147483647.0) return 2147483647;
    if (v <= -2147483648.0) return -2147483647 - 1;
    return static_cast<int64_t>(v);
  }
  if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// int64 -> bf16 rounded once from the exact integer. A double holds 53 bits, so converting through
// it can round twice (2^62 + 2^54 + 1 would become the tie 2^62 + 2^54, then 2^62). Beyond 2^53
// the integer is first cut to 53 bits rounding to odd (the cut bits stick to the lowest bit),
// which keeps the final rounding to bf16's 8 bits exact (53 >= 2 * 8 + 2).
inline uint16_t s64_to_bf16(int64_t v) {
  uint64_t a = v < 0 ? 0ULL - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  int bits = a ? 64 - __builtin_clzll(a) : 0;
  if (bits <= 53) return f64_to_bf16(static_cast<double>(v));
  int shift = bits - 53;
  uint64_t q = (a >> shift) | ((a & ((1ULL << shift) - 1)) != 0 ? 1ULL : 0ULL);
  double d = std::ldexp(static_cast<double>(q), shift);
  return f64_to_bf16(v < 0 ? -d : d);
}

inline void seti(Buffer& b, int64_t i, int64_t v) {
  switch (b.dtype) {
    case DType::S32: b.as<int32_t>()[i] = static_cast<int32_t>(static_cast<uint32_t>(v)); break;  // wraps
    case DType::S64: b.as<int64_t>()[i] = v; break;
    case DType::Bool: b.as<uint8_t>()[i] = v != 0; break;
    case DType::F32: b.as<float>()[i] = static_cast<float>(v); break;
    case DType::F64: b.as<double>()[i] = static_cast<double>(v); break;
    case DType::BF16: b.as<uint16_t>()[i] = s64_to_bf16(v); break;
    case DType::F16: b.as<uint16_t>()[i] = f64_to_f16(static_cast<double>(v)); break;
  }
}

inline void setf(Buffer& b, int64_t i, double v) {
  switch (b.dtype) {
    case DType::F32: b.as<float>()[i] = static_cast<float>(v); break;
    case DType::F64: b.as<double>()[i] = v; break;
    case DType::BF16: b.as<uint16_t>()[i] = f64_to_bf16(v); break;
    case DType::F16: b.as<uint16_t>()[i] = f64_to_f16(v); break;
    case DType::Bool: b.as<uint8_t>()[i] = v != 0; break;  // NaN is true, like C and NumPy
    case DType::S32: case DType::S64: seti(b, i, sat_to(b.dtype, v)); break;
  }
}

// Multi-index helpers: row-major unravel/ravel.
inline void unravel(int64_t flat, const Shape& sh, int64_t* idx) {
  for (size_t d = sh.size(); d-- > 0;) {
    int64_t n = sh[d];
    idx[d] = n ? flat % n : 0;
    flat = n ? flat / n : 0;
  }
}
inline int64_t ravel(const int64_t* idx, const Shape& sh) {
  int64_t f = 0;
  for (size_t d = 0; d < sh.size(); ++d) f = f * sh[d] + idx[d];
  return f;
}

}  // namespace jxla
