// thread_pool.h - the host backend's small native thread pool (JXLA_NUM_THREADS, default: all
// cores). parallel_for(n, fn) runs fn(0..n-1) on the workers and the caller. One parallel
// region runs at a time; a caller that finds the pool busy (another Java thread, or a nested
// call) runs its tasks inline, so there is no deadlock and no oversubscription.
#pragma once
#include <cstdint>
#include <functional>

namespace jxla {

int host_num_threads();
void parallel_for(int64_t n, const std::function<void(int64_t)>& fn);

}  // namespace jxla
