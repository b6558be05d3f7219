// thread_pool.cpp - see thread_pool.h. Workers sleep on a condition variable between regions
// (never spin: the machine is shared) and take task indices from an atomic counter.
#include "backends/host/thread_pool.h"
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace jxla {
namespace {
struct Pool {
  int nthreads = 1;
  std::vector<std::thread> workers;
  std::mutex region;  // one parallel region at a time
  std::mutex mu;
  std::condition_variable cv, done_cv;
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t n = 0;
  std::atomic<int64_t> next{0};
  int64_t generation = 0;
  int active = 0;

  explicit Pool(int t) : nthreads(t) {
    for (int i = 1; i < nthreads; ++i) workers.emplace_back([this] { loop(); });
    for (auto& w : workers) w.detach();  // immortal: the pool lives as long as the process
  }
  void work() {
    for (int64_t i; (i = next.fetch_add(1)) < n;) (*fn)(i);
  }
  void loop() {
    int64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return generation != seen; });
        seen = generation;
        ++active;
      }
      work();
      std::lock_guard<std::mutex> lk(mu);
      if (--active == 0) done_cv.notify_all();
    }
  }
  void run(int64_t count, const std::function<void(int64_t)>& f) {
    {
      std::lock_guard<std::mutex> lk(mu);
      fn = &f;
      n = count;
      next = 0;
      ++generation;
    }
    cv.notify_all();
    work();
    std::unique_lock<std::mutex> lk(mu);
    done_cv.wait(lk, [&] { return active == 0 && next.load() >= n; });
  }
};

int env_threads() {
  const char* v = std::getenv("JXLA_NUM_THREADS");
  int t = v ? std::atoi(v) : 0;
  if (t <= 0) t = static_cast<int>(std::thread::hardware_concurrency());
  return t < 1 ? 1 : (t > 256 ? 256 : t);
}

Pool& pool() {
  static Pool* p = new Pool(env_threads());
  return *p;
}
}  // namespace

int host_num_threads() { return pool().nthreads; }

void parallel_for(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  Pool& p = pool();
  if (n == 1 || p.nthreads == 1) {
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
