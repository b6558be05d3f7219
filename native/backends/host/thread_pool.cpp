// thread_pool.cpp - see thread_pool.h. Workers take task indices from a shared counter; between
// regions they spin briefly (JXLA_POOL_SPIN_US, default 100 us, pause instructions only) and
// then sleep on a condition variable. The caller likewise spins briefly for the last tasks of a
// region before sleeping.
// Why spin at all on a shared machine: a futex wake-up costs tens of microseconds on this VM, and
// an MLP inference runs a region per layer back to back (~7 ms in three regions): a worker that
// slept between two layers starts each region late and the region ends late too. The spin is
// bounded, so an idle pool still sleeps within 0.1 ms, and the spin only reads (pause between
// reads). JXLA_POOL_SPIN_US=0 restores sleep-only waiting (A/B runs).
// Correctness of late workers: the counter holds (region tag << 40 | next index). A worker copies
// fn, n and the tag under the mutex when it joins a region, and claims an index with a CAS that
// succeeds only while the tag is still its region's: a worker that joins after its region ended
// can never run a task of the next region with the previous region's function (or twice).
// The caller returns only when every index is claimed and no joined worker is still running.
#include "backends/host/thread_pool.h"
#include <immintrin.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace jxla {
namespace {
constexpr int kTagShift = 40;
constexpr int64_t kIndexMask = (int64_t(1) << kTagShift) - 1;
constexpr int64_t kTagMask = (int64_t(1) << 23) - 1;  // tag << 40 stays below 2^63

int env_int(const char* name, int dflt) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : dflt;
}

// spins until ready() or `us` microseconds have passed; true when ready
template <typename F>
bool spin_for(int us, F ready) {
  if (us <= 0) return ready();
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      _mm_pause();
    }
    if (std::chrono::steady_clock::now() >= end) return ready();
  }
}

struct Pool {
  int nthreads = 1;
  int spin_us = 100;
  std::vector<std::thread> workers;
  std::mutex region;  // one parallel region at a time
  std::mutex mu;
  std::condition_variable cv, done_cv;
  // region state: written under mu by the caller, copied under mu by joining workers
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t n = 0;
  unsigned csr = 0;  // the caller's MXCSR (denormal.h): every thread of a region computes in one mode
  int64_t generation = 0;
  std::atomic<int64_t> gen_pub{0};  // == generation, read by spinning workers without the lock
  std::atomic<int64_t> next{0};     // (tag << kTagShift) | next index
  std::atomic<int> active{0};       // workers inside work() (changed under mu)

  Pool(int t, int spin) : nthreads(t), spin_us(spin) {
    for (int i = 1; i < nthreads; ++i) workers.emplace_back([this] { loop(); });
    for (auto& w : workers) w.detach();  // immortal: the pool lives as long as the process
  }
  // runs tasks of the region tagged `tag` while any is left
  void work(const std::function<void(int64_t)>& f, int64_t count, int64_t tag) {
    int64_t v = next.load(std::memory_order_acquire);
    for (;;) {
      if ((v >> kTagShift) != tag || (v & kIndexMask) >= count) return;
      if (!next.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
      f(v & kIndexMask);
      v = next.load(std::memory_order_acquire);
    }
  }
  void loop() {
    int64_t seen = 0;
    for (;;) {
      spin_for(spin_us, [&] { return gen_pub.load(std::memory_order_acquire) != seen; });
      const std::function<void(int64_t)>* f;
      int64_t count, tag;
      unsigned mode;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return generation != seen; });
        seen = generation;
        f = fn;
        count = n;
        mode = csr;
        tag = generation & kTagMask;
        active.fetch_add(1, std::memory_order_relaxed);
      }
      if (_mm_getcsr() != mode) _mm_setcsr(mode);
      work(*f, count, tag);
      std::lock_guard<std::mutex> lk(mu);
      if (active.fetch_sub(1, std::memory_order_acq_rel) == 1) done_cv.notify_all();
    }
  }
  void run(int64_t count, const std::function<void(int64_t)>& f) {
    int64_t tag;
    {
      std::lock_guard<std::mutex> lk(mu);
      fn = &f;
      n = count;
      csr = _mm_getcsr();
      ++generation;
      tag = generation & kTagMask;
      next.store(tag << kTagShift, std::memory_order_release);
      gen_pub.store(generation, std::memory_order_release);
    }
    cv.notify_all();
    work(f, count, tag);
    // every index is claimed; wait for the joined workers to finish theirs
    auto finished = [&] { return active.load(std::memory_order_acquire) == 0; };
    // (the acquire load of active == 0 pairs with each worker's release decrement after its
    // last task, so their writes are visible to the caller when it returns)
    if (spin_for(spin_us, finished)) return;
    std::unique_lock<std::mutex> lk(mu);
    done_cv.wait(lk, finished);
  }
};

int env_threads() {
  int t = env_int("JXLA_NUM_THREADS", 0);
  if (t <= 0) t = static_cast<int>(std::thread::hardware_concurrency());
  return t < 1 ? 1 : (t > 256 ? 256 : t);
}

Pool& pool() {
  static Pool* p = new Pool(env_threads(), std::max(0, std::min(10000, env_int("JXLA_POOL_SPIN_US", 100))));
  return *p;
}
}  // namespace

int host_num_threads() { return pool().nthreads; }

void parallel_for(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  Pool& p = pool();
  if (n == 1 || p.nthreads == 1 || n > kIndexMask) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::unique_lock<std::mutex> lk(p.region, std::try_to_lock);
  if (!lk.owns_lock()) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  p.run(n, fn);
}

}  // namespace jxla
