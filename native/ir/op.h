// op.h - the Op enum and per-op facts, all generated from ops.def.
#pragma once
#include <cstdint>

namespace jxla {

enum class OpKind : uint8_t {
  Leaf, Rng, Unary, UnaryFloat, UnaryLogical, Convert, Binary, Compare, Logical, Select, Clamp,
  Reshape, Transpose, Broadcast, Slice, Concat, Pad, Gather, TakeAlong, ScatterAdd, OneHot,
  Reduce, ArgReduce, TopK, Dot, Conv, Pool, Dynamic, Composite
};

enum class Op : int32_t {
#define JXLA_OP(E, name, arity, kind, flops, diff) E,
#include "ir/ops.def"
#undef JXLA_OP
  kCount
};

struct OpInfo {
  const char* name;
  int arity;          // -1: variadic
  OpKind kind;
  int flops_per_elem; // cost-model estimate for element-wise work
  bool differentiable;
};

const OpInfo& op_info(Op op);
inline const char* op_name(Op op) { return op_info(op).name; }
constexpr int32_t kNumOps = static_cast<int32_t>(Op::kCount);
bool op_from_name(const char* name, Op* out);
inline bool op_valid(int32_t v) { return v >= 0 && v < kNumOps; }

inline bool is_elementwise(OpKind k) {
  switch (k) {
    case OpKind::Unary: case OpKind::UnaryFloat: case OpKind::UnaryLogical: case OpKind::Convert:
    case OpKind::Binary: case OpKind::Compare: case OpKind::Logical: case OpKind::Select:
    case OpKind::Clamp: return true;
    default: return false;
  }
}

}  // namespace jxla
