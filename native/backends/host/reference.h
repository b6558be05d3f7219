// reference.h - the host reference interpreter: the executable spec of every op.
// Each op is implemented by simple, obviously-right code (element loops in double/int64).
// Every other backend and every fused kernel is tested against it.
#pragma once
#include <vector>
#include "ir/graph.h"
#include "runtime/buffer.h"

namespace jxla {

// Evaluates one node given its input buffers; the result is allocated on dev.
BufferRef ref_eval(const Node& n, const std::vector<const Buffer*>& in, Device* dev);
// Evaluates a canonical graph; params[i] binds Parameter i. Returns one buffer per output.
std::vector<BufferRef> ref_run(const Graph& g, const std::vector<BufferRef>& params, Device* dev);
// Dynamic-shape ops (nonzero, unique, masked_select), evaluated eagerly.
BufferRef ref_dynamic(Op op, const std::vector<const Buffer*>& in, Device* dev);
// Counter-based RNG: the 4x32-bit Philox block for (key, counter); the same on every device.
void philox4x32(uint64_t key, uint64_t counter, uint32_t out[4]);

}  // namespace jxla
