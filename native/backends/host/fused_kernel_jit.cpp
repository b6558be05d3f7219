// fused_kernel_jit.cpp - translation of a fused loop kernel's instruction list (fused_kernel.cpp)
// into the code generator's SSA list (fused_jit.h): pointer loads, scalars (constants and
// broadcast one-element inputs by their table slot), unary/binary/select ops, f32 stores. Any
// instruction the generator does not cover leaves the kernel on the interpreter.
#include <unordered_map>
#include "backends/host/fused_kernel_internal.h"

namespace jxla {

// Translates the single pass of a loop kernel into the JIT's instruction list; no program when
// an instruction is outside the JIT's scope (gathers, bool inputs/outputs, iota, clamp, ...).
void build_jit(FusedKernel& fk) {
  if (fk.kind != Kernel::Loop || fk.passes.size() != 1 || fk.passes[0].scalar || fk.N < jit_min_elements()) return;
  std::vector<JitIns> js;
  std::unordered_map<int, int> at;  // value id -> JitIns index
  auto ptr = [&](bool is_out, int idx) {
    std::pair<bool, int> key{is_out, idx};
    for (size_t i = 0; i < fk.jit_ptrs.size(); ++i) if (fk.jit_ptrs[i] == key) return static_cast<int>(i);
    fk.jit_ptrs.push_back(key);
    return static_cast<int>(fk.jit_ptrs.size()) - 1;
  };
  for (const Ins& I : fk.passes[0].ins) {
    JitIns j;
    j.op = I.op;
    switch (I.t) {
      case Ins::LoadPtr: j.kind = JitIns::Load; j.ptr = ptr(false, I.ext); break;
      case Ins::Const: case Ins::Splat: j.kind = JitIns::Scalar; j.slot = I.slot; break;
      case Ins::Unary: j.kind = JitIns::Unary; j.a = at.at(I.a); break;
      case Ins::Binary:
        if (I.b == -2) { j.kind = JitIns::Unary; j.ne0 = true; j.a = at.at(I.a); break; }
        j.kind = JitIns::Binary; j.a = at.at(I.a); j.b = at.at(I.b);
        break;
      case Ins::Select: j.kind = JitIns::Select; j.a = at.at(I.a); j.b = at.at(I.b); j.c = at.at(I.c); break;
      default: fk.jit_ptrs.clear(); return;
    }
    if (I.out >= 0) {
      if (fk.out_dtype[I.out] != DType::F32) { fk.jit_ptrs.clear(); return; }
      j.store = ptr(true, I.out);
    }
    at[I.dst] = static_cast<int>(js.size());
    js.push_back(j);
  }
  if (static_cast<int>(fk.jit_ptrs.size()) <= jit_max_pointers()) fk.jit = jit_compile(js, static_cast<int>(fk.jit_ptrs.size()), fk.nt_out);
  if (!fk.jit) fk.jit_ptrs.clear();
}

}  // namespace jxla
