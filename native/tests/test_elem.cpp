// test_elem.cpp - the reference interpreter's element conversions and the fixes found by the op
// fixtures (src/test/resources/fixtures): f16 zero, int64 -> bf16 without double rounding,
// unique collapsing NaNs, uniform samples staying below 1 in every dtype. The full per-op
// coverage is OpFixtureTest (JUnit); these checks run here too so the sanitizer build sees them.
#include <cmath>
#include <cstring>
#include <limits>
#include "backends/host/elem.h"
#include "backends/host/reference.h"
#include "ir/builder.h"
#include "runtime/device.h"
#include "tests/check.h"

using namespace jxla;

int main() {
  // f16: zeros keep their sign, rounding is to nearest even, overflow gives inf
  CHECK_EQ(f64_to_f16(0.0), 0x0000);
  CHECK_EQ(f64_to_f16(-0.0), 0x8000);
  CHECK_EQ(f64_to_f16(1.0), 0x3c00);
  CHECK_EQ(f64_to_f16(2049.0), 0x6800);        // tie between 2048 and 2050 -> even 2048
  CHECK_EQ(f64_to_f16(65519.0), 0x7bff);
  CHECK_EQ(f64_to_f16(65520.0), 0x7c00);
  CHECK_EQ(f64_to_f16(0x1p-25), 0x0000);       // half the smallest subnormal -> 0 (even)
  CHECK_EQ(f64_to_f16(0x1.8p-25), 0x0001);

  // int64 -> bf16 rounds once from the exact integer
  const int64_t p62 = int64_t{1} << 62, p54 = int64_t{1} << 54;
  CHECK_EQ(s64_to_bf16(p62 + p54 + 1), f32_to_bf16(0x1.02p62f));  // above the tie: rounds up
  CHECK_EQ(s64_to_bf16(p62 + p54), f32_to_bf16(0x1p62f));         // the tie: to even
  CHECK_EQ(s64_to_bf16(-(p62 + p54 + 1)), f32_to_bf16(-0x1.02p62f));
  CHECK_EQ(s64_to_bf16(257), f32_to_bf16(256.0f));
  CHECK_EQ(s64_to_bf16(std::numeric_limits<int64_t>::min()), f32_to_bf16(-0x1p63f));

  // unique: sorted, NaNs last and collapsed, -0.0 equals 0.0
  {
    BufferRef b = alloc_buffer(DType::F32, {6}, host_device());
    const float v[6] = {NAN, 1.0f, -0.0f, NAN, 0.0f, -2.0f};
    std::memcpy(b->data, v, sizeof v);
    BufferRef u = ref_dynamic(Op::Unique, {b.get()}, host_device());
    CHECK_EQ(u->shape.size(), size_t{1});
    CHECK_EQ(u->shape[0], int64_t{4});
    CHECK_EQ(u->as<float>()[0], -2.0f);
    CHECK_EQ(u->as<float>()[1], 0.0f);
    CHECK_EQ(u->as<float>()[2], 1.0f);
    CHECK(std::isnan(u->as<float>()[3]));
  }

  // uniform samples are in [0, 1) in every float dtype (bf16 rounds u >= 1 - 2^-9 up to 1)
  for (DType dt : {DType::F32, DType::BF16, DType::F16, DType::F64}) {
    BufferRef key = alloc_buffer(DType::S64, {2}, host_device());
    key->as<int64_t>()[0] = 3;
    key->as<int64_t>()[1] = 0;
    Attrs a;
    a.set_str("dtype", dtype_name(dt));
    a.set_ints("shape", {4096});
    NodeRef n = build(Op::RngUniform, {make_data(key)}, a);
    BufferRef out = ref_eval(*n, {key.get()}, host_device());
    double mx = 0;
    for (int64_t i = 0; i < 4096; ++i) mx = std::max(mx, getf(*out, i));
    CHECK(mx < 1.0);
    CHECK(mx > 0.99);
  }
  // pooling in ceil mode (not reachable from the Java API): a 5x5 input, kernel 2, stride 2 gives
  // 3x3 windows; the last row/column windows hang over the edge and count only the cells inside
  {
    BufferRef b = alloc_buffer(DType::F32, {1, 1, 5, 5}, host_device());
    for (int i = 0; i < 25; ++i) b->as<float>()[i] = static_cast<float>(i + 1);
    for (Op op : {Op::AvgPool2d, Op::MaxPool2d}) {
      Attrs a;
      a.set_ints("kernel", {2, 2});
      a.set_int("ceil_mode", 1);
      NodeRef n = build(op, {make_data(b)}, a);
      CHECK(n->shape == (Shape{1, 1, 3, 3}));
      BufferRef o = ref_eval(*n, {b.get()}, host_device());
      if (op == Op::AvgPool2d) {
        CHECK_EQ(o->as<float>()[0], (1.0f + 2 + 6 + 7) / 4);
        CHECK_EQ(o->as<float>()[2], (5.0f + 10) / 2);   // x[0][4], x[1][4]
        CHECK_EQ(o->as<float>()[8], 25.0f);             // x[4][4] alone
      } else {
        CHECK_EQ(o->as<float>()[2], 10.0f);
        CHECK_EQ(o->as<float>()[8], 25.0f);
      }
    }
  }
  return check_finish();
}
