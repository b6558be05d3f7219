// sgemm_asrc.h - the register-block shape of JXLA's f32 GEMM and where its micro-kernels read
// op(A) from. Shared by the AVX2 kernels (sgemm_avx2.cpp) and the AVX-512 ones (sgemm_avx512.cpp),
// so both read exactly the same A values for row i, depth k.
// Invariants: kMR rows per A micro-panel (packed k-major, kMR values per k), kNR columns per B
// micro-panel (k-major, kNR values per k, 64-byte aligned); an A source only changes where a
// value is loaded from, never which value.
#pragma once
#include <cstdint>

namespace jxla::sgemm {

constexpr int64_t kMR = 6, kNR = 16;

// a packed micro-panel: kMR values per k
struct PackedA {
  const float* p;
  const float* at(int i) const { return p + i; }
  void next() { p += kMR; }
};
// kMR consecutive rows of A stored M x K, lda apart (two registers address them all)
struct RowsA {
  const float* p;
  int64_t lda;
  const float* at(int i) const { return p + i * lda; }
  void next() { p += 1; }
};
// fewer than kMR rows left: the missing rows repeat the last real row
struct RowsAEdge {
  const float* p;
  int64_t off[kMR];  // element offsets of the kMR rows from p
  const float* at(int i) const { return p + off[i]; }
  void next() { p += 1; }
};

// the last mr < kMR rows starting at p (A stored M x K, lda apart)
inline RowsAEdge edge_rows(const float* p, int64_t lda, int64_t mr) {
  RowsAEdge src{p, {}};
  for (int64_t i = 0; i < kMR; ++i) src.off[i] = (i < mr ? i : mr - 1) * lda;
  return src;
}

}  // namespace jxla::sgemm
