// test_thread_pool.cpp - the host pool (backends/host/thread_pool.h): every task index of every
// region runs exactly once and its writes are visible when parallel_for returns, over many short
// regions back to back (the case where a worker that joins late could otherwise touch the next
// region: thread_pool.cpp tags the task counter with the region), with workers both spinning
// between regions and asleep (regions spaced beyond the spin window); concurrent callers (the
// busy pool runs tasks inline) and nested calls.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>
#include "backends/host/thread_pool.h"
#include "tests/check.h"

using namespace jxla;

namespace {
// runs `regions` regions of n tasks; each task bumps its slot; true when every slot == 1 after
// each region (plain ints: the check also needs the tasks' writes to be visible to the caller)
bool regions_exact(int regions, int64_t n, int sleep_us_between) {
  std::vector<int> slot(static_cast<size_t>(n));
  for (int r = 0; r < regions; ++r) {
    std::fill(slot.begin(), slot.end(), 0);
    parallel_for(n, [&](int64_t i) { slot[static_cast<size_t>(i)] += 1; });
    for (int v : slot)
      if (v != 1) return false;
    if (sleep_us_between) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_between));
  }
  return true;
}
}  // namespace

int main() {
  setenv("JXLA_NUM_THREADS", "4", 1);  // before the pool starts: 3 workers even on 2 cores
  CHECK_EQ(host_num_threads(), 4);
  for (int64_t n : {2, 3, 5, 17, 64}) CHECK(regions_exact(3000, n, 0));  // workers spinning
  CHECK(regions_exact(20, 7, 1000));                                      // workers asleep (> 100 us apart)
  // tasks that take a while (so every worker joins) and tasks of uneven length
  std::atomic<int64_t> sum{0};
  parallel_for(1000, [&](int64_t i) {
    volatile double x = 0;
    for (int k = 0; k < (i % 7) * 200; ++k) x = x + k;
    sum += i;
  });
  CHECK_EQ(sum.load(), 999 * 1000 / 2);
  // concurrent callers: one owns the pool, the others run inline; all exact
  std::atomic<int> bad{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      if (!regions_exact(500, 9, 0)) ++bad;
    });
  for (auto& t : ts) t.join();
  CHECK_EQ(bad.load(), 0);
  // nested: the inner call finds the pool busy and runs inline (no deadlock)
  std::vector<std::atomic<int>> hits(8 * 8);
  parallel_for(8, [&](int64_t i) { parallel_for(8, [&](int64_t j) { hits[static_cast<size_t>(i * 8 + j)]++; }); });
  bool once = true;
  for (auto& h : hits) once = once && h.load() == 1;
  CHECK(once);
  return check_finish();
}
