// fused_exec.h - the host compiler: pass pipeline + the fused executable (loop, row and dot
// kernels on the thread pool; everything else through the reference kernels).
#pragma once
#include <memory>
#include "ir/graph.h"
#include "runtime/executable.h"

namespace jxla {

// Optimizes g (passes/) and builds its fused executable. The default host compiler.
std::shared_ptr<Executable> compile_host_fused(Graph g, Device* dev);

}  // namespace jxla
