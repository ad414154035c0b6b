#include "rollup/rollup_worker.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace utracker::server::rollup {

RollupWorker::RollupWorker(std::unique_ptr<storage::RollupStore> store,
                           RollupWorkerOptions options, MetricsRegistry* metrics)
    : store_(std::move(store)), options_(options) {
  Gauge* leading = nullptr;
  if (metrics != nullptr) {
    folded_ = metrics->AddCounter("utracker_rollup_events_folded_total",
                                  "Events folded into the graph rollups by this replica.");
    failed_passes_ = metrics->AddCounter("utracker_rollup_pass_failures_total",
                                         "Rollup passes that failed (retried next tick).");
    backlog_ = metrics->AddGauge("utracker_rollup_inbox_events",
                                 "About how many stored events wait to be folded (leader only):"
                                 " the graph and the alerts lag by that much.");
    leading = metrics->AddGauge("utracker_rollup_leader",
                                "1 while this replica runs the rollup job, else 0.");
  }
  job_ = std::make_unique<LeaderJob>(
      "rollup job", options_.interval,
      LeaderJob::Hooks{[this] { return store_->Lead(); }, [this] { store_->Resign(); },
                       [this] { Fold(); }},
      leading);
}

void RollupWorker::Fold() {
  while (!job_->stopping()) {
    absl::StatusOr<size_t> folded = store_->RunPass(options_.pass_limit);
    if (!folded.ok()) {
      if (failed_passes_ != nullptr) failed_passes_->Add();
      spdlog::warn("rollup job: {}", folded.status().ToString());
      return;
    }
    if (folded_ != nullptr) folded_->Add(*folded);
    if (backlog_ != nullptr) {
      absl::StatusOr<int64_t> backlog = store_->Backlog();
      if (backlog.ok()) backlog_->Set(*backlog);
    }
    if (*folded < options_.pass_limit) return;
    if (options_.ingest_busy && options_.ingest_busy()) return;  // the rest next tick
  }
}

}  // namespace utracker::server::rollup
