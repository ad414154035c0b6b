#ifndef UTRACKER_TESTS_SUPPORT_FAKE_ALERT_READER_H_
#define UTRACKER_TESTS_SUPPORT_FAKE_ALERT_READER_H_

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/status/status.h"
#include "storage/alert_store.h"

namespace utracker::testing {

// An in-memory alerts table for the Alerts service's tests: every Open/Update/Resolve takes
// a new version, as the real table does. Can be made to fail. Thread-safe.
class FakeAlertReader : public server::storage::AlertReader {
 public:
  // Opens an alert (evaluations 1); returns its id.
  int64_t Open(v1::AlertRule rule, const std::string& service) {
    std::lock_guard<std::mutex> lock(mu_);
    v1::Alert a;
    a.set_id(++last_id_);
    a.set_rule(rule);
    a.set_service(service);
    a.set_subject(service);
    a.set_state(v1::ALERT_STATE_OPEN);
    a.mutable_opened_at()->set_seconds(1764288000 + last_id_);
    a.set_evaluations(1);
    rows_[a.id()] = {++last_version_, a};
    return a.id();
  }
  // Seen again: evaluations + 1.
  void Update(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& row = rows_.at(id);
    row.alert.set_evaluations(row.alert.evaluations() + 1);
    row.version = ++last_version_;
  }
  void Resolve(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& row = rows_.at(id);
    row.alert.set_state(v1::ALERT_STATE_RESOLVED);
    row.alert.mutable_resolved_at()->set_seconds(1764290000);
    row.version = ++last_version_;
  }
  void Fail(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = std::move(status);
  }

  absl::StatusOr<std::vector<v1::Alert>> ListAlerts(
      const server::storage::AlertFilter& filter) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_.ok()) return fail_;
    last_filter_ = filter;
    std::vector<v1::Alert> out;
    for (auto it = rows_.rbegin(); it != rows_.rend() && out.size() < filter.limit; ++it) {
      const v1::Alert& a = it->second.alert;
      if (filter.state != v1::ALERT_STATE_UNSPECIFIED && a.state() != filter.state) continue;
      if (filter.rule != v1::ALERT_RULE_UNSPECIFIED && a.rule() != filter.rule) continue;
      if (!filter.service.empty() && a.service() != filter.service) continue;
      out.push_back(a);
    }
    return out;
  }
  absl::StatusOr<std::vector<server::storage::AlertVersion>> ChangedSince(int64_t version,
                                                                          size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_.ok()) return fail_;
    std::vector<server::storage::AlertVersion> out;
    for (const auto& [id, row] : rows_) {
      if (row.version > version) out.push_back(row);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.version < b.version; });
    if (out.size() > limit) out.resize(limit);
    return out;
  }
  absl::StatusOr<int64_t> LatestVersion() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_.ok()) return fail_;
    int64_t latest = 0;
    for (const auto& [id, row] : rows_) latest = std::max(latest, row.version);
    return latest;
  }

  server::storage::AlertFilter last_filter() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_filter_;
  }

 private:
  std::mutex mu_;
  std::map<int64_t, server::storage::AlertVersion> rows_;
  int64_t last_id_ = 0;
  int64_t last_version_ = 0;
  absl::Status fail_;
  server::storage::AlertFilter last_filter_;
};

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_FAKE_ALERT_READER_H_
