#include "common/leader_job.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace utracker::server {

LeaderJob::LeaderJob(std::string name, absl::Duration interval, Hooks hooks, Gauge* leading)
    : name_(std::move(name)), interval_(interval), hooks_(std::move(hooks)), leading_gauge_(leading) {}

LeaderJob::~LeaderJob() { Stop(); }

void LeaderJob::Start() { thread_ = std::thread([this] { Loop(); }); }

void LeaderJob::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    hooks_.resign();
  }
  leading_ = false;
}

void LeaderJob::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

bool LeaderJob::stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

void LeaderJob::Loop() {
  for (;;) {
    absl::StatusOr<bool> lead = hooks_.lead();
    const bool now_leading = lead.ok() && *lead;
    if (now_leading != leading_.exchange(now_leading)) {
      spdlog::info("{}: {}", name_, now_leading ? "this replica leads" : "lead lost");
      // What was set up for the lead is set up again when it comes back (the alert evaluator
      // saves its deadlines again: another replica may have led meanwhile, with its own).
      if (!now_leading) hooks_.resign();
    }
    if (leading_gauge_ != nullptr) leading_gauge_->Set(now_leading ? 1 : 0);
    if (!lead.ok()) spdlog::debug("{}: {}", name_, lead.status().ToString());
    if (now_leading) hooks_.work();
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, absl::ToChronoMilliseconds(interval_), [this] { return stop_ || poked_; });
    if (stop_) return;
    poked_ = false;
  }
}

}  // namespace utracker::server
