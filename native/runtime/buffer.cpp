// buffer.cpp - aligned allocation and the live-bytes counter.
#include "runtime/buffer.h"
#include <cstdlib>
#include <new>
#include "ir/error.h"
#include "runtime/device.h"
#include "runtime/host_alloc.h"

namespace jxla {

namespace {
std::atomic<int64_t> g_live_bytes{0};
std::atomic<uint64_t> g_next_id{1};
}

Buffer::Buffer(DType dt, Shape sh, Device* dev)
    : dtype(dt), shape(std::move(sh)), device(dev), id(g_next_id.fetch_add(1, std::memory_order_relaxed)) {
  nbytes = jxla::numel(shape) * dtype_size(dtype);
  if (device) accounted = device->on_alloc(*this);  // may throw ResourceExhausted
  data = host_alloc(static_cast<size_t>(nbytes));  // reuses cached large blocks (issue 3)
  if (!data) {
    if (device) device->on_free(*this);
    fail(JXLA_ERR_RESOURCE_EXHAUSTED, "host allocation of ", nbytes, " bytes failed");
  }
  g_live_bytes += nbytes;
}

Buffer::Buffer(DType dt, Shape sh, void* external, Borrow)
    : dtype(dt), shape(std::move(sh)), device(host_device()), data(external),
      id(g_next_id.fetch_add(1, std::memory_order_relaxed)), borrowed(true) {
  nbytes = jxla::numel(shape) * dtype_size(dtype);
}

Buffer::~Buffer() {
  if (borrowed) return;  // the caller's memory
  g_live_bytes -= nbytes;
  host_free(data, static_cast<size_t>(nbytes));
  if (device) device->on_free(*this);
}

BufferRef alloc_buffer(DType dt, const Shape& sh, Device* dev) { return std::make_shared<Buffer>(dt, sh, dev); }
BufferRef borrow_host_buffer(DType dt, const Shape& sh, const void* data) {
  // const_cast: a borrowed buffer is only ever an input (read), see buffer.h
  return std::make_shared<Buffer>(dt, sh, const_cast<void*>(data), Buffer::Borrow{});
}
int64_t live_buffer_bytes() { return g_live_bytes.load(); }

}  // namespace jxla
