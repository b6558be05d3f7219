// test_tpu_exec.cpp - the TPU executable and pod runtime end to end (so the sanitizer builds
// cover them): a graph mixing MXU, reference and f64 host-fallback nodes gives the same values
// as the host reference except where the MXU's bf16 rounding is the point; fallback counters,
// transfers and the profile are recorded; a pod's cores materialize concurrently and the
// collectives return exact results.
#include <cmath>
#include <cstring>
#include <string>
#include "backends/tpu/collectives.h"
#include "backends/tpu/mxu.h"
#include "backends/tpu/tpu_device.h"
#include "ir/builder.h"
#include "runtime/buffer.h"
#include "runtime/lazy.h"
#include "runtime/metrics.h"
#include "tests/check.h"

using namespace jxla;

namespace {
NodeRef data(Device* d, DType dt, Shape sh, const std::vector<double>& v) {
  BufferRef b = alloc_buffer(dt, sh, d);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::F32) b->as<float>()[i] = static_cast<float>(v[i]);
    else b->as<double>()[i] = v[i];
  }
  return make_data(b);
}
std::vector<double> read(TensorImpl* t) {
  BufferRef b = tensor_data(t);
  std::vector<double> r(static_cast<size_t>(b->numel()));
  for (size_t i = 0; i < r.size(); ++i) r[i] = b->dtype == DType::F32 ? b->as<float>()[i] : b->as<double>()[i];
  return r;
}
}  // namespace

int main() {
  tpu::TpuDevice* dev = tpu::tpu_device("v5e", 1, 0);
  // x @ w at HIGHEST, + 1 (broadcast, fused), exp; then an f64 branch: convert -> mul -> back
  std::vector<double> xv = {1.5, -2.0, 0.25, 3.0, 1.0 / 3.0, 7.0}, wv = {0.5, 1.0, -1.0, 2.0, 0.125, 0.75};
  NodeRef x = data(dev, DType::F32, {2, 3}, xv), w = data(dev, DType::F32, {3, 2}, wv);
  Attrs dot = Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0], precision=2");
  NodeRef y = build(Op::DotGeneral, {x, w}, dot);
  NodeRef one = data(dev, DType::F32, {}, {1.0});
  NodeRef z = build(Op::Exp, {build(Op::Add, {y, one}, Attrs())}, Attrs());
  Attrs to64; to64.set_str("dtype", "f64");
  NodeRef z64 = build(Op::Convert, {z}, to64);
  NodeRef sq = build(Op::Mul, {z64, z64}, Attrs());
  Attrs to32; to32.set_str("dtype", "f32");
  NodeRef back = build(Op::Convert, {sq}, to32);
  NodeRef fin = build(Op::Neg, {back}, Attrs());
  int64_t fb_mul = counter_get("fallback::mul"), fb_conv = counter_get("fallback::convert");
  TensorImpl* t = tensor_new(fin);
  std::vector<double> got = read(t);
  CHECK_EQ(counter_get("fallback::mul"), fb_mul + 1);
  CHECK_EQ(counter_get("fallback::convert"), fb_conv + 2);  // to f64, and back to f32 (reads f64)
  int bad = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double acc = 0;
      for (int k = 0; k < 3; ++k) acc += static_cast<double>(static_cast<float>(xv[i * 3 + k])) * static_cast<float>(wv[k * 2 + j]);
      double zz = std::exp(static_cast<double>(static_cast<float>(acc + 1.0)));
      double want = -zz * zz;
      // HIGHEST is f32-accurate; exp and the f32 round trips add a few ulps
      if (std::fabs(got[i * 2 + j] - want) > 1e-5 * std::fabs(want)) ++bad;
    }
  CHECK_EQ(bad, 0);
  std::string prof = dev->profile_text();
  CHECK(prof.find("fallback::mul") != std::string::npos);
  CHECK(prof.find("transfer:d2h") != std::string::npos);
  CHECK(prof.find("dot_general f32[2,2]") != std::string::npos);
  CHECK(prof.find("broadcast f32") == std::string::npos);  // never a kernel of its own
  // loop fusion: broadcast + add + exp in one kernel; flops 4 (add) + 4 x 8 (exp); HBM bytes =
  // result + dot result + the scalar's source, one 4 KiB tile each
  CHECK(prof.find("fusion:broadcast.add.exp f32[2,2] 36 12288 hbm") != std::string::npos);
  CHECK(dev->hbm_in_use() > 0);
  tensor_free(t);

  // pod: 4 cores, pending work on each materialized concurrently, then all_reduce / all_gather
  tpu::TpuDevice* pod = tpu::tpu_device("v4", 4, 0);
  std::vector<TensorImpl*> ts;
  for (int c = 0; c < 4; ++c) {
    NodeRef a = data(pod->core(c), DType::F32, {2, 2}, {1.0 * c, 2.0, -3.0 * c, 0.5});
    ts.push_back(tensor_new(build(Op::Mul, {a, a}, Attrs())));
  }
  sync_tensors(ts);
  std::vector<BufferRef> bufs;
  for (TensorImpl* p : ts) bufs.push_back(tensor_data(p));
  CHECK(bufs[2]->device == pod->core(2));
  auto sum = tpu::collective("all_reduce", "sum", 0, bufs);
  const float want_sum[4] = {0 + 1 + 4 + 9, 16, 0 + 9 + 36 + 81, 1};
  for (int c = 0; c < 4; ++c) {
    CHECK(sum[c]->device == pod->core(c));
    CHECK(std::memcmp(sum[c]->data, want_sum, 16) == 0);
  }
  auto gat = tpu::collective("all_gather", "sum", 1, bufs);
  CHECK(gat[3]->shape == Shape({2, 8}));
  CHECK_EQ(gat[3]->as<float>()[2], 1.0f);   // core 1's [0,0] = 1*1
  CHECK_EQ(gat[3]->as<float>()[12], 36.0f);  // row 1, col 4 = core 2's [1,0] = (-6)^2
  CHECK_EQ(gat[3]->as<float>()[14], 81.0f);  // row 1, col 6 = core 3's [1,0] = (-9)^2
  bool threw = false;
  try { tpu::collective("reduce_scatter", "sum", 0, bufs); } catch (const std::exception& e) { threw = std::string(e.what()).find("not divisible") != std::string::npos; }
  CHECK(threw);
  for (TensorImpl* p : ts) tensor_free(p);
  return check_finish();
}
