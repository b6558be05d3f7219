// denormal.h - optional flush-to-zero for the host backend's f32/f64 arithmetic, the switch
// PyTorch calls torch.set_flush_denormal (XLA:CPU always flushes: its kernels are compiled with
// denormal-fp-math=preserve-sign). Why: an operation with a subnormal operand or result takes a
// slow microcode path on x86; in MNIST training Adam's first moment of rarely active weights
// decays geometrically into the subnormal range after ~700 steps, and the compiled step got
// ~25% slower (docs/training-speed.md). Off by default: IEEE subnormals are the op set's
// specification (the reference interpreter and the NumPy fixtures); `jxla train` turns it on.
// ScopedFtz sets MXCSR.FTZ and MXCSR.DAZ on the calling thread for one executable run and
// restores the caller's MXCSR on exit (the JVM's threads must keep IEEE subnormals); the pool's
// workers take the caller's MXCSR at the start of every region (thread_pool.cpp), so a region
// computes in one mode on every thread. Initially env JXLA_FTZ=1; host_ftz_set_enabled (C ABI
// jxla_host_set_flush_denormals, Java Jxla.setFlushDenormals) changes it for the process.
#pragma once

namespace jxla {

bool host_ftz_enabled();
void host_ftz_set_enabled(bool on);

class ScopedFtz {
 public:
  ScopedFtz();
  ~ScopedFtz();
  ScopedFtz(const ScopedFtz&) = delete;
  ScopedFtz& operator=(const ScopedFtz&) = delete;

 private:
  unsigned old_;
  bool set_;
};

}  // namespace jxla
