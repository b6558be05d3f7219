// tpu_executable.h - builds the executable that runs a canonical graph on an emulated TPU.
#pragma once
#include <memory>
#include "ir/graph.h"
#include "runtime/executable.h"

namespace jxla {
namespace tpu {

class TpuDevice;
std::shared_ptr<Executable> make_tpu_executable(Graph g, TpuDevice* dev);
// Ops the TPU cannot run (anything touching f64) execute on the host.
bool runs_on_host(const Node& n);

}  // namespace tpu
}  // namespace jxla
