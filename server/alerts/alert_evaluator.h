#ifndef UTRACKER_SERVER_ALERTS_ALERT_EVALUATOR_H_
#define UTRACKER_SERVER_ALERTS_ALERT_EVALUATOR_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "alerts/alert_notifier.h"
#include "alerts/rules.h"
#include "common/leader_job.h"
#include "common/metrics.h"
#include "storage/alert_store.h"

namespace utracker::server::alerts {

// The alert scan: in the replica holding the evaluator lead, every `interval` reads the
// rollups, evaluates the rules and writes what opened, changed or resolved.
class AlertEvaluator {
 public:
  // `notifier` (optional, not owned) gets each alert's opening and resolution.
  AlertEvaluator(std::unique_ptr<storage::AlertStore> store, AlertConfig config,
                 absl::Duration interval, MetricsRegistry* metrics = nullptr,
                 std::function<absl::Time()> clock = absl::Now,
                 AlertNotifier* notifier = nullptr);

  void Start() { job_->Start(); }
  void Stop() { job_->Stop(); }
  bool leading() const { return job_->leading(); }

  // One evaluation at `now`, if this replica holds (or can take) the evaluator lead; the
  // job calls it every interval, tests and the benchmark call it directly.
  absl::Status EvaluateOnce(absl::Time now);

 private:
  void Scan();

  const std::unique_ptr<storage::AlertStore> store_;
  const AlertConfig config_;
  const std::function<absl::Time()> clock_;
  AlertNotifier* const notifier_;
  bool deadlines_saved_ = false;
  Histogram* scan_seconds_ = nullptr;
  Gauge* open_alerts_ = nullptr;
  std::unique_ptr<LeaderJob> job_;  // last: its thread uses the members above
};

}  // namespace utracker::server::alerts

#endif  // UTRACKER_SERVER_ALERTS_ALERT_EVALUATOR_H_
