#include "common/metrics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace utracker::server {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

Counter* MetricsRegistry::AddCounter(const std::string& name, const std::string& help) {
  auto e = std::make_unique<Entry>();
  e->name = name, e->help = help, e->type = "counter";
  e->counter = std::make_unique<Counter>();
  Counter* c = e->counter.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return c;
}

Gauge* MetricsRegistry::AddGauge(const std::string& name, const std::string& help) {
  auto e = std::make_unique<Entry>();
  e->name = name, e->help = help, e->type = "gauge";
  e->gauge = std::make_unique<Gauge>();
  Gauge* g = e->gauge.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return g;
}

Histogram* MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> upper_bounds) {
  auto e = std::make_unique<Entry>();
  e->name = name, e->help = help, e->type = "histogram";
  e->histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  Histogram* h = e->histogram.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return h;
}

MetricsRegistry::CounterFamily* MetricsRegistry::AddCounterFamily(const std::string& name,
                                                                  const std::string& help,
                                                                  const std::string& label) {
  auto e = std::make_unique<Entry>();
  e->name = name, e->help = help, e->type = "counter";
  e->family = std::make_unique<CounterFamily>();
  e->family->label_ = label;
  CounterFamily* f = e->family.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return f;
}

Counter* MetricsRegistry::CounterFamily::Get(absl::string_view label_value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(label_value);
  if (it == series_.end()) {
    it = series_.emplace(std::string(label_value), std::make_unique<Counter>()).first;
  }
  return it->second.get();
}

namespace {

std::string Num(double v) { return absl::StrCat(v); }

// Label values come from our own code (field names), but escape them as the format asks.
std::string EscapeLabel(absl::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string MetricsRegistry::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : entries_) {
    absl::StrAppend(&out, "# HELP ", e->name, " ", e->help, "\n# TYPE ", e->name, " ", e->type,
                    "\n");
    if (e->counter) absl::StrAppend(&out, e->name, " ", e->counter->value(), "\n");
    if (e->gauge) absl::StrAppend(&out, e->name, " ", e->gauge->value(), "\n");
    if (e->family) {
      std::lock_guard<std::mutex> flock(e->family->mu_);
      for (const auto& [value, c] : e->family->series_) {
        absl::StrAppend(&out, e->name, "{", e->family->label_, "=\"", EscapeLabel(value), "\"} ",
                        c->value(), "\n");
      }
    }
    if (e->histogram) {
      const Histogram& h = *e->histogram;
      std::lock_guard<std::mutex> hlock(h.mu_);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds_.size(); ++i) {
        cumulative += h.counts_[i];
        absl::StrAppend(&out, e->name, "_bucket{le=\"", Num(h.bounds_[i]), "\"} ", cumulative,
                        "\n");
      }
      cumulative += h.counts_.back();
      absl::StrAppend(&out, e->name, "_bucket{le=\"+Inf\"} ", cumulative, "\n", e->name, "_sum ",
                      Num(h.sum_), "\n", e->name, "_count ", h.count_, "\n");
    }
  }
  return out;
}

IngestMetrics::IngestMetrics(MetricsRegistry* r)
    : events_accepted(r->AddCounter("utracker_events_accepted_total",
                                    "Events committed (re-sent ones included) and acked.")),
      events_rejected(r->AddCounterFamily(
          "utracker_events_rejected_total",
          "Events refused, by reason: the invalid field, request_too_large, or storage.",
          "reason")),
      events_deduplicated(r->AddCounter("utracker_events_deduplicated_total",
                                        "Events that were already stored (client resends).")),
      batch_events(r->AddHistogram("utracker_batch_events", "Events per ingest transaction.",
                                   {1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000})),
      commit_seconds(r->AddHistogram(
          "utracker_commit_seconds", "Time to store one ingest transaction (COPY to COMMIT).",
          {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      queue_events(
          r->AddGauge("utracker_ingest_queue_events", "Validated events waiting for a writer.")),
      inflight_bytes(r->AddGauge("utracker_ingest_inflight_bytes",
                                 "Bytes of requests read and not yet acked (bounded).")),
      streams(r->AddGauge("utracker_logevents_streams", "Open LogEvents streams.")),
      postgres_up(r->AddGauge("utracker_postgres_up",
                              "1 when the last commit or health ping reached PostgreSQL.")) {}

}  // namespace utracker::server
