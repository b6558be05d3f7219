// tpu_device.cpp - HBM accounting, the simulated timeline and device interning.
#include "backends/tpu/tpu_device.h"
#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <vector>
#include "backends/tpu/layout.h"
#include "backends/tpu/mxu.h"
#include "backends/tpu/tpu_executable.h"
#include "ir/error.h"
#include "runtime/buffer.h"
#include "runtime/metrics.h"

namespace jxla {
namespace tpu {

namespace {
constexpr size_t kMaxRecords = 100000;

std::string type_str(DType dt, const Shape& sh) { return std::string(dtype_name(dt)) + shape_str(sh); }
}  // namespace

std::string format_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) { b /= 1024; ++u; }
  char buf[48];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

TpuDevice::TpuDevice(const Chip* chip, int cores, int index, int64_t hbm_limit, bool overridden)
    : chip_(chip), cores_(cores), index_(index), limit_(hbm_limit), overridden_(overridden) {}

std::string TpuDevice::name() const {
  std::string n = std::string("tpu:") + chip_->name + (cores_ > 1 ? "x" + std::to_string(cores_) : "");
  if (index_ > 0) n += ":" + std::to_string(index_);
  if (overridden_) n += "(hbm=" + std::to_string(limit_) + ")";
  return n;
}

TpuDevice* TpuDevice::core(int i) const {
  if (i < 0 || i >= cores_) invalid("core: index ", i, " is out of range for ", name(), " (", cores_, " cores)");
  return pod_.at(static_cast<size_t>(i));
}

int64_t TpuDevice::on_alloc(const Buffer& b) {
  int64_t padded = tiled_bytes(b.dtype, b.shape);
  std::lock_guard<std::mutex> g(mu_);
  if (in_use_ + padded > limit_) {
    std::vector<std::pair<int64_t, const Buffer*>> live;
    for (auto& kv : live_) live.emplace_back(kv.second, kv.first);
    std::sort(live.begin(), live.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    std::string top;
    for (size_t i = 0; i < live.size() && i < 5; ++i)
      top += (i ? ", " : "") + type_str(live[i].second->dtype, live[i].second->shape) + " " + format_bytes(static_cast<double>(live[i].first));
    fail(JXLA_ERR_RESOURCE_EXHAUSTED, name(), ": RESOURCE_EXHAUSTED: out of HBM allocating ", type_str(b.dtype, b.shape),
         ": requested ", b.nbytes, " bytes (", format_bytes(static_cast<double>(b.nbytes)), "), padded to the TPU tiled layout ",
         padded, " bytes (", format_bytes(static_cast<double>(padded)), "); in use ", in_use_, " bytes (",
         format_bytes(static_cast<double>(in_use_)), ") of limit ", limit_, " bytes (", format_bytes(static_cast<double>(limit_)),
         "), ", live_.size(), " live buffers. Largest live buffers: ", top.empty() ? "none" : top);
  }
  in_use_ += padded;
  peak_ = std::max(peak_, in_use_);
  live_[&b] = padded;
  return padded;
}

void TpuDevice::on_free(const Buffer& b) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = live_.find(&b);
  if (it == live_.end()) return;
  in_use_ -= it->second;
  live_.erase(it);
}

void TpuDevice::on_transfer(const Buffer& b, bool to_device) {
  KernelRecord r;
  r.name = to_device ? "transfer:h2d" : "transfer:d2h";
  r.out = type_str(b.dtype, b.shape);
  r.bytes = static_cast<double>(b.nbytes);
  r.time_s = transfer_seconds(*chip_, b.nbytes);
  r.bound = "pcie";
  double t = record(std::move(r));
  metric_record("DeviceTransferTime", t * 1e9);
}

// A copy between two cores of one pod goes over ICI, not through the host: the receiving
// core is charged the ring distance in hops times the hop latency plus bytes over one link's
// bandwidth (the sender's DMA engine runs asynchronously and is not charged).
bool TpuDevice::on_peer_transfer(const Buffer& b, Device* from) {
  int src = -1;
  for (size_t i = 0; i < pod_.size(); ++i)
    if (pod_[i] == from) src = static_cast<int>(i);
  if (src < 0) return false;  // another pod or generation: through the host
  KernelRecord r;
  r.name = "transfer:ici";
  r.out = type_str(b.dtype, b.shape);
  r.bytes = static_cast<double>(b.nbytes);
  r.time_s = peer_seconds(*chip_, cores_, src, index_, b.nbytes);
  r.bound = "ici";
  double t = record(std::move(r));
  metric_record("DeviceTransferTime", t * 1e9);
  return true;
}

int64_t TpuDevice::hbm_in_use() const { std::lock_guard<std::mutex> g(mu_); return in_use_; }
int64_t TpuDevice::hbm_peak() const { std::lock_guard<std::mutex> g(mu_); return peak_; }

double TpuDevice::record(KernelRecord r) { return record_at(std::move(r), 0.0); }

double TpuDevice::record_at(KernelRecord r, double start_s) {
  std::lock_guard<std::mutex> g(mu_);
  clock_s_ = std::max(clock_s_, start_s);
  r.start_s = clock_s_;
  clock_s_ += r.time_s;
  double t = r.time_s;
  records_.push_back(std::move(r));
  if (records_.size() > kMaxRecords) { records_.pop_front(); ++dropped_; }
  return t;
}

double TpuDevice::clock_s() const { std::lock_guard<std::mutex> g(mu_); return clock_s_; }

std::string TpuDevice::profile_text() const {
  std::lock_guard<std::mutex> g(mu_);
  char line[512];
  std::string s = "# " + name() + " simulated profile: " + std::to_string(records_.size()) + " records";
  if (dropped_) s += " (" + std::to_string(dropped_) + " oldest dropped)";
  std::snprintf(line, sizeof line, ", clock %.3f us\n", clock_s_ * 1e6);
  s += line;
  s += "# start_us sim_us kernel type flops bytes bound mxu_util\n";
  for (const KernelRecord& r : records_) {
    std::snprintf(line, sizeof line, "%.3f %.3f %s %s %.6g %.6g %s %.4f\n", r.start_s * 1e6, r.time_s * 1e6, r.name.c_str(),
                  r.out.c_str(), r.flops, r.bytes, r.bound.c_str(), r.mxu_util);
    s += line;
  }
  return s;
}

namespace {
std::string json_escape(const std::string& v) {
  std::string o;
  for (char ch : v) {
    if (ch == '"' || ch == '\\') { o += '\\'; o += ch; }
    else if (static_cast<unsigned char>(ch) < 0x20) o += ' ';
    else o += ch;
  }
  return o;
}
}  // namespace

std::string TpuDevice::chrome_trace() const {
  std::string s = "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [";
  bool first = true;
  char buf[768];
  for (const TpuDevice* core : pod_) {
    std::lock_guard<std::mutex> g(core->mu_);
    std::snprintf(buf, sizeof buf, "%s{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": %d, \"args\": {\"name\": \"%s\"}}",
                  first ? "" : ", ", core->index_, json_escape(core->name()).c_str());
    s += buf;
    first = false;
    for (const KernelRecord& r : core->records_) {
      std::snprintf(buf, sizeof buf,
                    ", {\"name\": \"%s\", \"cat\": \"%s\", \"ph\": \"X\", \"pid\": 0, \"tid\": %d, \"ts\": %.4f, \"dur\": %.4f, "
                    "\"args\": {\"type\": \"%s\", \"flops\": %.6g, \"bytes\": %.6g, \"mxu_util\": %.4f}}",
                    json_escape(r.name).c_str(), json_escape(r.bound).c_str(), core->index_, r.start_s * 1e6, r.time_s * 1e6,
                    json_escape(r.out).c_str(), r.flops, r.bytes, r.mxu_util);
      s += buf;
    }
  }
  return s + "]}\n";
}

void TpuDevice::profile_clear() {
  std::lock_guard<std::mutex> g(mu_);
  records_.clear();
  dropped_ = 0;
  peak_ = in_use_;
}

std::string TpuDevice::describe() const {
  const Chip& c = *chip_;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "%s: TPU %s x%d core(s); per core: %d TensorCore(s) x %d MXU(s) %dx%d, implied clock %.2f GHz, "
                "bf16 peak %.1f TFLOP/s, VPU %.2f TFLOP/s (f32), HBM %s at %.0f GB/s, VMEM %s per TensorCore, "
                "ICI %d links x %.0f GB/s (bidirectional), PCIe %.0f GB/s; HBM in use %s of %s; MXU kernel: %s",
                name().c_str(), c.name, cores_, c.tensorcores, c.mxus_per_core, c.mxu_dim, c.mxu_dim, c.implied_clock_hz() / 1e9,
                c.bf16_flops / 1e12, c.vpu_flops / 1e12, format_bytes(static_cast<double>(c.hbm_bytes)).c_str(), c.hbm_bw / 1e9,
                format_bytes(static_cast<double>(c.vmem_bytes)).c_str(), c.ici_links, c.ici_link_bw / 1e9, c.pcie_bw / 1e9,
                format_bytes(static_cast<double>(hbm_in_use())).c_str(), format_bytes(static_cast<double>(limit_)).c_str(),
                mxu_vectorized() ? ("exact AVX2, " + std::to_string(mxu_threads()) + " thread(s)").c_str()
                                 : "exact scalar reference");
  return buf;
}

std::shared_ptr<Executable> TpuDevice::compile(Graph g) { return make_tpu_executable(std::move(g), this); }

TpuDevice* tpu_device(const std::string& generation, int cores, int64_t hbm_bytes) {
  const Chip* chip = find_chip(generation);
  if (!chip) invalid("tpu: unknown generation '", generation, "' (known: ", chip_names(), ")");
  if (cores < 1 || cores > 4096) invalid("tpu: cores must be in 1..4096, got ", cores);
  static std::mutex mu;
  static auto* table = new std::map<std::tuple<std::string, int, int64_t>, TpuDevice*>();  // immortal devices
  int64_t key_hbm = hbm_bytes > 0 ? hbm_bytes : 0;
  std::lock_guard<std::mutex> g(mu);
  auto key = std::make_tuple(generation, cores, key_hbm);
  auto it = table->find(key);
  if (it != table->end()) return it->second;
  std::vector<TpuDevice*> pod;
  for (int i = 0; i < cores; ++i) pod.push_back(new TpuDevice(chip, cores, i, key_hbm ? key_hbm : chip->hbm_bytes, key_hbm != 0));
  for (TpuDevice* d : pod) d->pod_ = pod;
  table->emplace(key, pod[0]);
  return pod[0];
}

}  // namespace tpu
}  // namespace jxla
