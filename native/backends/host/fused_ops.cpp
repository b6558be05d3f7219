// fused_ops.cpp - instantiates fused_ops_impl.inc for three instruction sets and picks one at
// run time. CMakeLists.txt compiles this file alone with -O3 -fno-math-errno -fno-trapping-math
// (sqrt/floor/... as plain vector instructions, selects if-converted so exp/log/tanh vectorize; a
// `#pragma GCC optimize` did not reliably drop errno); no fast-math:
// NaN and infinity semantics must match the reference interpreter.
#include "backends/host/fused_ops.h"
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>

namespace jxla {

namespace isa_base {
#include "backends/host/fused_ops_impl.inc"
}  // namespace isa_base

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace isa_avx2 {
#include "backends/host/fused_ops_impl.inc"
}  // namespace isa_avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
namespace isa_avx512 {
#include "backends/host/fused_ops_impl.inc"
}  // namespace isa_avx512
#pragma GCC pop_options

namespace {
#define JXLA_OPS_TABLE(ns, name) \
  FusedOps{name, ns::k_unary, ns::k_binary, ns::k_binary_s, ns::k_store_nt, ns::k_select, ns::k_clamp, ns::k_sum, ns::k_maxmin}

FusedOps choose() {
  __builtin_cpu_init();
  const char* force = std::getenv("JXLA_ISA");
  bool allow512 = !force || std::strcmp(force, "avx512") == 0;
  bool allow2 = allow512 || std::strcmp(force, "avx2") == 0;
  if (allow512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
    return JXLA_OPS_TABLE(isa_avx512, "avx512");
  if (allow2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return JXLA_OPS_TABLE(isa_avx2, "avx2");
  return JXLA_OPS_TABLE(isa_base, "sse2");
}
}  // namespace

const FusedOps* fused_ops_table(const char* isa) {
  __builtin_cpu_init();
  static const FusedOps base = JXLA_OPS_TABLE(isa_base, "sse2"), avx2 = JXLA_OPS_TABLE(isa_avx2, "avx2"),
                        avx512 = JXLA_OPS_TABLE(isa_avx512, "avx512");
  if (std::strcmp(isa, "sse2") == 0) return &base;
  if (std::strcmp(isa, "avx2") == 0)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &avx2 : nullptr;
  if (std::strcmp(isa, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw")
               ? &avx512
               : nullptr;
  return nullptr;
}

const FusedOps& fused_ops() {
  static const FusedOps ops = choose();
  return ops;
}

}  // namespace jxla
