// compiler.h - the compile hook: turns a canonical graph into an Executable for a device.
// The host compiler runs the pass pipeline (passes/) then builds the executable; devices other
// than the host (the TPU emulator) register their own compilers.
#pragma once
#include <functional>
#include <memory>
#include "ir/graph.h"
#include "runtime/executable.h"

namespace jxla {

using CompilerFn = std::function<std::shared_ptr<Executable>(Graph, Device*)>;

std::shared_ptr<Executable> compile_graph(Graph g, Device* dev);
// Replaces the host compiler (the fusion engine installs itself here). Thread-safe.
void set_host_compiler(CompilerFn fn);

}  // namespace jxla
