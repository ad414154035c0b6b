#include "rollup/rollup_worker.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace utracker::server::rollup {

RollupWorker::RollupWorker(std::unique_ptr<storage::RollupStore> store,
                           RollupWorkerOptions options, MetricsRegistry* metrics)
    : store_(std::move(store)), options_(options) {
  if (metrics != nullptr) {
    folded_ = metrics->AddCounter("utracker_rollup_events_folded_total",
                                  "Events folded into the graph rollups by this replica.");
    failed_passes_ = metrics->AddCounter("utracker_rollup_pass_failures_total",
                                         "Rollup passes that failed (retried next tick).");
    leading_gauge_ = metrics->AddGauge("utracker_rollup_leader",
                                       "1 while this replica runs the rollup job, else 0.");
  }
}

RollupWorker::~RollupWorker() { Stop(); }

void RollupWorker::Start() { thread_ = std::thread([this] { Loop(); }); }

void RollupWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  store_->Resign();
  leading_ = false;
}

void RollupWorker::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

void RollupWorker::Loop() {
  for (;;) {
    Tick();
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, absl::ToChronoMilliseconds(options_.interval),
                   [this] { return stop_ || poked_; });
    if (stop_) return;
    poked_ = false;
  }
}

void RollupWorker::Tick() {
  absl::StatusOr<bool> lead = store_->Lead();
  const bool now_leading = lead.ok() && *lead;
  if (now_leading != leading_.exchange(now_leading)) {
    spdlog::info(now_leading ? "rollup job: this replica leads" : "rollup job: lead lost");
  }
  if (leading_gauge_ != nullptr) leading_gauge_->Set(now_leading ? 1 : 0);
  if (!lead.ok()) {
    spdlog::debug("rollup job: {}", lead.status().ToString());
    return;
  }
  if (!now_leading) return;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    absl::StatusOr<size_t> folded = store_->RunPass(options_.pass_limit);
    if (!folded.ok()) {
      if (failed_passes_ != nullptr) failed_passes_->Add();
      spdlog::warn("rollup job: {}", folded.status().ToString());
      return;
    }
    if (folded_ != nullptr) folded_->Add(*folded);
    if (*folded < options_.pass_limit) return;
  }
}

}  // namespace utracker::server::rollup
