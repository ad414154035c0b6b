#ifndef UTRACKER_SERVER_COMMON_METRICS_H_
#define UTRACKER_SERVER_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace utracker::server {

// A monotonically increasing count. Lock-free.
class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Lock-free.
class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Observations counted into fixed buckets (cumulative on export, Prometheus-style).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);

 private:
  friend class MetricsRegistry;
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // guarded by mu_; one per bound, plus +Inf
  double sum_ = 0;                // guarded by mu_
  uint64_t count_ = 0;            // guarded by mu_
};

// The server's metrics, rendered in the Prometheus text exposition format. Metrics are
// created once (at wiring time) and live as long as the registry; a metric with labels is a
// family keyed by one label value. Thread-safe.
class MetricsRegistry {
 public:
  Counter* AddCounter(const std::string& name, const std::string& help);
  Gauge* AddGauge(const std::string& name, const std::string& help);
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> upper_bounds);
  // A counter family with one label; Get(value) creates the series on first use.
  class CounterFamily {
   public:
    Counter* Get(absl::string_view label_value);

   private:
    friend class MetricsRegistry;
    std::string label_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<Counter>, std::less<>> series_;  // guarded by mu_
  };
  CounterFamily* AddCounterFamily(const std::string& name, const std::string& help,
                                  const std::string& label);

  std::string Render() const;

 private:
  struct Entry {
    std::string name, help, type;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::unique_ptr<CounterFamily> family;
  };
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;  // guarded by mu_
};

// What the ingest path reports; owned by the ServerApp, shared by its parts.
struct IngestMetrics {
  explicit IngestMetrics(MetricsRegistry* registry);

  Counter* events_accepted;
  MetricsRegistry::CounterFamily* events_rejected;  // label "reason": the field, or "storage"
  Counter* events_deduplicated;
  Histogram* batch_events;
  Histogram* commit_seconds;
  Gauge* queue_events;
  Gauge* inflight_bytes;
  Gauge* streams;
  Gauge* postgres_up;
};

}  // namespace utracker::server

#endif  // UTRACKER_SERVER_COMMON_METRICS_H_
