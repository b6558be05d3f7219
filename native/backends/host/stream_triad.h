// stream_triad.h - a native STREAM-triad kernel, a[i] = b[i] + s * c[i] on f32, used only as the
// memory-bandwidth baseline of the fusion benchmark (issue 3 target (a)); not part of the engine.
#pragma once
#include <cstdint>

namespace jxla {

// Runs the triad over [0, n) on the host thread pool (JXLA_NUM_THREADS), with the widest
// instruction set the CPU has (AVX-512, AVX2, else baseline), chosen at run time. Each element
// is computed as b[i] + (s * c[i]) (a multiply then an add, not an FMA), so the result is
// bit-identical to the scalar expression in f32. nontemporal = true uses streaming stores (no
// read-for-ownership of a); the arrays must not overlap. Returns the instruction set used.
const char* stream_triad(float* a, const float* b, const float* c, float s, int64_t n, bool nontemporal);

}  // namespace jxla
