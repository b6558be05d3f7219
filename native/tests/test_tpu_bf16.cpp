// test_tpu_bf16.cpp - f32 -> bf16 rounding (ir/dtype.h, used by the MXU) bit-exact against an
// independent reference that picks the nearer of the two bf16 neighbours in double arithmetic
// (ties to the even one, overflow past the max bf16 rounds to inf as IEEE rounds with an
// unbounded exponent), over every edge class and a large random sample; and the bf16_3x/6x
// operand splits of backends/tpu/mxu.h.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include "backends/tpu/mxu.h"
#include "ir/dtype.h"
#include "tests/check.h"

using namespace jxla;

namespace {
float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// value of a bf16 magnitude pattern (sign cleared); 0x7f80 (inf) counts as 2^128 so that the
// tie between the max finite bf16 and "the next value" resolves as IEEE overflow does
double mag_value(uint16_t m) {
  if (m == 0x7f80) return std::ldexp(1.0, 128);
  return static_cast<double>(from_bits(static_cast<uint32_t>(m) << 16));
}

uint16_t ref_bf16(float f) {
  uint32_t u = bits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  uint16_t lo = static_cast<uint16_t>((u >> 16) & 0x7fff);  // magnitude truncated toward zero
  if ((u & 0xffff) == 0) return static_cast<uint16_t>(sign | lo);
  uint16_t hi = static_cast<uint16_t>(lo + 1);
  double x = std::fabs(static_cast<double>(f)), da = x - mag_value(lo), db = mag_value(hi) - x;
  uint16_t m = da < db ? lo : (db < da ? hi : ((lo & 1) ? hi : lo));
  return static_cast<uint16_t>(sign | m);
}

int mismatches = 0;
void check_one(uint32_t u) {
  float f = from_bits(u);
  uint16_t got = f32_to_bf16(f);
  if (std::isnan(f)) {
    // NaN stays NaN, keeps its sign, and is quiet
    bool ok = (got & 0x7f80) == 0x7f80 && (got & 0x7f) != 0 && (got & 0x40) && (got & 0x8000) == ((u >> 16) & 0x8000);
    if (!ok && mismatches++ < 10) CHECK(ok);
    return;
  }
  uint16_t want = ref_bf16(f);
  if (got != want && mismatches++ < 10) CHECK_EQ(got, want);
}
}  // namespace

int main() {
  // every high half with the low halves that matter: exact, just above/below the tie, the tie
  const uint32_t lows[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff, 0x4000, 0xc000};
  int64_t n = 0;
  for (uint32_t h = 0; h < 0x10000; ++h)
    for (uint32_t l : lows) { check_one((h << 16) | l); ++n; }
  // named edge classes
  CHECK_EQ(f32_to_bf16(from_bits(0x7f7fffff)), 0x7f80);  // max f32 overflows to inf
  CHECK_EQ(f32_to_bf16(from_bits(0x7f7f8000)), 0x7f80);  // tie above max bf16 (odd) -> inf
  CHECK_EQ(f32_to_bf16(from_bits(0x7f7f7fff)), 0x7f7f);  // just below the tie -> max bf16
  CHECK_EQ(f32_to_bf16(from_bits(0x3f808000)), 0x3f80);  // tie, even below -> down
  CHECK_EQ(f32_to_bf16(from_bits(0x3f818000)), 0x3f82);  // tie, odd below -> up
  CHECK_EQ(f32_to_bf16(from_bits(0x00008000)), 0x0000);  // smallest subnormal tie -> 0
  CHECK_EQ(f32_to_bf16(from_bits(0x00018000)), 0x0002);  // subnormal tie, odd -> up
  CHECK_EQ(f32_to_bf16(from_bits(0x007fffff)), 0x0080);  // max subnormal rounds to min normal
  CHECK_EQ(f32_to_bf16(from_bits(0xff800000)), 0xff80);  // -inf
  CHECK_EQ(f32_to_bf16(from_bits(0x80000000)), 0x8000);  // -0
  CHECK_EQ(f32_to_bf16(from_bits(0x7f800001)) & 0x7fc0, 0x7fc0);  // signalling NaN -> quiet NaN
  // large random sample
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 20000000; ++i) { check_one(static_cast<uint32_t>(rng())); ++n; }
  CHECK_EQ(mismatches, 0);
  std::printf("checked %lld f32 patterns\n", static_cast<long long>(n));

  // bf16_6x split is exact for finite inputs of normal size: hi + mid + lo == x; the bf16_3x split errs by at
  // most 2^-15 |x| (lo = bf16(x - hi) and |x - hi| < 2^-7 |x|)
  int bad6 = 0, bad3 = 0;
  for (int i = 0; i < 2000000; ++i) {
    float x = from_bits(static_cast<uint32_t>(rng()));
    // below 2^-100 the low pieces fall under bf16's subnormal step (2^-133) and are flushed,
    // as on the TPU; the exactness claim is for the normal range
    if (!std::isfinite(x) || std::fabs(x) < std::ldexp(1.0f, -100)) continue;
    float p[3];
    tpu::split_bf16(x, 3, p);
    for (float t : p) if (round_bf16(t) != t) ++bad6;
    if (static_cast<double>(p[0]) + p[1] + p[2] != static_cast<double>(x)) ++bad6;
    if ((bits(p[0]) & 0xffff) != 0 || bits(p[0]) != (bits(x) & 0xffff0000u)) ++bad6;
    tpu::split_bf16(x, 2, p);
    double err = std::fabs(static_cast<double>(p[0]) + p[1] - x);
    if (err > std::ldexp(std::fabs(static_cast<double>(x)), -15) || round_bf16(p[1]) != p[1]) ++bad3;
  }
  CHECK_EQ(bad6, 0);
  CHECK_EQ(bad3, 0);
  // DEFAULT split = round to nearest even
  float d[1];
  tpu::split_bf16(from_bits(0x3f818000), 1, d);
  CHECK_EQ(bits(d[0]), 0x3f820000u);
  return check_finish();
}
