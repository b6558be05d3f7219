// denormal.cpp - see denormal.h. MXCSR bit 15 is FTZ (subnormal results become zero), bit 6 is
// DAZ (subnormal operands read as zero); SSE and AVX arithmetic both obey it (x87 does not, and
// the host kernels do not use x87 for f32/f64).
#include "backends/host/denormal.h"
#include <immintrin.h>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace jxla {
namespace {
constexpr unsigned kFtzDaz = 0x8040;
std::atomic<bool>& flag() {
  static std::atomic<bool> on{std::getenv("JXLA_FTZ") && std::strcmp(std::getenv("JXLA_FTZ"), "0") != 0};
  return on;
}
}  // namespace

bool host_ftz_enabled() { return flag().load(std::memory_order_relaxed); }
void host_ftz_set_enabled(bool on) { flag() = on; }

ScopedFtz::ScopedFtz() : old_(_mm_getcsr()), set_(false) {
  const unsigned want = host_ftz_enabled() ? (old_ | kFtzDaz) : (old_ & ~kFtzDaz);
  if (want != old_) {
    _mm_setcsr(want);
    set_ = true;
  }
}

ScopedFtz::~ScopedFtz() {
  if (set_) _mm_setcsr(old_);
}

}  // namespace jxla
