// cost.h - the emulator's cost model (its clock). Per kernel:
//   mxu_s = passes * 2 * B * pad(M) * pad(N) * pad(K) / bf16_peak   (pad = round up to the MXU side)
//   vpu_s = element ops / VPU ops per second
//   hbm_s = bytes of every operand and the result in the tiled layout / HBM bandwidth
//           (a broadcast operand counts its source: XLA fuses broadcasts into consumers)
//   time  = max(mxu_s, vpu_s, hbm_s) + launch overhead; bound = the unit that set the max.
// MXU utilization = useful flops / (bf16_peak * time): it shows padding waste, extra passes and
// memory-boundness together. Transfers: latency + bytes / PCIe bandwidth. Collectives: a
// bidirectional ring over ICI (see ring_seconds). Pure functions: testable without running.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "backends/tpu/chip.h"
#include "ir/node.h"

namespace jxla {
namespace tpu {

struct KernelCost {
  double flops = 0;     // useful flops (2*B*M*N*K for dots; element ops otherwise)
  double bytes = 0;     // HBM bytes moved (tiled layout)
  double mxu_s = 0, vpu_s = 0, hbm_s = 0;
  double time_s = 0;    // max(...) + launch
  const char* bound = "hbm";  // "mxu", "vpu" or "hbm"
  double mxu_util = 0;
};

// A [B,M,K] x [B,K,N] matmul making `passes` bf16 passes, with `bytes` of HBM traffic.
KernelCost matmul_cost(const Chip& c, int64_t B, int64_t M, int64_t K, int64_t N, int passes, double bytes);
// An element-wise style kernel: `ops` VPU operations and `bytes` of HBM traffic.
KernelCost vector_cost(const Chip& c, double ops, double bytes);
// The cost of one graph node (its inputs' and output's tiled bytes; dot/conv on the MXU).
KernelCost node_cost(const Chip& c, const Node& n, int precision);
// One loop-fusion kernel: `nodes` = the fused producers then the root (last). Flops add up;
// HBM bytes = the root's result + every operand read from outside the group (once each).
KernelCost fused_cost(const Chip& c, const std::vector<const Node*>& nodes);
// A host <-> device copy of `bytes` over PCIe.
double transfer_seconds(const Chip& c, int64_t bytes);
// A copy of `bytes` from core `from` to core `to` of a ring of `cores` over ICI: the ring
// distance in hops times the hop latency, plus bytes over one link's bandwidth.
double peer_seconds(const Chip& c, int cores, int from, int to, int64_t bytes);
// A ring collective over `cores` devices: all_reduce moves 2(n-1)/n of the bytes per device,
// all_gather / reduce_scatter (n-1)/n (of the gathered size), over one bidirectional ICI link,
// plus 2(n-1) (all_reduce) or (n-1) hops of latency.
double ring_seconds(const Chip& c, const std::string& kind, int cores, int64_t bytes);

}  // namespace tpu
}  // namespace jxla
