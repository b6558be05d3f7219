// constant_fold.cpp - folds nodes whose inputs are all `full` constants. The node is evaluated
// by the reference interpreter (the spec): element-wise ops on one-element stand-ins (a uniform
// input gives a uniform result), other ops (reductions, dot, ...) on their real inputs when
// those hold at most kMaxFoldElements elements. The result replaces the node only when it is
// uniform (every element equal, NaN included), as a `full` of the result's dtype whose value is
// the already-rounded element, so folding never changes a result. Integers beyond 2^53 are left
// alone (a full's value is a double).
#include <cmath>
#include <cstring>
#include "backends/host/elem.h"
#include "backends/host/reference.h"
#include "ir/error.h"
#include "passes/pass.h"
#include "runtime/device.h"

namespace jxla {
namespace {
constexpr int64_t kMaxFoldElements = 1 << 16;

NodeRef full_node(DType dt, const Shape& sh, double v, Device* dev) {
  Attrs a;
  a.set_str("dtype", dtype_name(dt));
  a.set_ints("shape", sh);
  a.set_float("value", v);
  return make_node(Op::Full, dt, sh, {}, std::move(a), dev);
}

bool uniform_value(const Buffer& b, double* v) {
  int64_t n = b.numel();
  if (n == 0) return false;
  size_t es = static_cast<size_t>(dtype_size(b.dtype));
  const char* p = static_cast<const char*>(b.data);
  for (int64_t i = 1; i < n; ++i) if (std::memcmp(p, p + i * es, es) != 0) return false;
  if (is_int(b.dtype)) {
    int64_t x = geti(b, 0);
    if (x > (int64_t(1) << 53) || x < -(int64_t(1) << 53)) return false;
    *v = static_cast<double>(x);
  } else {
    *v = getf(b, 0);
  }
  return true;
}

NodeRef fold(const NodeRef& n, const std::vector<NodeRef>& in) {
  OpKind k = n->info().kind;
  if (in.empty() || k == OpKind::Leaf || k == OpKind::Rng || k == OpKind::Dynamic) return nullptr;
  for (auto& i : in) if (!is_full(i.get())) return nullptr;
  Device* host = host_device();
  std::vector<BufferRef> bufs;
  std::vector<const Buffer*> ptrs;
  NodeRef eval = n;
  if (is_elementwise(k) || k == OpKind::Reshape || k == OpKind::Transpose || k == OpKind::Broadcast ||
      k == OpKind::Slice || k == OpKind::Concat) {
    // uniform in, uniform out: evaluate one element
    std::vector<NodeRef> one;
    for (auto& i : in) {
      one.push_back(full_node(i->dtype, {1}, full_value(i.get()), i->device));
      bufs.push_back(ref_eval(*one.back(), {}, host));
      ptrs.push_back(bufs.back().get());
    }
    if (!is_elementwise(k)) {  // a shape op of a uniform value is that value
      double v, w;
      if (!uniform_value(*bufs[0], &v)) return nullptr;
      for (auto& b : bufs)  // concat of different constants is not uniform
        if (!uniform_value(*b, &w) || std::memcmp(&w, &v, sizeof v) != 0) return nullptr;
      return full_node(n->dtype, n->shape, v, n->device);
    }
    eval = make_node(n->op, n->dtype, {1}, std::move(one), n->attrs, n->device);
  } else {
    for (auto& i : in) {
      if (i->numel() > kMaxFoldElements) return nullptr;
      bufs.push_back(ref_eval(*i, {}, host));
      ptrs.push_back(bufs.back().get());
    }
    if (n->numel() > kMaxFoldElements) return nullptr;
  }
  BufferRef r;
  try {
    r = ref_eval(*eval, ptrs, host);
  } catch (const Error&) {
    return nullptr;  // leave it to run time, where the error (if any) names the op
  }
  double v;
  if (!uniform_value(*r, &v)) return nullptr;
  return full_node(n->dtype, n->shape, v, n->device);
}

class ConstantFold final : public Pass {
 public:
  const char* name() const override { return "constant_fold"; }
  bool run(Graph& g) override { return rewrite_graph(g, fold); }
};
}  // namespace
std::unique_ptr<Pass> make_constant_fold_pass() { return std::make_unique<ConstantFold>(); }
}  // namespace jxla
