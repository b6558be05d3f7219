// test_stream_triad.cpp - the STREAM-triad benchmark kernel (backends/host/stream_triad.h) and
// its diagnostic C ABI entry jxla_bench_stream_triad: every element equals the scalar f32
// expression b[i] + s * c[i] exactly (multiply then add, correctly rounded, so no tolerance),
// for lengths and offsets that exercise the aligned head, the vector body and the tail, with
// and without streaming stores; the C entry's checksum against a closed form; bad arguments.
#include <cstring>
#include <vector>
#include "backends/host/stream_triad.h"
#include "jxla/jxla.h"
#include "tests/check.h"

using namespace jxla;

int main() {
  const char* isa = nullptr;
  for (int64_t n : {0, 1, 7, 15, 16, 17, 31, 100, 4097, 65536, 65537, 200003}) {
    for (int off = 0; off < 3; ++off) {
      for (bool nt : {false, true}) {
        std::vector<float> b(n + 3), c(n + 3), a(n + 3, -1.0f);
        for (int64_t i = 0; i < n + 3; ++i) {
          b[i] = 0.1f * static_cast<float>(i % 13) - 0.3f;
          c[i] = 1.7f - 0.01f * static_cast<float>(i % 101);
        }
        const float s = 3.1f;
        isa = stream_triad(a.data() + off, b.data() + off, c.data() + off, s, n, nt);
        int bad = 0;
        for (int64_t i = 0; i < n; ++i) {
          float p = s * c[i + off];
          float want = b[i + off] + p;
          if (std::memcmp(&a[i + off], &want, 4) != 0) ++bad;
        }
        for (int i = 0; i < off; ++i) bad += a[i] != -1.0f;  // nothing before the range is written
        for (int64_t i = n + off; i < n + 3; ++i) bad += a[i] != -1.0f;
        CHECK_EQ(bad, 0);
      }
    }
  }
  CHECK(std::strcmp(isa, "avx512") == 0 || std::strcmp(isa, "avx2") == 0 || std::strcmp(isa, "sse2") == 0);

  // the C entry: b[i] = 1 + (i % 7), c[i] = 2 - 0.25 (i % 5); with s = 2 every a[i] is an exact
  // small multiple of 0.5, so the double checksum is exact
  for (int64_t n : {35, 1000, 70001}) {
    for (int32_t flags : {0, 1}) {
      double sum = -1;
      int32_t bits = 0;
      CHECK_EQ(jxla_bench_stream_triad(n, 2.0f, flags, &sum, &bits), JXLA_OK);
      double want = 0;
      for (int64_t i = 0; i < n; ++i) want += (1.0 + i % 7) + 2.0 * (2.0 - 0.25 * (i % 5));
      CHECK_EQ(sum, want);
      CHECK(bits == 512 || bits == 256 || bits == 128);
    }
  }
  CHECK_EQ(jxla_bench_stream_triad(1000, 2.0f, 0, nullptr, nullptr), JXLA_OK);  // outputs optional
  CHECK_EQ(jxla_bench_stream_triad(-1, 2.0f, 0, nullptr, nullptr), JXLA_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(jxla_last_error(), "bench_stream_triad") != nullptr);
  CHECK_EQ(jxla_bench_stream_triad(10, 2.0f, 2, nullptr, nullptr), JXLA_ERR_INVALID_ARGUMENT);
  int32_t bits = -1;
  CHECK_EQ(jxla_bench_stream_triad(0, 2.0f, 0, nullptr, &bits), JXLA_OK);  // frees the arrays
  CHECK_EQ(bits, 0);
  return check_finish();
}
