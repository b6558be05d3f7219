// test_tpu_cost.cpp - the chip table, the tiled-layout footprint, HBM accounting with its
// RESOURCE_EXHAUSTED message, and the cost model against hand arithmetic:
//   4096^3 bf16 matmul on v5e: 2 * 4096^3 / 1.97e14 s = 0.6977 ms (MXU-bound);
//   adding two 64e6-element f32 arrays on v5e moves 3 * 256e6 = 768e6 B: 768e6 / 819e9 s = 0.9377 ms.
#include <cmath>
#include <string>
#include "backends/tpu/chip.h"
#include "backends/tpu/cost.h"
#include "backends/tpu/layout.h"
#include "backends/tpu/tpu_device.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "runtime/buffer.h"
#include "tests/check.h"

using namespace jxla;
using namespace jxla::tpu;

namespace {
NodeRef param(DType dt, Shape s) {
  Attrs a;
  a.set_int("index", 0);
  a.set_str("dtype", dtype_name(dt));
  a.set_ints("shape", s);
  return make_node(Op::Parameter, dt, s, {}, a, nullptr);
}
bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }
}  // namespace

int main() {
  // chip table
  const Chip* v5e = find_chip("v5e");
  CHECK(v5e != nullptr);
  CHECK(find_chip("v9") == nullptr);
  for (const char* n : {"v4", "v5e", "v5p", "v6e"}) {
    const Chip* c = find_chip(n);
    CHECK(c && c->bf16_flops > 0 && c->hbm_bytes > 0 && c->hbm_bw > 0 && c->pcie_bw > 0 && c->vpu_flops > 0);
  }
  CHECK_NEAR(find_chip("v4")->implied_clock_hz(), 1.049e9, 0.001e9);   // 275e12 / (2*128^2*4*2)
  CHECK_NEAR(v5e->implied_clock_hz(), 1.503e9, 0.001e9);               // 197e12 / (2*128^2*4)

  // tiled layout
  CHECK_EQ(tiled_bytes(DType::F32, {1024, 1}), 512 * 1024);  // 1024 rows x 128 lanes x 4 B
  CHECK_EQ(tiled_bytes(DType::BF16, {3, 5}), 16 * 128 * 2);
  CHECK_EQ(tiled_bytes(DType::BF16, {17, 128}), 32 * 128 * 2);
  CHECK_EQ(tiled_bytes(DType::Bool, {33, 1}), 64 * 128);
  CHECK_EQ(tiled_bytes(DType::F32, {}), 4096);
  CHECK_EQ(tiled_bytes(DType::F32, {1025}), 2048 * 4);
  CHECK_EQ(tiled_bytes(DType::F32, {2, 3, 8, 128}), 2 * 3 * 4096);
  CHECK_EQ(tiled_bytes(DType::S64, {8, 129}), 8 * 256 * 8);
  CHECK_EQ(tiled_bytes(DType::F32, {0, 5}), 0);

  // cost model: the hand arithmetic
  {
    NodeRef a = param(DType::BF16, {4096, 4096});
    NodeRef d = build(Op::DotGeneral, {a, a}, Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0]"));
    KernelCost k = node_cost(*v5e, *d, 0);
    CHECK_NEAR(k.mxu_s, 2.0 * 4096.0 * 4096.0 * 4096.0 / 1.97e14, 1e-12);
    CHECK_NEAR(k.mxu_s * 1e3, 0.6977, 0.0001);
    CHECK_EQ(std::string(k.bound), std::string("mxu"));
    CHECK_NEAR(k.time_s, k.mxu_s + v5e->launch_s, 1e-15);
    CHECK_NEAR(k.bytes, 3.0 * 4096 * 4096 * 2, 0.5);
    CHECK_NEAR(k.mxu_util, k.mxu_s / k.time_s, 1e-12);
    // f32 at HIGHEST makes 6 passes
    NodeRef f = param(DType::F32, {4096, 4096});
    NodeRef d6 = build(Op::DotGeneral, {f, f}, Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0]"));
    CHECK_NEAR(node_cost(*v5e, *d6, 2).mxu_s, 6 * k.mxu_s, 1e-12);
    CHECK_NEAR(node_cost(*v5e, *d6, 1).mxu_s, 3 * k.mxu_s, 1e-12);
  }
  {
    NodeRef x = param(DType::F32, {500000, 128});  // 64e6 elements, no tile padding
    NodeRef s = build(Op::Add, {x, x}, Attrs());
    KernelCost k = node_cost(*v5e, *s, 0);
    CHECK_NEAR(k.bytes, 768e6, 0.5);
    CHECK_NEAR(k.hbm_s * 1e3, 768e6 / 819e9 * 1e3, 1e-9);
    CHECK_NEAR(k.hbm_s * 1e3, 0.9377, 0.0001);
    CHECK_EQ(std::string(k.bound), std::string("hbm"));
    CHECK_NEAR(k.vpu_s, 64e6 / v5e->vpu_flops, 1e-15);
  }
  {
    // MXU padding: [1,128] x [128,128] costs a full 128^3 tile; on v6e a 256^3 one
    KernelCost k = matmul_cost(*v5e, 1, 1, 128, 128, 1, 0);
    CHECK_NEAR(k.mxu_s, 2.0 * 128 * 128 * 128 / 1.97e14, 1e-18);
    CHECK_NEAR(k.flops, 2.0 * 128 * 128, 1e-9);
    KernelCost k6 = matmul_cost(*find_chip("v6e"), 1, 130, 100, 257, 1, 0);
    CHECK_NEAR(k6.mxu_s, 2.0 * 256 * 512 * 256 / 918e12, 1e-18);
  }
  CHECK_NEAR(transfer_seconds(*v5e, 1500000000), 5e-6 + 0.1, 1e-12);
  CHECK_NEAR(ring_seconds(*find_chip("v4"), "all_reduce", 8, 1000000000), 2.0 * 7 / 8 * 1e9 / 90e9 + 14e-6, 1e-12);
  CHECK_NEAR(ring_seconds(*find_chip("v4"), "all_gather", 8, 1000000000), 7.0 / 8 * 1e9 / 90e9 + 7e-6, 1e-12);
  CHECK_EQ(ring_seconds(*v5e, "all_reduce", 1, 100), 0.0);

  // HBM accounting: 1 MiB holds exactly two f32[1024,1] (512 KiB each in the tiled layout)
  {
    TpuDevice* d = tpu_device("v5e", 1, 1 << 20);
    CHECK(d == tpu_device("v5e", 1, 1 << 20));  // interned
    CHECK(d != tpu_device("v5e", 1, 0));
    CHECK_EQ(tpu_device("v5e", 1, 0)->hbm_limit(), 16LL << 30);
    BufferRef a = alloc_buffer(DType::F32, {1024, 1}, d);
    CHECK_EQ(d->hbm_in_use(), 512 * 1024);
    CHECK_EQ(a->accounted, 512 * 1024);
    BufferRef b = alloc_buffer(DType::F32, {1024, 1}, d);
    CHECK_EQ(d->hbm_in_use(), 1 << 20);
    std::string msg;
    int code = 0;
    try { alloc_buffer(DType::F32, {1024, 1}, d); } catch (const Error& e) { msg = e.what(); code = e.code; }
    CHECK_EQ(code, JXLA_ERR_RESOURCE_EXHAUSTED);
    CHECK(contains(msg, "requested 4096 bytes"));
    CHECK(contains(msg, "padded to the TPU tiled layout 524288 bytes"));
    CHECK(contains(msg, "in use 1048576 bytes"));
    CHECK(contains(msg, "limit 1048576 bytes"));
    CHECK(contains(msg, "Largest live buffers: f32[1024,1] 512.0 KiB, f32[1024,1] 512.0 KiB"));
    CHECK_EQ(d->hbm_in_use(), 1 << 20);  // the failed allocation left nothing behind
    b.reset();
    CHECK_EQ(d->hbm_in_use(), 512 * 1024);
    BufferRef c = alloc_buffer(DType::F32, {1024, 1}, d);  // usable again
    CHECK_EQ(d->hbm_in_use(), 1 << 20);
    CHECK_EQ(d->hbm_peak(), 1 << 20);
    bool threw = false;
    try { tpu_device("v7", 1, 0); } catch (const Error& e) { threw = contains(e.what(), "v4, v5e, v5p, v6e"); }
    CHECK(threw);
  }
  return check_finish();
}
