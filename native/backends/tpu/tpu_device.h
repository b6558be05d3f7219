// tpu_device.h - the emulated TPU device: HBM accounting in the tiled layout, a simulated clock
// with a per-kernel profile, and the compiler hook that builds TPU executables.
// Devices are interned by (generation, cores, HBM override) and immortal, like every Device;
// a multi-core device is a pod of `cores` TpuDevice objects (core 0 is the handle returned).
// Thread-safe: accounting and the timeline are guarded by one mutex per device.
#pragma once
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#include "backends/tpu/chip.h"
#include "backends/tpu/cost.h"
#include "runtime/device.h"

namespace jxla {
namespace tpu {

struct KernelRecord {
  std::string name;   // op name, or "transfer:h2d" / "transfer:d2h" / "transfer:ici" / "fallback::<op>"
  std::string out;    // result type, e.g. "f32[128,256]"
  double start_s = 0, time_s = 0;
  double flops = 0, bytes = 0;
  std::string bound;  // mxu, vpu, hbm, pcie, host
  double mxu_util = 0;
};

class TpuDevice final : public Device {
 public:
  TpuDevice(const Chip* chip, int cores, int index, int64_t hbm_limit, bool hbm_overridden);
  std::string name() const override;
  int64_t on_alloc(const Buffer& b) override;
  void on_free(const Buffer& b) override;
  void on_transfer(const Buffer& b, bool to_device) override;
  bool on_peer_transfer(const Buffer& b, Device* from) override;
  std::string describe() const override;
  std::shared_ptr<Executable> compile(Graph g) override;

  const Chip& chip() const { return *chip_; }
  int cores() const { return cores_; }
  int index() const { return index_; }
  // Core i of this device's pod (core 0 is the pod's own handle). Each core has its own HBM
  // and clock; graphs on different cores run concurrently on host threads.
  TpuDevice* core(int i) const;
  int64_t hbm_limit() const { return limit_; }
  int64_t hbm_in_use() const;
  int64_t hbm_peak() const;

  // Appends a record at the current simulated time and advances the clock; returns its duration.
  double record(KernelRecord r);
  // The same, starting no earlier than `start_s` (a collective waits for every core).
  double record_at(KernelRecord r, double start_s);
  double clock_s() const;
  std::string profile_text() const;
  void profile_clear();  // clears the records and the peak (not the clock)
  // The simulated timeline of every core of the pod in Chrome trace format (Perfetto JSON):
  // one complete ("X") event per record, pid = the pod, tid = the core, times in us.
  std::string chrome_trace() const;

 private:
  const Chip* chip_;
  int cores_, index_;
  std::vector<TpuDevice*> pod_;  // every core of the pod, in order (same list on each core)
  friend TpuDevice* tpu_device(const std::string&, int, int64_t);
  int64_t limit_;
  bool overridden_;
  mutable std::mutex mu_;
  int64_t in_use_ = 0, peak_ = 0;
  std::unordered_map<const Buffer*, int64_t> live_;
  double clock_s_ = 0;
  std::deque<KernelRecord> records_;
  int64_t dropped_ = 0;
};

// The interned device for (generation, cores, hbm_bytes <= 0: the chip's capacity).
TpuDevice* tpu_device(const std::string& generation, int cores, int64_t hbm_bytes);
// Human-readable bytes: "512.0 KiB".
std::string format_bytes(double b);

}  // namespace tpu
}  // namespace jxla
