// collectives.h - collectives across the cores of an emulated TPU pod.
// Inputs: one buffer per core, in core order (input i lives on core i). Results are exact and
// deterministic: the reduction folds the cores in order 0..n-1 with the reference kernels (each
// step is one correctly rounded add/max in the dtype), mean = that sum / n.
//   all_reduce(op):        every core gets reduce(x_0..x_n-1)
//   all_gather(axis):      every core gets concat(x_0..x_n-1, axis)
//   reduce_scatter(axis):  core i gets slice i of reduce(x_0..x_n-1) along axis (dim % n == 0)
// Time: every core waits for the slowest (max of the core clocks), then the ring model of
// cost.h over ICI is charged on every core.
#pragma once
#include <string>
#include <vector>
#include "runtime/buffer.h"

namespace jxla {
namespace tpu {

// kind: "all_reduce" | "all_gather" | "reduce_scatter"; op: "sum" | "mean" | "max".
std::vector<BufferRef> collective(const std::string& kind, const std::string& op, int64_t axis,
                                  const std::vector<BufferRef>& in);

}  // namespace tpu
}  // namespace jxla
