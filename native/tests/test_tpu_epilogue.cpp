// test_tpu_epilogue.cpp - a dense layer's bias add and relu applied in the emulated MXU's final
// stores (MxuEpilogue, mxu_kernel.h; the TPU executable's dense tails, tpu_executable.cpp) give
// exactly the bits of the unfused path: the MXU result in f32, then the library's reference
// kernels for broadcast, add and relu (ref_eval, the spec the fusion must reproduce).
//  1. Kernel level: mxu_matmul_f32 with an epilogue vs without + ref_eval(broadcast, add, relu),
//     for edge shapes (M % 6, N % 16 / % 32, odd K, two k chunks, a batch), DEFAULT / HIGH /
//     HIGHEST, relu on / off, bias first / second, on data that sends the passes to each kernel
//     family (zmm FMA, VDPBF16PS, AVX2 FMA, AVX2 mul-then-add) and on special values (NaN in
//     the dot result and in the bias with different payloads: which NaN wins; a signalling NaN;
//     +-inf giving inf - inf; -0), and the scalar path (no vectorized engine); and the
//     benchmark's 256 x 784 x 1024 layer at DEFAULT and HIGHEST.
//  2. Through the runtime: graphs of dot -> add(broadcast bias) [-> relu] (a 3-layer MLP, a
//     batched dot, a dot whose bias dimension is not the kernel's columns, add(bias, dot), an
//     add that is also read by another op) give the same bits with the fusion on and off, the
//     fused run counts TpuDotEpilogues (the unfused one does not), and the simulated profile
//     and HBM peak are identical (the fusion changes host work only).
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "backends/host/reference.h"
#include "backends/tpu/mxu.h"
#include "backends/tpu/mxu_avx512.h"
#include "backends/tpu/mxu_kernel.h"
#include "backends/tpu/tpu_device.h"
#include "ir/builder.h"
#include "runtime/buffer.h"
#include "runtime/lazy.h"
#include "runtime/metrics.h"
#include "tests/check.h"

using namespace jxla;

namespace {
std::mt19937 rng(11);

float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// kind 0: normal values (zmm / AVX2 FMA: exact products); 1: tiny (not provably exact: mul then
// add, or VDPBF16PS); 2: normal with NaN / inf in x (the dot result holds NaN and inf); 3:
// normal values with special biases
std::vector<float> values(size_t n, int kind, float scale) {
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = kind == 1 ? std::ldexp(nd(rng), -70) : nd(rng);
  return v;
}

std::vector<float> bias_values(int64_t N, int kind) {
  std::vector<float> b = values(static_cast<size_t>(N), 0, 1.0f);
  if (kind >= 2) {
    const float specials[] = {from_bits(0x7fc12345u), from_bits(0xffc0beefu), from_bits(0x7f800001u),  // qNaN, -qNaN, sNaN
                              INFINITY, -INFINITY, -0.0f, 0.0f};
    for (int64_t j = 0; j < N; j += 3) b[static_cast<size_t>(j)] = specials[(j / 3) % 7];
  }
  return b;
}

void poison_x(std::vector<float>& x, int64_t M, int64_t K) {  // kind 2: NaN / inf rows
  const float sp[] = {from_bits(0x7fc0abcdu), INFINITY, -INFINITY, from_bits(0xffc00001u)};
  for (int64_t i = 1; i < M; i += 3) x[static_cast<size_t>(i * K + (i % K))] = sp[(i / 3) % 4];
}

bool same(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * 4) == 0; }

BufferRef host_buf(Shape sh, const float* v) {
  BufferRef b = alloc_buffer(DType::F32, sh, nullptr);
  std::memcpy(b->data, v, static_cast<size_t>(b->nbytes));
  return b;
}

// The unfused tail by the reference kernels: relu?(add(c, broadcast(bias))), c of [rows, N].
std::vector<float> ref_tail(const std::vector<float>& c, const std::vector<float>& bias, int64_t rows, int64_t N,
                            bool bias_first, bool relu) {
  BufferRef cb = host_buf({rows, N}, c.data()), bb = host_buf({N}, bias.data());
  NodeRef cn = make_data(cb), bn = make_data(bb);
  Attrs bc;
  bc.set_ints("shape", {rows, N});
  bc.set_ints("dims", {1});
  NodeRef bcn = build(Op::Broadcast, {bn}, bc);
  BufferRef bcast = ref_eval(*bcn, {bb.get()}, nullptr);
  NodeRef add = bias_first ? build(Op::Add, {bcn, cn}, Attrs()) : build(Op::Add, {cn, bcn}, Attrs());
  BufferRef y = bias_first ? ref_eval(*add, {bcast.get(), cb.get()}, nullptr) : ref_eval(*add, {cb.get(), bcast.get()}, nullptr);
  if (relu) y = ref_eval(*build(Op::Relu, {add}, Attrs()), {y.get()}, nullptr);
  return std::vector<float>(y->as<float>(), y->as<float>() + rows * N);
}

int direct_failures = 0;
void direct(int64_t B, int64_t M, int64_t K, int64_t N, int precision, int kind, const char* engine) {
  auto a = values(static_cast<size_t>(B * M * K), kind, 1.0f), w = values(static_cast<size_t>(B * K * N), kind, 0.1f);
  if (kind == 2) poison_x(a, B * M, K);
  const auto bias = bias_values(N, kind);
  std::vector<float> plain(static_cast<size_t>(B * M * N)), fused(plain.size());
  tpu::mxu_matmul_f32(a.data(), w.data(), plain.data(), B, M, K, N, precision);
  for (int relu = 0; relu <= 1; ++relu)
    for (int bf = 0; bf <= 1; ++bf) {
      tpu::MxuEpilogue e;
      e.bias = bias.data();
      e.bias_first = bf;
      e.relu = relu;
      tpu::mxu_matmul_f32(a.data(), w.data(), fused.data(), B, M, K, N, precision, nullptr, &e);
      const auto want = ref_tail(plain, bias, B * M, N, bf, relu);
      if (!CHECK(same(want.data(), fused.data(), want.size()))) {
        ++direct_failures;
        size_t bad = 0;
        for (size_t i = 0; i < want.size(); ++i) bad += std::memcmp(&want[i], &fused[i], 4) != 0;
        std::printf("  %s B=%ld M=%ld K=%ld N=%ld precision %d kind %d relu %d bias_first %d: %zu of %zu differ\n", engine,
                    long(B), long(M), long(K), long(N), precision, kind, relu, bf, bad, want.size());
      }
    }
}

// n_shapes < 5: the scalar engine skips the largest shape (seconds of scalar passes)
void direct_all(const char* engine, int n_shapes = 5) {
  const int64_t shapes[][4] = {{1, 7, 33, 17}, {1, 13, 301, 40}, {2, 12, 64, 48}, {1, 6, 8, 1}, {1, 64, 512, 96}};
  for (int precision = 0; precision <= 2; ++precision)
    for (int kind = 0; kind <= 3; ++kind)
      for (int i = 0; i < n_shapes; ++i) direct(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], precision, kind, engine);
}

// ---- through the runtime ----
NodeRef data(Device* d, Shape sh, const std::vector<float>& v, bool frozen) {
  BufferRef b = alloc_buffer(DType::F32, sh, d);
  std::memcpy(b->as<float>(), v.data(), v.size() * 4);
  if (frozen) b->frozen.store(true);
  return make_data(b);
}

NodeRef bias_add(NodeRef y, NodeRef b, bool bias_first) {
  Attrs bc;
  bc.set_ints("shape", y->shape);
  bc.set_ints("dims", {static_cast<int64_t>(y->shape.size()) - 1});
  NodeRef bb = build(Op::Broadcast, {b}, bc);
  return bias_first ? build(Op::Add, {bb, y}, Attrs()) : build(Op::Add, {y, bb}, Attrs());
}

// The profile without start times (the clock runs on across runs) and the HBM peak.
std::string model_of(tpu::TpuDevice* dev) {
  std::string p = dev->profile_text(), out;
  size_t pos = p.find('\n', p.find('\n') + 1) + 1;
  while (pos < p.size()) {
    const size_t e = p.find('\n', pos);
    out += p.substr(p.find(' ', pos) + 1, e - p.find(' ', pos)) ;
    pos = e + 1;
  }
  return out + "peak " + std::to_string(dev->hbm_peak());
}

struct Run {
  std::vector<std::vector<float>> outs;
  int64_t epilogues;
  std::string model;
};

Run run(tpu::TpuDevice* dev, const std::vector<NodeRef>& roots, bool fuse) {
  tpu::mxu_set_epilogue_fusion_enabled(fuse);
  dev->profile_clear();
  const int64_t e0 = counter_get("TpuDotEpilogues");
  std::vector<TensorImpl*> ts;
  for (auto& r : roots) ts.push_back(tensor_new(r));
  Run res;
  for (TensorImpl* t : ts) {
    BufferRef o = tensor_data(t);
    res.outs.emplace_back(o->as<float>(), o->as<float>() + o->numel());
    tensor_free(t);
  }
  res.epilogues = counter_get("TpuDotEpilogues") - e0;
  res.model = model_of(dev);
  tpu::mxu_set_epilogue_fusion_enabled(true);
  return res;
}

// Builds the graph twice (fresh nodes: a lazy node is computed once) and compares the runs.
template <class G>
void graph_case(const char* name, tpu::TpuDevice* dev, G make, int64_t want_epilogues) {
  const Run off = run(dev, make(), false), on = run(dev, make(), true);
  bool ok = off.outs.size() == on.outs.size();
  for (size_t i = 0; ok && i < on.outs.size(); ++i)
    ok = on.outs[i].size() == off.outs[i].size() && same(on.outs[i].data(), off.outs[i].data(), on.outs[i].size());
  if (!CHECK(ok)) std::printf("  %s: fused and unfused results differ\n", name);
  if (!CHECK_EQ(off.epilogues, 0) || !CHECK_EQ(on.epilogues, want_epilogues)) std::printf("  %s: epilogue count\n", name);
  if (!CHECK(on.model == off.model)) std::printf("  %s: model differs\n--- off\n%s\n--- on\n%s\n", name, off.model.c_str(), on.model.c_str());
}
}  // namespace

int main() {
  // 1. kernel level, every engine the CPU has
  direct_all("default");
  if (tpu::mxu_vectorized()) {
    tpu::set_mxu_avx512_allowed(false);  // AVX2 FMA / mul-then-add, VDPBF16PS where exact
    direct_all("no-zmm");
    tpu::set_mxu_bf16_allowed(false);
    direct_all("avx2");
    tpu::set_mxu_fma_allowed(false);  // mul-then-add only
    direct_all("avx2-muladd");
    tpu::set_mxu_fma_allowed(true);
    tpu::set_mxu_bf16_allowed(true);
    tpu::set_mxu_avx512_allowed(true);
    const uint64_t z0 = tpu::mxu_avx512_calls(tpu::Kernel512::Fma512);
    direct(1, 13, 301, 40, 0, 3, "zmm");
    direct(1, 256, 784, 1024, 0, 0, "mlp-size");  // the benchmark's first layer: 4 k chunks, tasks split N
    direct(1, 256, 784, 1024, 2, 3, "mlp-size");
    CHECK(!tpu::mxu_avx512_available() || tpu::mxu_avx512_calls(tpu::Kernel512::Fma512) > z0);  // it ran
    tpu::set_mxu_fastpath(false);
    direct_all("scalar", 4);
    tpu::set_mxu_fastpath(true);
  }
  std::printf("test_tpu_epilogue: kernel level, %d failing cases\n", direct_failures);

  // 2. through the runtime
  tpu::TpuDevice* dev = tpu::tpu_device("v5e", 1, 0);
  for (int precision : {0, 2})
    for (int kind : {0, 2}) {
      const std::string prec = "precision=" + std::to_string(precision);
      const int64_t dims[4] = {37, 64, 50, 10};  // 3 layers, M = 13
      std::vector<std::vector<float>> wv, bv;
      for (int l = 0; l < 3; ++l) {
        wv.push_back(values(static_cast<size_t>(dims[l] * dims[l + 1]), 0, 0.2f));
        bv.push_back(bias_values(dims[l + 1], kind == 2 ? 3 : 0));
      }
      auto xv = values(13 * 37, 0, 1.0f);
      if (kind == 2) poison_x(xv, 13, 37);
      std::vector<NodeRef> W, Bs;  // shared by both runs: frozen weights hit the weight cache
      for (int l = 0; l < 3; ++l) {
        W.push_back(data(dev, {dims[l], dims[l + 1]}, wv[static_cast<size_t>(l)], true));
        Bs.push_back(data(dev, {dims[l + 1]}, bv[static_cast<size_t>(l)], true));
      }
      graph_case("mlp", dev, [&] {
        NodeRef h = data(dev, {13, 37}, xv, false);
        Attrs dot = Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0], " + prec);
        for (int l = 0; l < 3; ++l) {
          NodeRef y = bias_add(build(Op::DotGeneral, {h, W[static_cast<size_t>(l)]}, dot), Bs[static_cast<size_t>(l)], l == 1);
          h = l < 2 ? build(Op::Relu, {y}, Attrs()) : y;
        }
        return std::vector<NodeRef>{h};
      }, 3);
      // batched dot [2, 7, 33] x [2, 33, 17] + bias [17], relu; weights not frozen
      const auto bx = values(2 * 7 * 33, 0, 1.0f), bw = values(2 * 33 * 17, 0, 0.2f), bb = bias_values(17, kind);
      graph_case("batched", dev, [&] {
        Attrs dot = Attrs::parse("dot_general", "lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1], " + prec);
        NodeRef y = build(Op::DotGeneral, {data(dev, {2, 7, 33}, bx, false), data(dev, {2, 33, 17}, bw, false)}, dot);
        return std::vector<NodeRef>{build(Op::Relu, {bias_add(y, data(dev, {17}, bb, false), false)}, Attrs())};
      }, 1);
      // two rhs free dims: the bias runs along the last (5), not the kernel's 15 columns
      const auto fx = values(9 * 20, 0, 1.0f), fw = values(20 * 15, 0, 0.2f), fb = bias_values(5, kind);
      graph_case("free-dims", dev, [&] {
        Attrs dot = Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0], " + prec);
        NodeRef y = build(Op::DotGeneral, {data(dev, {9, 20}, fx, false), data(dev, {20, 3, 5}, fw, false)}, dot);
        return std::vector<NodeRef>{build(Op::Relu, {bias_add(y, data(dev, {5}, fb, false), true)}, Attrs())};
      }, 1);
      // the add is also read by a relu: the add is the tail (each root is its own graph here)
      const auto ob = bias_values(15, kind);
      graph_case("add-output", dev, [&] {
        Attrs dot = Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0], " + prec);
        NodeRef y = bias_add(build(Op::DotGeneral, {data(dev, {9, 20}, fx, false), data(dev, {20, 15}, fw, false)}, dot),
                             data(dev, {15}, ob, false), false);
        return std::vector<NodeRef>{y, build(Op::Relu, {y}, Attrs())};
      }, 2);
    }
  return check_finish();
}
