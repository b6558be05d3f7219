// float_scratch.h - a grow-only float buffer for packed GEMM operands, meant to be thread_local
// (one per calling thread and role): sgemm_avx2.cpp's packing buffers, gemm.cpp's packed A of
// host_sgemm_packed and gemm_grid.cpp's shared and private packed A. Storage comes from
// sgemm_avx2_alloc (64-byte aligned; 2 MB pages from 1 MB on) and is kept across calls, so a
// steady workload allocates nothing per call.
// get() throws std::bad_alloc and then holds no storage (never a dangling or short buffer).
#pragma once
#include <cstddef>
#include <cstdlib>
#include "backends/host/sgemm_avx2.h"

namespace jxla {

struct FloatScratch {
  float* p = nullptr;
  size_t n = 0;
  FloatScratch() = default;
  FloatScratch(const FloatScratch&) = delete;
  FloatScratch& operator=(const FloatScratch&) = delete;
  ~FloatScratch() { std::free(p); }
  float* get(size_t count) {
    if (count > n) {
      std::free(p);
      p = nullptr;
      n = 0;
      p = sgemm_avx2_alloc(count);
      n = count;
    }
    return p;
  }
};

}  // namespace jxla
