// cost.cpp - the cost model formulas (see cost.h).
#include "backends/tpu/cost.h"
#include <algorithm>
#include <cstdlib>
#include <unordered_set>
#include "backends/tpu/layout.h"
#include "backends/tpu/mxu.h"

namespace jxla {
namespace tpu {

namespace {
int64_t pad(int64_t v, int64_t m) { return v <= 0 ? 0 : (v + m - 1) / m * m; }

KernelCost finish(const Chip& c, KernelCost k) {
  double t = std::max({k.mxu_s, k.vpu_s, k.hbm_s});
  if (k.mxu_s > 0 && k.mxu_s >= k.vpu_s && k.mxu_s >= k.hbm_s) k.bound = "mxu";
  else if (k.vpu_s > 0 && k.vpu_s >= k.hbm_s) k.bound = "vpu";
  else k.bound = "hbm";
  k.time_s = t + c.launch_s;
  return k;
}
}  // namespace

KernelCost matmul_cost(const Chip& c, int64_t B, int64_t M, int64_t K, int64_t N, int passes, double bytes) {
  KernelCost k;
  const int64_t d = c.mxu_dim;
  k.flops = 2.0 * B * M * N * K;
  k.bytes = bytes;
  k.mxu_s = passes * 2.0 * B * pad(M, d) * pad(N, d) * pad(K, d) / c.bf16_flops;
  k.hbm_s = bytes / c.hbm_bw;
  k = finish(c, k);
  k.mxu_util = k.time_s > 0 ? k.flops / (c.bf16_flops * k.time_s) : 0;
  return k;
}

KernelCost vector_cost(const Chip& c, double ops, double bytes) {
  KernelCost k;
  k.flops = ops;
  k.bytes = bytes;
  k.vpu_s = ops / c.vpu_flops;
  k.hbm_s = bytes / c.hbm_bw;
  return finish(c, k);
}

KernelCost node_cost(const Chip& c, const Node& n, int precision) {
  double bytes = static_cast<double>(tiled_bytes(n.dtype, n.shape));
  for (auto& in : n.inputs) {
    // a broadcast operand is fused into this kernel: only its source is read from HBM
    const Node* src = in->op == Op::Broadcast ? in->inputs[0].get() : in.get();
    bytes += static_cast<double>(tiled_bytes(src->dtype, src->shape));
  }
  if (n.op == Op::DotGeneral) {
    const Node& l = *n.inputs[0];
    const Attrs& at = n.attrs;
    int64_t B = 1, K = 1;
    for (auto d : at.get_ints_or("lhs_batch", {})) B *= l.shape[d];
    for (auto d : at.get_ints_or("lhs_contract", {})) K *= l.shape[d];
    int64_t out = n.numel(), lhs = l.numel();
    int64_t M = (B != 0 && K != 0) ? lhs / (B * K) : 0;
    int64_t N = (B != 0 && M != 0) ? out / (B * M) : 0;
    return matmul_cost(c, B, M, K, N, mxu_passes(l.dtype, precision), bytes);
  }
  if (n.op == Op::Conv2d) {
    const Shape &ws = n.inputs[1]->shape, &os = n.shape;
    int64_t G = n.attrs.get_int_or("groups", 1);
    int64_t rows = os[0] * os[2] * os[3], depth = ws[1] * ws[2] * ws[3], opg = G ? ws[0] / G : 0;
    return matmul_cost(c, G, rows, depth, opg, mxu_passes(n.inputs[0]->dtype, precision), bytes);
  }
  double elems = static_cast<double>(n.numel());
  if (n.info().kind == OpKind::Reduce || n.info().kind == OpKind::ArgReduce || n.info().kind == OpKind::TopK ||
      n.info().kind == OpKind::Pool)
    elems = static_cast<double>(n.inputs[0]->numel());
  return vector_cost(c, elems * n.info().flops_per_elem, bytes);
}

KernelCost fused_cost(const Chip& c, const std::vector<const Node*>& nodes) {
  std::unordered_set<const Node*> in_group(nodes.begin(), nodes.end()), read;
  const Node& root = *nodes.back();
  double bytes = static_cast<double>(tiled_bytes(root.dtype, root.shape)), ops = 0;
  for (const Node* n : nodes) {
    OpKind k = n->info().kind;
    double elems = static_cast<double>(k == OpKind::Reduce ? n->inputs[0]->numel() : n->numel());
    ops += elems * n->info().flops_per_elem;
    for (auto& in : n->inputs) {
      const Node* src = in->op == Op::Broadcast ? in->inputs[0].get() : in.get();
      if (in_group.count(in.get()) || !read.insert(src).second) continue;
      bytes += static_cast<double>(tiled_bytes(src->dtype, src->shape));
    }
  }
  return vector_cost(c, ops, bytes);
}

double transfer_seconds(const Chip& c, int64_t bytes) {
  return c.pcie_latency_s + static_cast<double>(bytes) / c.pcie_bw;
}

double peer_seconds(const Chip& c, int cores, int from, int to, int64_t bytes) {
  int d = std::abs(from - to);
  int hops = std::min(d, cores - d);
  return hops * c.ici_hop_latency_s + static_cast<double>(bytes) / c.ici_link_bw;
}

double ring_seconds(const Chip& c, const std::string& kind, int cores, int64_t bytes) {
  if (cores <= 1) return 0;
  double n = cores, frac = (n - 1) / n, hops = n - 1;
  if (kind == "all_reduce") { frac *= 2; hops *= 2; }
  return frac * static_cast<double>(bytes) / c.ici_link_bw + hops * c.ici_hop_latency_s;
}

}  // namespace tpu
}  // namespace jxla
