// compiler.cpp - dispatch of compile requests. The default host compiler is the fusion compiler
// (backends/host/fused_exec.cpp); set_host_compiler(nullptr) falls back to the reference
// interpreter (one reference kernel per op).
#include "runtime/compiler.h"
#include <mutex>
#include "backends/host/fused_exec.h"
#include "runtime/device.h"

namespace jxla {

namespace {
std::mutex g_mu;
CompilerFn& host_fn() {
  // the fusion compiler, referenced here so the static library always links it in
  static CompilerFn* f = new CompilerFn(&compile_host_fused);
  return *f;
}
}  // namespace

void set_host_compiler(CompilerFn fn) {
  std::lock_guard<std::mutex> g(g_mu);
  host_fn() = std::move(fn);
}

std::shared_ptr<Executable> compile_graph(Graph g, Device* dev) {
  verify(g);
  if (!dev->is_host()) return dev->compile(std::move(g));
  CompilerFn fn;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    fn = host_fn();
  }
  if (fn) return fn(std::move(g), dev);
  return make_reference_executable(std::move(g), dev);
}

}  // namespace jxla
