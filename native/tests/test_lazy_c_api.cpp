// test_lazy_c_api.cpp - the lazy runtime through the C ABI: sync orders its roots by creation
// so a repeated trace is a cache hit; a tensor freed by another thread while its owner syncs
// (what the Java GC's deallocator thread does) is safe; jxla_stats_get gauges return to their
// baseline; every error path reports a status and a message.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include "jxla/jxla.h"
#include "tests/check.h"

static int64_t stat(const char* name) {
  int64_t v = -1;
  CHECK_EQ(jxla_stats_get(name, &v), JXLA_OK);
  return v;
}
static int64_t counter(const char* name) {
  int64_t v = -1;
  CHECK_EQ(jxla_metrics_counter(name, &v), JXLA_OK);
  return v;
}
static int32_t op(const char* name) {
  int32_t o = -1;
  CHECK_EQ(jxla_op_lookup(name, &o), JXLA_OK);
  return o;
}
static jxla_tensor_t vec(const std::vector<float>& v) {
  int64_t shape[1] = {static_cast<int64_t>(v.size())};
  jxla_tensor_t t = nullptr;
  CHECK_EQ(jxla_tensor_from_data(nullptr, JXLA_F32, shape, 1, v.data(), 4 * static_cast<int64_t>(v.size()), &t), JXLA_OK);
  return t;
}
static jxla_tensor_t bin(int32_t o, jxla_tensor_t a, jxla_tensor_t b) {
  jxla_tensor_t t = nullptr;
  CHECK_EQ(jxla_tensor_binary(o, a, b, &t), JXLA_OK);
  return t;
}

int main() {
  const int32_t add = op("add"), mul = op("mul"), sub = op("sub"), exp_ = op("exp");
  const int64_t tensors0 = stat("live_tensors"), bytes0 = stat("live_bytes"), nodes0 = stat("live_nodes");

  // 1. several pending roots per step, in a fixed trace order: one compile, then only hits
  //    (roots used to be taken in the registry's address-dependent hash order)
  int64_t misses = -1;
  for (int step = 0; step < 50; ++step) {
    float s = static_cast<float>(step);
    jxla_tensor_t x = vec({s, s + 1, s + 2});
    jxla_tensor_t a = bin(add, x, x), b = bin(mul, x, x), c = bin(sub, a, b), d = bin(mul, c, x);
    CHECK_EQ(jxla_sync(), JXLA_OK);
    float out[3];
    CHECK_EQ(jxla_tensor_read(d, JXLA_F32, out, sizeof out), JXLA_OK);
    for (int i = 0; i < 3; ++i) CHECK_EQ(out[i], (2 * (s + i) - (s + i) * (s + i)) * (s + i));
    for (jxla_tensor_t t : {x, a, b, c, d}) CHECK_EQ(jxla_tensor_free(t), JXLA_OK);
    if (step == 0) misses = counter("UncachedCompile");
  }
  CHECK_EQ(counter("UncachedCompile"), misses);

  // 2. another thread frees pending tensors while their owner syncs
  for (int round = 0; round < 20; ++round) {
    jxla_tensor_t x = vec({1, 2, 3, 4});
    jxla_tensor_t twice = bin(add, x, x);  // pending, owned by this thread
    std::vector<jxla_tensor_t> ts;
    for (int i = 0; i < 200; ++i) {
      jxla_tensor_t t = nullptr;
      CHECK_EQ(jxla_tensor_unary(exp_, i % 2 ? x : twice, &t), JXLA_OK);
      ts.push_back(t);
    }
    std::atomic<bool> go{false};
    std::thread freer([&] {
      while (!go.load()) std::this_thread::yield();
      for (jxla_tensor_t t : ts) jxla_tensor_free(t);
    });
    go = true;
    for (int k = 0; k < 5; ++k) CHECK_EQ(jxla_sync(), JXLA_OK);
    freer.join();
    float out[4];
    CHECK_EQ(jxla_tensor_read(twice, JXLA_F32, out, sizeof out), JXLA_OK);
    CHECK_EQ(out[3], 8.0f);
    CHECK_EQ(jxla_tensor_free(twice), JXLA_OK);
    CHECK_EQ(jxla_tensor_free(x), JXLA_OK);
  }
  CHECK_EQ(jxla_sync(), JXLA_OK);
  CHECK_EQ(stat("pending_tensors"), 0);
  CHECK_EQ(stat("live_tensors"), tensors0);
  CHECK_EQ(stat("live_bytes"), bytes0);
  // the compile cache keeps canonical graphs (nodes, never data): nodes only grow with it
  CHECK(stat("live_nodes") >= nodes0);
  CHECK(stat("compile_cache_entries") >= 1);

  // 3. errors: unknown stat name, null arguments
  int64_t v = 0;
  CHECK_EQ(jxla_stats_get("no_such_stat", &v), JXLA_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(jxla_last_error(), "no_such_stat") != nullptr);
  CHECK_EQ(jxla_stats_get(nullptr, &v), JXLA_ERR_INVALID_ARGUMENT);
  CHECK_EQ(jxla_stats_get("live_bytes", nullptr), JXLA_ERR_INVALID_ARGUMENT);
  return check_finish();
}
