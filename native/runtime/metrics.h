// metrics.h - the process-wide metrics registry (thread-safe), reported in PyTorch/XLA's text
// format. Metrics keep the total count, the accumulated value and the last 1024 samples for
// percentiles; counters are plain integers. Time metrics are recorded in nanoseconds.
#pragma once
#include <cstdint>
#include <string>

namespace jxla {

enum class MetricUnit { Nanos, Bytes, Count };

void metric_record(const std::string& name, double value, MetricUnit unit = MetricUnit::Nanos);
void counter_add(const std::string& name, int64_t delta = 1);
int64_t counter_get(const std::string& name);
// The LazyTracing counter, lock-free (called once per traced op).
void count_lazy_trace();
std::string metrics_report(bool short_form);
void metrics_clear();
int64_t now_ns();

// Records the elapsed time of a scope into a metric.
struct ScopedTimer {
  explicit ScopedTimer(const char* n) : name(n), t0(now_ns()) {}
  ~ScopedTimer() { metric_record(name, static_cast<double>(now_ns() - t0)); }
  const char* name;
  int64_t t0;
};

}  // namespace jxla
