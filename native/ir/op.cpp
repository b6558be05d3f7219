// op.cpp - the op info table, generated from ops.def.
#include "ir/op.h"
#include <cstring>

namespace jxla {

namespace {
constexpr OpInfo kOps[] = {
#define JXLA_OP(E, name, arity, kind, flops, diff) {name, arity, OpKind::kind, flops, diff != 0},
#include "ir/ops.def"
#undef JXLA_OP
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == static_cast<size_t>(Op::kCount), "op table");
}  // namespace

const OpInfo& op_info(Op op) { return kOps[static_cast<int>(op)]; }

bool op_from_name(const char* name, Op* out) {
  for (int i = 0; i < kNumOps; ++i)
    if (std::strcmp(kOps[i].name, name) == 0) { *out = static_cast<Op>(i); return true; }
  return false;
}

}  // namespace jxla
