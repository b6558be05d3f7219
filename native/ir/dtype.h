// dtype.h - element types of the IR, their sizes, names, promotion, and the bf16/f16
// conversions (round to nearest even; NaN stays NaN, keeps its sign and stays quiet).
// Invariant: the numeric values of DType equal the JXLA_* constants of jxla.h.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace jxla {

enum class DType : int32_t { F32 = 0, BF16 = 1, F16 = 2, F64 = 3, S32 = 4, S64 = 5, Bool = 6 };
constexpr int kNumDTypes = 7;

int64_t dtype_size(DType t);
const char* dtype_name(DType t);            // "f32", "bf16", ...
bool dtype_from_name(const std::string& s, DType* out);
bool dtype_valid(int32_t v);
inline bool is_float(DType t) { return t == DType::F32 || t == DType::BF16 || t == DType::F16 || t == DType::F64; }
inline bool is_int(DType t) { return t == DType::S32 || t == DType::S64; }
// The dtype both operands are converted to by a binary op (NumPy-like lattice:
// bool < s32 < s64 < {bf16, f16} < f32 < f64; bf16 with f16 gives f32).
DType promote(DType a, DType b);

// bf16 = the high 16 bits of an f32, rounded to nearest even.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u; std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16; float f; std::memcpy(&f, &u, 4); return f;
}
inline float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);
// Rounds a double to bf16/f16 through f32 can double-round; these round directly.
uint16_t f64_to_bf16(double d);
uint16_t f64_to_f16(double d);

}  // namespace jxla
