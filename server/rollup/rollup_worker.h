#ifndef UTRACKER_SERVER_ROLLUP_ROLLUP_WORKER_H_
#define UTRACKER_SERVER_ROLLUP_ROLLUP_WORKER_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/time/time.h"
#include "common/leader_job.h"
#include "common/metrics.h"
#include "storage/rollup_store.h"

namespace utracker::server::rollup {

struct RollupWorkerOptions {
  // How often a leader folds the inbox, and how often a follower tries to take the lead.
  absl::Duration interval = absl::Seconds(1);
  // Inbox events per transaction: big enough to amortise the statements, small enough that
  // a pass stays well under a second.
  size_t pass_limit = 20000;
  // Ingest comes first: while this returns true (this replica has events read and not yet
  // acked), the job folds one pass per interval instead of draining the inbox, leaving most
  // of the database's time to ingest; it catches up when ingest quiets down.
  std::function<bool()> ingest_busy;
};

// The rollup job: in the replica holding the lead, folds the rollup inbox every `interval`
// until it is empty; in the other replicas it only tries to take the lead.
class RollupWorker {
 public:
  RollupWorker(std::unique_ptr<storage::RollupStore> store, RollupWorkerOptions options,
               MetricsRegistry* metrics = nullptr);

  void Start() { job_->Start(); }
  void Stop() { job_->Stop(); }
  void Poke() { job_->Poke(); }
  bool leading() const { return job_->leading(); }

 private:
  void Fold();

  const std::unique_ptr<storage::RollupStore> store_;
  const RollupWorkerOptions options_;
  Counter* folded_ = nullptr;
  Counter* failed_passes_ = nullptr;
  Gauge* backlog_ = nullptr;
  std::unique_ptr<LeaderJob> job_;  // last: its thread uses the members above
};

}  // namespace utracker::server::rollup

#endif  // UTRACKER_SERVER_ROLLUP_ROLLUP_WORKER_H_
