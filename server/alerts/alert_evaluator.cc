#include "alerts/alert_evaluator.h"

#include <spdlog/spdlog.h>

#include <set>
#include <utility>

#include "wire/status_macros.h"

namespace utracker::server::alerts {

AlertEvaluator::AlertEvaluator(std::unique_ptr<storage::AlertStore> store, AlertConfig config,
                               absl::Duration interval, MetricsRegistry* metrics,
                               std::function<absl::Time()> clock, AlertNotifier* notifier)
    : store_(std::move(store)),
      config_(std::move(config)),
      clock_(std::move(clock)),
      notifier_(notifier) {
  Gauge* leading = nullptr;
  if (metrics != nullptr) {
    scan_seconds_ = metrics->AddHistogram("utracker_alert_scan_seconds",
                                          "Duration of one alert evaluation (leader only).",
                                          {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
    open_alerts_ = metrics->AddGauge("utracker_alerts_open",
                                     "Open alerts after this replica's last evaluation.");
    leading = metrics->AddGauge("utracker_alert_evaluator_leader",
                                "1 while this replica evaluates the alert rules, else 0.");
  }
  job_ = std::make_unique<LeaderJob>(
      "alert evaluator", interval,
      LeaderJob::Hooks{[this] { return store_->Lead(); },
                       [this] {
                         store_->Resign();
                         deadlines_saved_ = false;
                       },
                       [this] { Scan(); }},
      leading);
}

void AlertEvaluator::Scan() {
  const absl::Time start = absl::Now();
  absl::Status st = EvaluateOnce(clock_());
  if (!st.ok()) spdlog::warn("alert evaluator: {}", st.ToString());
  if (scan_seconds_ != nullptr) scan_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
}

absl::Status AlertEvaluator::EvaluateOnce(absl::Time at) {
  absl::StatusOr<bool> lead = store_->Lead();
  if (!lead.ok()) return lead.status();
  if (!*lead) return absl::FailedPreconditionError("another replica evaluates the alerts");
  const int64_t now = absl::ToUnixMicros(at);
  if (!deadlines_saved_) {
    std::vector<std::pair<std::pair<std::string, std::string>, int64_t>> deadlines = {
        {{"", ""}, config_.stuck_after}};
    for (const auto& [name, d] : config_.stuck_after_destination) {
      deadlines.push_back({{"destination", name}, d});
    }
    for (const auto& [name, d] : config_.stuck_after_service) {
      deadlines.push_back({{"service", name}, d});
    }
    UTRACKER_RETURN_IF_ERROR(store_->SaveDeadlines(deadlines));
    deadlines_saved_ = true;
  }
  // Handling events still waiting in the inbox would make sent messages look unhandled:
  // while the rollups lag that much, the stuck rule waits (its alerts stay as they are).
  absl::StatusOr<int64_t> backlog = store_->RollupBacklog();
  if (!backlog.ok()) return backlog.status();
  std::set<v1::AlertRule> paused;
  std::vector<Signal> signals;
  if (*backlog > config_.max_rollup_backlog) {
    paused.insert(v1::ALERT_RULE_STUCK);
    spdlog::warn("alert evaluator: {} events wait to be folded; the stuck rule waits for them",
                 *backlog);
  } else {
    // One read of the rollups per distinct deadline in use (usually one or two).
    std::set<int64_t> deadlines = {config_.stuck_after};
    for (const auto& [name, d] : config_.stuck_after_destination) deadlines.insert(d);
    for (const auto& [name, d] : config_.stuck_after_service) deadlines.insert(d);
    std::map<int64_t, storage::StuckInputs> stuck;
    for (int64_t d : deadlines) {
      absl::StatusOr<storage::StuckInputs> in =
          store_->ReadStuckInputs(now - config_.history, now, now - d);
      if (!in.ok()) return in.status();
      stuck.emplace(d, *std::move(in));
    }
    signals = StuckSignals(config_, stuck);
  }
  absl::StatusOr<std::map<std::string, storage::ServiceInputs>> services =
      store_->ReadServiceInputs(now - config_.failure_window, now - config_.history, now);
  if (!services.ok()) return services.status();
  absl::StatusOr<std::vector<v1::Alert>> open = store_->OpenAlerts();
  if (!open.ok()) return open.status();
  for (const std::vector<Signal>& more :
       {FailureSignals(config_, *services), SilenceSignals(config_, now, *services)}) {
    signals.insert(signals.end(), more.begin(), more.end());
  }

  std::vector<v1::Alert> changed = Transitions(signals, *open, now, paused);
  UTRACKER_RETURN_IF_ERROR(store_->WriteAlerts(&changed));
  if (open_alerts_ != nullptr) {
    // Open before, plus opened, minus resolved (a paused rule's alerts are not in `changed`).
    int64_t n = static_cast<int64_t>(open->size());
    for (const v1::Alert& a : changed) {
      if (a.has_resolved_at()) --n;
      if (a.evaluations() == 1 && !a.has_resolved_at()) ++n;
    }
    open_alerts_->Set(n);
  }
  for (const v1::Alert& a : changed) {
    const bool opened = a.evaluations() == 1 && !a.has_resolved_at();
    if (opened) spdlog::warn("alert opened: {}", a.summary());
    if (a.has_resolved_at()) spdlog::info("alert resolved: {}", a.subject());
    if (notifier_ != nullptr && (opened || a.has_resolved_at())) {
      v1::AlertChange change;
      change.set_kind(opened ? v1::AlertChange::KIND_OPENED : v1::AlertChange::KIND_RESOLVED);
      *change.mutable_alert() = a;
      notifier_->Notify(change);
    }
  }
  return absl::OkStatus();
}

}  // namespace utracker::server::alerts
