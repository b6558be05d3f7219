// test_tpu_prepack.cpp - the emulated MXU's prepacked constant weights (mxu_kernel.h
// mxu_pack_w, mxu.h mxu_set_weight_cache_enabled): a W split into its terms and packed once
// gives exactly the bits of per-call packing, for every precision and for data that sends the
// passes to each kernel (exact products: FMA kernels; tiny or non-bf16 values: the gated
// VDPBF16PS or mul-then-add kernels, which read the same cached stats); through the runtime a
// frozen weight is packed once per precision and reused (counter TpuPrepackedWeights), a
// non-frozen one never; a prepacked W of another shape is refused. Why bits: the cache only
// moves where the panels come from, never their values or the kernel choice.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>
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
std::mt19937 rng(7);

std::vector<float> values(size_t n, int kind) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) {
    x = nd(rng);
    if (kind == 1) x = std::ldexp(x, -70);  // tiny: products near the subnormal range
  }
  return v;
}

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

void direct(int64_t B, int64_t M, int64_t K, int64_t N, int precision, int kind) {
  const auto a = values(static_cast<size_t>(B * M * K), kind), w = values(static_cast<size_t>(B * K * N), kind);
  std::vector<float> c1(static_cast<size_t>(B * M * N)), c2(c1.size());
  tpu::mxu_matmul_f32(a.data(), w.data(), c1.data(), B, M, K, N, precision);
  static const tpu::Term t1[] = {tpu::Term::Round}, t2[] = {tpu::Term::Hi, tpu::Term::Lo2},
                         t3[] = {tpu::Term::Hi, tpu::Term::Mid, tpu::Term::Lo3};
  const tpu::Term* t = precision == 2 ? t3 : precision == 1 ? t2 : t1;
  const auto pw = tpu::mxu_pack_w(w.data(), B, K, N, t, precision + 1);
  // the W pointer is not read with a prepacked W: pass a different (garbage) one to prove it
  const std::vector<float> junk(w.size(), 12345.0f);
  tpu::mxu_matmul_f32(a.data(), junk.data(), c2.data(), B, M, K, N, precision, pw.get());
  if (!CHECK(same(c1, c2)))
    std::printf("  direct B=%ld M=%ld K=%ld N=%ld precision %d kind %d\n", long(B), long(M), long(K), long(N), precision, kind);
}

NodeRef data(Device* d, Shape sh, const std::vector<float>& v, bool frozen) {
  BufferRef b = alloc_buffer(DType::F32, sh, d);
  std::memcpy(b->as<float>(), v.data(), v.size() * 4);
  if (frozen) b->frozen.store(true);
  return make_data(b);
}

std::vector<float> run(const NodeRef& x, const NodeRef& w, int precision) {
  Attrs dot = Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0], precision=" + std::to_string(precision));
  TensorImpl* t = tensor_new(build(Op::DotGeneral, {x, w}, dot));
  BufferRef out = tensor_data(t);
  std::vector<float> r(out->as<float>(), out->as<float>() + out->numel());
  tensor_free(t);
  return r;
}
}  // namespace

int main() {
  if (!tpu::mxu_vectorized()) {
    std::printf("test_tpu_prepack: no vectorized MXU engine on this CPU; nothing to cache\n");
    return check_finish();
  }
  for (int precision = 0; precision <= 2; ++precision)
    for (int kind = 0; kind <= 1; ++kind) {
      const uint64_t fma0 = tpu::mxu_avx512_calls(tpu::Kernel512::Fma512);
      direct(1, 7, 33, 17, precision, kind);
      direct(2, 13, 300, 40, precision, kind);  // two k chunks, a batch
      direct(1, 64, 512, 96, precision, kind);
      // DEFAULT on normal values runs the zmm FMA kernel where the CPU has it; tiny values never
      // do (their products are not provably exact), so both kernel families were compared
      if (precision == 0 && tpu::mxu_avx512_available())
        CHECK(kind == 0 ? tpu::mxu_avx512_calls(tpu::Kernel512::Fma512) > fma0
                        : tpu::mxu_avx512_calls(tpu::Kernel512::Fma512) == fma0);
    }

  // through the runtime: frozen weights are packed once per precision, then reused
  tpu::TpuDevice* dev = tpu::tpu_device("v5e", 1, 0);
  const int64_t M = 24, K = 200, N = 72;
  const auto xv = values(static_cast<size_t>(M * K), 0), wv = values(static_cast<size_t>(K * N), 0);
  NodeRef x = data(dev, {M, K}, xv, false), wf = data(dev, {K, N}, wv, true), wl = data(dev, {K, N}, wv, false);
  for (int precision = 0; precision <= 2; ++precision) {
    tpu::mxu_set_weight_cache_enabled(false);
    const auto want = run(x, wl, precision);
    tpu::mxu_set_weight_cache_enabled(true);
    const int64_t packs = counter_get("TpuPrepackedWeights");
    const auto first = run(x, wf, precision), second = run(x, wf, precision);
    CHECK(same(want, first));
    CHECK(same(want, second));
    CHECK_EQ(counter_get("TpuPrepackedWeights") - packs, 1);  // packed on the first call only
    const int64_t before = counter_get("TpuPrepackedWeights");
    CHECK(same(want, run(x, wl, precision)));  // not frozen: never cached
    CHECK_EQ(counter_get("TpuPrepackedWeights"), before);
  }

  // a prepacked W of another shape is refused with an error, not read
  {
    const auto w = values(64 * 32, 0), a = values(8 * 64, 0);
    static const tpu::Term t1[] = {tpu::Term::Round};
    const auto pw = tpu::mxu_pack_w(w.data(), 1, 64, 32, t1, 1);
    std::vector<float> c(8 * 16);
    bool threw = false;
    try {
      tpu::mxu_matmul_f32(a.data(), w.data(), c.data(), 1, 8, 64, 16, 0, pw.get());
    } catch (...) {
      threw = true;
    }
    CHECK(threw);
  }
  return check_finish();
}
