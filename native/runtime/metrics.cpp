// metrics.cpp - metrics storage and the PyTorch/XLA-style report.
#include "runtime/metrics.h"
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <vector>

namespace jxla {

namespace {
constexpr size_t kSamples = 1024;
struct Metric {
  MetricUnit unit = MetricUnit::Nanos;
  int64_t count = 0;
  double acc = 0;
  std::vector<double> ring;
  size_t next = 0;
};
struct Registry {
  std::mutex mu;
  std::map<std::string, Metric> metrics;
  std::map<std::string, int64_t> counters;
};
Registry& reg() {
  static Registry* r = new Registry();  // immortal: used from any thread at any time
  return *r;
}

std::string fmt_time(double ns) {
  // PyTorch/XLA style: 01m02s345ms678.901us, dropping leading zero units
  char buf[64];
  double us = ns / 1e3;
  int64_t total_ms = static_cast<int64_t>(us / 1e3);
  double rem_us = us - static_cast<double>(total_ms) * 1e3;
  int64_t m = total_ms / 60000, s = (total_ms / 1000) % 60, ms = total_ms % 1000;
  if (m) std::snprintf(buf, sizeof buf, "%02lldm%02llds%03lldms%07.3fus", (long long)m, (long long)s, (long long)ms, rem_us);
  else if (s) std::snprintf(buf, sizeof buf, "%02llds%03lldms%07.3fus", (long long)s, (long long)ms, rem_us);
  else if (ms) std::snprintf(buf, sizeof buf, "%03lldms%07.3fus", (long long)ms, rem_us);
  else std::snprintf(buf, sizeof buf, "%.3fus", rem_us);
  return buf;
}
std::string fmt_value(double v, MetricUnit u) {
  char buf[64];
  if (u == MetricUnit::Nanos) return fmt_time(v);
  if (u == MetricUnit::Bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    int k = 0;
    while (std::fabs(v) >= 1024 && k < 4) { v /= 1024; ++k; }
    std::snprintf(buf, sizeof buf, "%.2f%s", v, units[k]);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

void append_metric(std::string& out, const std::string& name, const Metric& m) {
  out += "Metric: " + name + "\n";
  out += "  TotalSamples: " + std::to_string(m.count) + "\n";
  out += "  Accumulator: " + fmt_value(m.acc, m.unit) + "\n";
  std::vector<double> s = m.ring;
  std::sort(s.begin(), s.end());
  out += "  Percentiles: ";
  const int pct[] = {1, 5, 10, 20, 50, 80, 90, 95, 99};
  for (size_t i = 0; i < 9; ++i) {
    double v = s.empty() ? 0 : s[std::min(s.size() - 1, static_cast<size_t>(pct[i] / 100.0 * s.size()))];
    out += (i ? "; " : "") + std::to_string(pct[i]) + "%=" + fmt_value(v, m.unit);
  }
  out += "\n";
}
}  // namespace

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void metric_record(const std::string& name, double value, MetricUnit unit) {
  Registry& r = reg();
  std::lock_guard<std::mutex> g(r.mu);
  Metric& m = r.metrics[name];
  m.unit = unit;
  ++m.count;
  m.acc += value;
  if (m.ring.size() < kSamples) m.ring.push_back(value);
  else { m.ring[m.next] = value; m.next = (m.next + 1) % kSamples; }
}

namespace {
// LazyTracing is bumped once per traced op: an atomic, folded into the map when read, keeps the
// trace path free of the registry lock and of a string allocation.
std::atomic<int64_t> g_lazy_tracing{0};
void fold_fast_counters(Registry& r) {
  int64_t v = g_lazy_tracing.exchange(0);
  if (v) r.counters["LazyTracing"] += v;
}
}  // namespace

void count_lazy_trace() { g_lazy_tracing.fetch_add(1, std::memory_order_relaxed); }

void counter_add(const std::string& name, int64_t delta) {
  Registry& r = reg();
  std::lock_guard<std::mutex> g(r.mu);
  r.counters[name] += delta;
}

int64_t counter_get(const std::string& name) {
  Registry& r = reg();
  std::lock_guard<std::mutex> g(r.mu);
  fold_fast_counters(r);
  auto it = r.counters.find(name);
  return it == r.counters.end() ? 0 : it->second;
}

std::string metrics_report(bool short_form) {
  Registry& r = reg();
  std::lock_guard<std::mutex> g(r.mu);
  fold_fast_counters(r);
  std::string out;
  if (short_form) {
    // PyTorch/XLA's short report: the metrics and counters that explain a slow step
    for (const char* n : {"CompileTime", "ExecuteTime", "TransferFromDeviceTime", "DeviceTime"}) {
      auto it = r.metrics.find(n);
      if (it != r.metrics.end()) append_metric(out, n, it->second);
    }
    for (auto& kv : r.counters)
      if (kv.first == "CachedCompile" || kv.first == "UncachedCompile" || kv.first == "MarkStep" ||
          kv.first.rfind("fallback::", 0) == 0 || kv.first == "KernelCount" || kv.first == "DonatedBuffers")
        out += "Counter: " + kv.first + "\n  Value: " + std::to_string(kv.second) + "\n";
    return out;
  }
  for (auto& kv : r.metrics) append_metric(out, kv.first, kv.second);
  for (auto& kv : r.counters) out += "Counter: " + kv.first + "\n  Value: " + std::to_string(kv.second) + "\n";
  return out;
}

void metrics_clear() {
  Registry& r = reg();
  std::lock_guard<std::mutex> g(r.mu);
  g_lazy_tracing.store(0);
  r.metrics.clear();
  r.counters.clear();
}

}  // namespace jxla
