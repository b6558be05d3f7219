// test_f16_zero.cpp - f64 -> f16 conversion of signed zeros and the smallest values around them
// (a zero once took the normal-number path and came out as -inf).
#include <cmath>
#include "ir/dtype.h"
#include "tests/check.h"

using namespace jxla;

int main() {
  CHECK_EQ(static_cast<int>(f64_to_f16(0.0)), 0x0000);
  CHECK_EQ(static_cast<int>(f64_to_f16(-0.0)), 0x8000);
  CHECK_EQ(f16_to_f32(f64_to_f16(0.0)), 0.0f);
  CHECK(std::signbit(f16_to_f32(f64_to_f16(-0.0))));
  CHECK_EQ(static_cast<int>(f64_to_f16(std::ldexp(1.0, -24))), 0x0001);  // smallest subnormal
  CHECK_EQ(static_cast<int>(f64_to_f16(std::ldexp(1.0, -26))), 0x0000);  // rounds to zero
  CHECK_EQ(static_cast<int>(f32_to_f16(1.0f)), 0x3c00);
  return check_finish();
}
