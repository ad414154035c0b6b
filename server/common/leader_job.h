#ifndef UTRACKER_SERVER_COMMON_LEADER_JOB_H_
#define UTRACKER_SERVER_COMMON_LEADER_JOB_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics.h"

namespace utracker::server {

// A periodic job that one replica at a time runs (DESIGN: rollups, the alert scan): a
// thread that every `interval` takes or confirms the lead (`lead`) and, while leading, runs
// `work`. Followers only keep trying, so when the leader dies another replica takes over
// within about one interval of the lead being freed.
class LeaderJob {
 public:
  struct Hooks {
    std::function<absl::StatusOr<bool>()> lead;
    std::function<void()> resign;
    std::function<void()> work;  // may check stopping() to cut a long run short
  };
  LeaderJob(std::string name, absl::Duration interval, Hooks hooks, Gauge* leading = nullptr);
  ~LeaderJob();  // Stop()s

  void Start();
  // Stops after the current run of `work` and resigns.
  void Stop();
  // Runs now rather than at the next tick.
  void Poke();

  bool leading() const { return leading_.load(); }
  bool stopping();

 private:
  void Loop();

  const std::string name_;
  const absl::Duration interval_;
  const Hooks hooks_;
  Gauge* const leading_gauge_;
  std::atomic<bool> leading_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;   // guarded by mu_
  bool poked_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace utracker::server

#endif  // UTRACKER_SERVER_COMMON_LEADER_JOB_H_
