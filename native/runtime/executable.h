// executable.h - a compiled graph for one device, and the process-wide compile cache keyed by
// the graph fingerprint (structure, shapes, dtypes, attrs, device; never data).
// Executables are immutable after compile and may run concurrently from many threads.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "ir/graph.h"
#include "runtime/buffer.h"

namespace jxla {

class Executable {
 public:
  virtual ~Executable() = default;
  // params[i] binds Parameter i; returns one buffer per graph output.
  virtual std::vector<BufferRef> run(const std::vector<BufferRef>& params) = 0;
  virtual int64_t kernel_count() const = 0;
  // Buffer donation (XLA's input/output aliasing, JAX's donate_argnums): the parameters whose
  // buffer this executable can overwrite with an output computed in place (an in-place update
  // such as Adam's p, m, v). Empty by default.
  virtual const std::vector<int>& donatable_params() const {
    static const std::vector<int> none;
    return none;
  }
  // run() where donated[i] != 0 says params[i]'s buffer has no other reader (the caller proved
  // it, runtime/lazy.cpp): the executable may write an output into it. Only indices listed by
  // donatable_params() are ever set.
  virtual std::vector<BufferRef> run_donated(const std::vector<BufferRef>& params, const std::vector<char>& donated) {
    (void)donated;
    return run(params);
  }
  virtual std::string describe() const { return ""; }
  // With JXLA_PROFILE=1 (host fused executables): mean wall time per run of each kernel, one
  // line per kernel after a summary line; empty when profiling is off or nothing ran.
  virtual std::string profile() const { return ""; }
};

// The reference executable: interprets the canonical graph with the reference kernels.
std::shared_ptr<Executable> make_reference_executable(Graph g, Device* dev);

// Compiles g for dev (through dev's compiler hook), with the cache. Counts CachedCompile /
// UncachedCompile and records CompileTime on a miss.
std::shared_ptr<Executable> compile_cached(const Capture& cap, Device* dev);
int64_t compile_cache_size();
// Kernel count of the last executable run by the calling thread through the lazy runtime
// (-1 before the first run). Set by runtime/lazy.cpp.
int64_t last_kernel_count();
void set_last_kernel_count(int64_t n);
void compile_cache_clear();

}  // namespace jxla
