// buffer.cpp - aligned allocation and the live-bytes counter.
#include "runtime/buffer.h"
#include <cstdlib>
#include <new>
#include "ir/error.h"
#include "runtime/device.h"

namespace jxla {

namespace {
std::atomic<int64_t> g_live_bytes{0};
}

Buffer::Buffer(DType dt, Shape sh, Device* dev) : dtype(dt), shape(std::move(sh)), device(dev) {
  nbytes = jxla::numel(shape) * dtype_size(dtype);
  if (device) accounted = device->on_alloc(*this);  // may throw ResourceExhausted
  size_t sz = static_cast<size_t>((nbytes + 63) / 64 * 64);
  data = std::aligned_alloc(64, sz ? sz : 64);
  if (!data) {
    if (device) device->on_free(*this);
    fail(JXLA_ERR_RESOURCE_EXHAUSTED, "host allocation of ", nbytes, " bytes failed");
  }
  g_live_bytes += nbytes;
}

Buffer::~Buffer() {
  g_live_bytes -= nbytes;
  std::free(data);
  if (device) device->on_free(*this);
}

BufferRef alloc_buffer(DType dt, const Shape& sh, Device* dev) { return std::make_shared<Buffer>(dt, sh, dev); }
int64_t live_buffer_bytes() { return g_live_bytes.load(); }

}  // namespace jxla
