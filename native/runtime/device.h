// device.h - a device: where buffers live and graphs execute. Devices are interned and
// immortal (a handle free only drops the handle), so Buffers and Nodes may keep raw Device*.
// The host device is the reference backend; the TPU emulator subclasses Device.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jxla {

struct Buffer;
struct Graph;
class Executable;

struct Device {
  virtual ~Device() = default;
  virtual std::string name() const = 0;        // "host", "tpu:v5e", "tpu:v4x8"
  virtual bool is_host() const { return false; }
  // Accounts a new buffer; returns the accounted bytes. Throws when memory is exhausted.
  virtual int64_t on_alloc(const Buffer& b);
  virtual void on_free(const Buffer& b);
  // A host <-> device copy of b, called on the non-host side (to_device: host -> this device).
  // The TPU emulator charges PCIe time on its simulated clock.
  virtual void on_transfer(const Buffer& b, bool to_device) { (void)b; (void)to_device; }
  // A device-to-device copy of b from `from` into this device. Returns true when this device
  // charged it as a direct link (the TPU emulator: ICI between cores of one pod); false means
  // the copy goes through the host (charged with on_transfer on both sides).
  virtual bool on_peer_transfer(const Buffer& b, Device* from) { (void)b; (void)from; return false; }
  virtual std::string describe() const { return name(); }
  // Compiles a canonical graph for this device (non-host devices override; the host device
  // is compiled by runtime/compiler.cpp).
  virtual std::shared_ptr<Executable> compile(Graph g);
};

Device* host_device();

}  // namespace jxla
