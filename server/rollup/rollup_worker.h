#ifndef UTRACKER_SERVER_ROLLUP_ROLLUP_WORKER_H_
#define UTRACKER_SERVER_ROLLUP_ROLLUP_WORKER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "common/metrics.h"
#include "storage/rollup_store.h"

namespace utracker::server::rollup {

struct RollupWorkerOptions {
  // How often a leader folds the inbox, and how often a follower tries to take the lead.
  absl::Duration interval = absl::Seconds(1);
  // Inbox events per transaction: big enough to amortise the statements, small enough that
  // a pass stays well under a second.
  size_t pass_limit = 20000;
};

// The rollup job: one thread that, in the replica holding the lead, folds the rollup inbox
// every `interval` until it is empty; in the other replicas it only tries to take the lead.
class RollupWorker {
 public:
  RollupWorker(std::unique_ptr<storage::RollupStore> store, RollupWorkerOptions options,
               MetricsRegistry* metrics = nullptr);
  ~RollupWorker();  // Stop()s

  void Start();
  // Stops the thread after its current pass and gives the lead up.
  void Stop();
  // Folds the inbox now rather than at the next tick (tests, and shutdown).
  void Poke();

  bool leading() const { return leading_.load(); }

 private:
  void Loop();
  // One tick: take or keep the lead; if leading, fold until the inbox is empty.
  void Tick();

  const std::unique_ptr<storage::RollupStore> store_;
  const RollupWorkerOptions options_;
  Counter* folded_ = nullptr;
  Counter* failed_passes_ = nullptr;
  Gauge* leading_gauge_ = nullptr;

  std::atomic<bool> leading_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;   // guarded by mu_
  bool poked_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace utracker::server::rollup

#endif  // UTRACKER_SERVER_ROLLUP_ROLLUP_WORKER_H_
