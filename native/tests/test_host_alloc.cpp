// test_host_alloc.cpp - the large-block cache behind Buffer: a freed large block is handed out
// again for the same size, small blocks and other sizes are not, live bytes count only live
// buffers, and clearing returns everything (the cache is off under AddressSanitizer).
#include <cstdint>
#include <cstring>
#include "runtime/buffer.h"
#include "runtime/device.h"
#include "runtime/host_alloc.h"
#include "tests/check.h"

using namespace jxla;

int main() {
  host_alloc_cache_clear();
  void* a = host_alloc(1 << 20);
  CHECK(a != nullptr);
  CHECK_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  std::memset(a, 1, 1 << 20);
  host_free(a, 1 << 20);
  void* b = host_alloc(1 << 20);
#if defined(__SANITIZE_ADDRESS__)
  CHECK(b != nullptr);
#else
  CHECK(b == a);  // reused
#endif
  void* c = host_alloc(1 << 20);
  CHECK(c != b);  // the cached block was taken; this one is new
  host_free(b, 1 << 20);
  host_free(c, 1 << 20);
  // buffers: live bytes follow live buffers only, whether or not their memory is cached
  int64_t live0 = live_buffer_bytes();
  {
    BufferRef big = alloc_buffer(DType::F32, {1024, 1024}, host_device());
    CHECK_EQ(live_buffer_bytes() - live0, 4 << 20);
  }
  CHECK_EQ(live_buffer_bytes(), live0);
  {
    BufferRef big2 = alloc_buffer(DType::F32, {1024, 1024}, host_device());
    CHECK_EQ(live_buffer_bytes() - live0, 4 << 20);
    big2->as<float>()[12345] = 3.0f;  // usable memory
    CHECK_EQ(big2->as<float>()[12345], 3.0f);
  }
  host_alloc_cache_clear();
  void* small = host_alloc(100);
  CHECK(small != nullptr);
  host_free(small, 100);
  return check_finish();
}
