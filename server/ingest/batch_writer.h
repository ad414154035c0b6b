#ifndef UTRACKER_SERVER_INGEST_BATCH_WRITER_H_
#define UTRACKER_SERVER_INGEST_BATCH_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <google/protobuf/arena.h>

#include "absl/status/status.h"
#include "common/metrics.h"
#include "storage/event_store.h"
#include "utracker/v1/tracker.pb.h"

namespace utracker::server::ingest {

// Validated events of one LogEvents request, on their way to storage.
struct PendingBatch {
  // The events live on `arena` (the request was parsed onto it) and go with it, all freed at
  // once after `done`: parsed onto the heap, each of their strings was a malloc in the reading
  // thread and a free in the writer's: the arena cut the server's ingest CPU by a third.
  std::unique_ptr<google::protobuf::Arena> arena;
  std::vector<v1::Event*> events;
  // events[i] is request.events(request_index[i]).
  std::vector<uint32_t> request_index;
  // Called exactly once, from the writer thread, after the events are committed (OK, with
  // the rejections storage made, as request indexes) or could not be (an error; nothing
  // of the batch may be acknowledged). Must not block.
  std::function<void(absl::Status, std::vector<v1::Rejection>)> done;
};

// The queue ⟂ sink in front of PostgreSQL: a queue of batches with one worker thread per
// sink (each sink owns a PostgreSQL connection). A worker coalesces what is queued (up to
// `max_events_per_commit`) into one EventStore::Store call, i.e. one transaction, then
// reports each batch's outcome. With several workers, transactions overlap: one encodes
// while another's commit is in PostgreSQL. Submit never blocks; how much is queued is bounded
// by the LogEvents reactors (see TrackerService).
//
// Thread-safe. Each sink is only ever called from its own worker thread.
class BatchWriter {
 public:
  struct Options {
    size_t max_events_per_commit = 5000;
    IngestMetrics* metrics = nullptr;  // optional; must outlive the writer
  };

  // `on_store_health` is called from the worker after each Store with whether the database
  // answered (false only for UNAVAILABLE).
  BatchWriter(std::vector<std::unique_ptr<storage::EventStore>> sinks, Options options,
              std::function<void(bool)> on_store_health = nullptr);
  BatchWriter(std::unique_ptr<storage::EventStore> sink, Options options,
              std::function<void(bool)> on_store_health = nullptr);
  ~BatchWriter();  // Stop()

  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues a batch. After Stop(), the batch is failed at once with UNAVAILABLE.
  void Submit(PendingBatch batch);

  // Blocks until every batch submitted before the call has been reported.
  void Flush();

  // Stops the workers: batches still queued fail with UNAVAILABLE (unacked: their clients
  // resend them); a Store in progress gets until `deadline` to complete and be reported, then
  // its sink is cancelled (EventStore::Cancel) and it fails unacked. The server calls it once
  // its streams are gone — drained, so nothing is queued, or cancelled after the grace period,
  // when nobody waits for those acks and storing them would only keep a blocked database
  // holding up the exit. Idempotent.
  void Stop(absl::Time deadline = absl::InfiniteFuture());

 private:
  void Run(storage::EventStore* sink);
  void StoreAndReport(storage::EventStore* sink, std::vector<PendingBatch>& batches);

  const std::vector<std::unique_ptr<storage::EventStore>> sinks_;
  const Options options_;
  const std::function<void(bool)> on_store_health_;

  std::mutex mu_;
  std::condition_variable wake_;     // worker: work or stop
  std::condition_variable drained_;  // Flush(): nothing queued or in progress
  std::deque<PendingBatch> queue_;   // guarded by mu_
  size_t queued_events_ = 0;         // guarded by mu_
  int busy_ = 0;                     // guarded by mu_: workers holding taken batches
  bool stopping_ = false;            // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace utracker::server::ingest

#endif  // UTRACKER_SERVER_INGEST_BATCH_WRITER_H_
