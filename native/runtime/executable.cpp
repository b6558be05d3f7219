// executable.cpp - the reference executable and the compile cache (with JXLA_PROFILE, the cached
// executables' per-kernel profiles are written to stderr at exit).
#include "runtime/executable.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include "backends/host/reference.h"
#include "runtime/compiler.h"
#include "runtime/metrics.h"

namespace jxla {

namespace {
class ReferenceExecutable final : public Executable {
 public:
  ReferenceExecutable(Graph g, Device* dev) : g_(std::move(g)), dev_(dev) {
    for (auto& n : g_.nodes) if (n->op != Op::Parameter) ++kernels_;
  }
  std::vector<BufferRef> run(const std::vector<BufferRef>& params) override { return ref_run(g_, params, dev_); }
  int64_t kernel_count() const override { return kernels_; }
  std::string describe() const override { return print_graph(g_); }
 private:
  Graph g_;
  Device* dev_;
  int64_t kernels_ = 0;
};

struct Cache {
  std::mutex mu;
  std::map<std::pair<uint64_t, uint64_t>, std::shared_ptr<Executable>> map;
};
// JXLA_PROFILE: the cached executables live as long as the process, so their profiles are
// written to stderr at exit (an executable freed earlier writes its own, fused_exec.cpp)
void print_cached_profiles();
Cache& cache() {
  static Cache* c = [] {
    const char* p = std::getenv("JXLA_PROFILE");
    if (p && std::strcmp(p, "0") != 0) std::atexit(print_cached_profiles);
    return new Cache();
  }();
  return *c;
}
void print_cached_profiles() {
  std::lock_guard<std::mutex> g(cache().mu);
  for (auto& kv : cache().map) {
    const std::string t = kv.second->profile();
    if (!t.empty()) std::fputs(t.c_str(), stderr);
  }
}
constexpr size_t kMaxEntries = 4096;
}  // namespace

std::shared_ptr<Executable> make_reference_executable(Graph g, Device* dev) {
  return std::make_shared<ReferenceExecutable>(std::move(g), dev);
}

std::shared_ptr<Executable> compile_cached(const Capture& cap, Device* dev) {
  auto key = std::make_pair(cap.fingerprint, cap.fingerprint2);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.map.find(key);
    if (it != c.map.end()) {
      counter_add("CachedCompile");
      return it->second;
    }
  }
  int64_t t0 = now_ns();
  Graph g = canonicalize(cap);
  std::shared_ptr<Executable> exe = compile_graph(std::move(g), dev);
  metric_record("CompileTime", static_cast<double>(now_ns() - t0));
  counter_add("UncachedCompile");
  std::lock_guard<std::mutex> g2(c.mu);
  if (c.map.size() >= kMaxEntries) c.map.clear();
  c.map.emplace(key, exe);
  return exe;
}

namespace {
thread_local int64_t t_last_kernels = -1;
}
int64_t last_kernel_count() { return t_last_kernels; }
void set_last_kernel_count(int64_t n) { t_last_kernels = n; }

int64_t compile_cache_size() {
  std::lock_guard<std::mutex> g(cache().mu);
  return static_cast<int64_t>(cache().map.size());
}
void compile_cache_clear() {
  std::lock_guard<std::mutex> g(cache().mu);
  cache().map.clear();
}

}  // namespace jxla
