// dtype.cpp - dtype table and the IEEE half-precision conversions.
#include "ir/dtype.h"
#include <cmath>
#include <limits>

namespace jxla {

namespace {
struct Info { const char* name; int64_t size; };
constexpr Info kInfo[kNumDTypes] = {{"f32", 4}, {"bf16", 2}, {"f16", 2}, {"f64", 8},
                                    {"s32", 4}, {"s64", 8}, {"bool", 1}};
int rank_of(DType t) {
  switch (t) {
    case DType::Bool: return 0;
    case DType::S32: return 1;
    case DType::S64: return 2;
    case DType::BF16: case DType::F16: return 3;
    case DType::F32: return 4;
    case DType::F64: return 5;
  }
  return 0;
}
}  // namespace

int64_t dtype_size(DType t) { return kInfo[static_cast<int>(t)].size; }
const char* dtype_name(DType t) { return dtype_valid(static_cast<int32_t>(t)) ? kInfo[static_cast<int>(t)].name : "?"; }
bool dtype_valid(int32_t v) { return v >= 0 && v < kNumDTypes; }
bool dtype_from_name(const std::string& s, DType* out) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (s == kInfo[i].name) { *out = static_cast<DType>(i); return true; }
  return false;
}

DType promote(DType a, DType b) {
  if (a == b) return a;
  if ((a == DType::BF16 && b == DType::F16) || (a == DType::F16 && b == DType::BF16)) return DType::F32;
  return rank_of(a) >= rank_of(b) ? a : b;
}

// f16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Rounds from the exact double value
// so the result is correctly rounded from both f32 and f64 inputs.
uint16_t f64_to_f16(double d) {
  uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  if (std::isnan(d)) return static_cast<uint16_t>(sign | 0x7e00);
  double a = std::fabs(d);
  if (std::isinf(a)) return static_cast<uint16_t>(sign | 0x7c00);
  if (a >= 65520.0) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to inf
  if (a == 0) return sign;  // frexp(0) gives e = 0, which the normal path below would mangle
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int exp = e - 1;    // a = 1.x * 2^exp
  if (exp < -14) {    // subnormal: units of 2^-24
    double q = std::nearbyint(a * 16777216.0);  // ties-to-even in the default rounding mode
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(q));  // q == 1024 gives the min normal
  }
  double mant = a / std::ldexp(1.0, exp);  // [1, 2)
  double q = std::nearbyint((mant - 1.0) * 1024.0);
  int ex = exp + 15;
  if (q >= 1024.0) { q = 0; ++ex; }
  if (ex >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  return static_cast<uint16_t>(sign | (ex << 10) | static_cast<int>(q));
}
uint16_t f32_to_f16(float f) { return f64_to_f16(static_cast<double>(f)); }

float f16_to_f32(uint16_t h) {
  int sign = (h >> 15) & 1, ex = (h >> 10) & 0x1f, m = h & 0x3ff;
  float v;
  if (ex == 0) v = std::ldexp(static_cast<float>(m), -24);
  else if (ex == 31) v = m ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(m + 1024), ex - 25);
  return sign ? -v : v;
}

uint16_t f64_to_bf16(double d) {
  if (std::isnan(d)) return std::signbit(d) ? 0xffc0 : 0x7fc0;
  float f = static_cast<float>(d);  // may round; fix a double rounding at the bf16 tie
  uint16_t r = f32_to_bf16(f);
  double back = static_cast<double>(bf16_to_f32(r));
  if (std::isinf(back) || std::isinf(d)) return r;
  // check both neighbours for the nearest value to the exact double
  uint16_t best = r; double berr = std::fabs(back - d);
  for (int delta : {-1, 1}) {
    uint16_t c = static_cast<uint16_t>(r + delta);
    float cf = bf16_to_f32(c);
    if (std::isnan(cf) || std::isinf(cf)) continue;
    if ((c & 0x8000) != (r & 0x8000) && r != 0 && r != 0x8000) continue;
    double err = std::fabs(static_cast<double>(cf) - d);
    if (err < berr || (err == berr && (c & 1) == 0 && (best & 1) == 1)) { best = c; berr = err; }
  }
  return best;
}

}  // namespace jxla
