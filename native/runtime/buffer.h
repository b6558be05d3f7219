// buffer.h - a device buffer: 64-byte aligned host memory holding row-major elements.
// The engine-wide live-bytes counter (jxla_memory_live_bytes) counts every Buffer; a device
// may also account it (the TPU emulator's HBM) through Device::on_alloc/on_free.
// id/frozen: see the fields. A borrowed buffer (borrow_host_buffer) views caller memory for the
// duration of one call (jxla_function_call_host): it is neither allocated, freed, accounted nor
// counted as live, and the engine never writes into it (it is an input, never donated).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include "ir/dtype.h"
#include "ir/shape.h"

namespace jxla {

struct Device;

struct Buffer {
  Buffer(DType dt, Shape sh, Device* dev);  // uninitialized contents; throws on exhaustion
  struct Borrow {};
  Buffer(DType dt, Shape sh, void* external, Borrow);  // a host view of caller memory
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  DType dtype;
  Shape shape;
  Device* device;
  int64_t nbytes;
  int64_t accounted = 0;  // bytes the device accounted (tiled layout), returned on free
  void* data;
  // Process-unique, never reused (unlike the address): caches of derived data (prepacked GEMM
  // weights, backends/host/prepack.h) key on it.
  const uint64_t id;
  // True once the contents will never change again while the buffer lives (a Function's captured
  // constants and the host buffers it uploaded). The engine never writes into a buffer after
  // producing it, except the fused executable's temporary slots and donated buffers (an
  // in-place update of a buffer that nothing else can read any more, runtime/lazy.cpp), which
  // are never frozen.
  std::atomic<bool> frozen{false};
  const bool borrowed = false;

  template <class T> T* as() { return static_cast<T*>(data); }
  template <class T> const T* as() const { return static_cast<const T*>(data); }
  int64_t numel() const { return jxla::numel(shape); }
};
using BufferRef = std::shared_ptr<Buffer>;

BufferRef alloc_buffer(DType dt, const Shape& sh, Device* dev);
BufferRef borrow_host_buffer(DType dt, const Shape& sh, const void* data);
int64_t live_buffer_bytes();

}  // namespace jxla
