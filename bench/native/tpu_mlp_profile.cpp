// tpu_mlp_profile.cpp - profiling harness for the emulated TPU (tpu:v5e) running the MLP
// 784-1024-1024-10 forward (dot_general + broadcast bias + add + relu per layer) at DEFAULT
// precision through the lazy runtime, as the ONNX executable's TPU path does. Not a benchmark
// of record (OnnxMlpBench.jxlaTpuDefault is): it exists so `perf record` sees symbols (the JNI
// library is stripped). Prints the median wall time per forward.
// Build (after a cmake build of the library in target/cmake):
//   OB=target/openblas/org/bytedeco/openblas/linux-x86_64
//   g++ -std=c++17 -O2 -g -Iinclude -Inative bench/native/tpu_mlp_profile.cpp target/cmake/lib/libjxla.a
//       $OB/libopenblas.so.0 -Wl,-rpath,$PWD/$OB -lpthread -o /tmp/tpu_mlp_profile   (one line)
// Run: JXLA_NUM_THREADS=2 perf record -g /tmp/tpu_mlp_profile 256 30  (JXLA_TPU_PREPACK=0: the
// weights' terms packed on every call, as before session 7's cache)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>
#include "backends/tpu/tpu_device.h"
#include "ir/builder.h"
#include "runtime/buffer.h"
#include "runtime/lazy.h"

using namespace jxla;

namespace {
NodeRef data(Device* d, Shape sh, std::mt19937& g, float scale, bool frozen = false) {
  BufferRef b = alloc_buffer(DType::F32, sh, d);
  std::normal_distribution<float> nd(0.0f, scale);
  for (int64_t i = 0; i < b->numel(); ++i) b->as<float>()[i] = nd(g);
  if (frozen) b->frozen.store(true);  // constants, as an ONNX model's initializers are
  return make_data(b);
}
}  // namespace

int main(int argc, char** argv) {
  const int64_t M = argc > 1 ? std::atoll(argv[1]) : 256;
  const int calls = argc > 2 ? std::atoi(argv[2]) : 30;
  tpu::TpuDevice* dev = tpu::tpu_device("v5e", 1, 0);
  std::mt19937 g(1);
  const int64_t dims[4] = {784, 1024, 1024, 10};
  std::vector<NodeRef> w, b;
  for (int l = 0; l < 3; ++l) {
    w.push_back(data(dev, {dims[l], dims[l + 1]}, g, 0.05f, true));
    b.push_back(data(dev, {dims[l + 1]}, g, 0.1f, true));
  }
  std::vector<double> times;
  for (int it = 0; it < calls + 3; ++it) {
    NodeRef h = data(dev, {M, 784}, g, 1.0f);
    for (int l = 0; l < 3; ++l) {
      Attrs dot = Attrs::parse("dot_general", "lhs_contract=[1], rhs_contract=[0]");
      NodeRef y = build(Op::DotGeneral, {h, w[l]}, dot);
      Attrs bc;
      bc.set_ints("shape", {M, dims[l + 1]});
      bc.set_ints("dims", {1});
      y = build(Op::Add, {y, build(Op::Broadcast, {b[l]}, bc)}, Attrs());
      h = l < 2 ? build(Op::Relu, {y}, Attrs()) : y;
    }
    const auto t0 = std::chrono::steady_clock::now();
    TensorImpl* t = tensor_new(h);
    BufferRef out = tensor_data(t);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    tensor_free(t);
    if (it >= 3) times.push_back(us);
  }
  std::sort(times.begin(), times.end());
  std::printf("tpu:v5e DEFAULT MLP batch %ld: median %.0f us, min %.0f us over %d forwards\n", static_cast<long>(M),
              times[times.size() / 2], times[0], calls);
  return 0;
}
