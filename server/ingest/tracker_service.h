#ifndef UTRACKER_SERVER_INGEST_TRACKER_SERVICE_H_
#define UTRACKER_SERVER_INGEST_TRACKER_SERVICE_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <unordered_set>

#include "absl/time/time.h"
#include "ingest/batch_writer.h"
#include "utracker/v1/tracker.grpc.pb.h"

namespace utracker::server::ingest {

class LogEventsReactor;

// utracker.v1.Tracker: one callback reactor per LogEvents stream. Each request is validated
// event by event (bad events are rejected with a reason, their batch-mates go on), handed to
// the BatchWriter, and answered only after the writer reports the commit. A stream keeps at
// most kMaxBatchesInFlight requests in the writer and stops reading beyond that, so a client
// faster than PostgreSQL is slowed by HTTP/2 flow control instead of growing memory.
//
// Thread-safe. Must outlive the grpc::Server it is registered with.
class TrackerService final : public v1::Tracker::CallbackService {
 public:
  static constexpr int kMaxBatchesInFlight = 4;
  static constexpr int kMaxEventsPerRequest = 10000;

  // `now` is the clock validation uses (a fake in tests).
  explicit TrackerService(BatchWriter* writer, std::function<absl::Time()> now = absl::Now);
  ~TrackerService() override;

  grpc::ServerBidiReactor<v1::LogEventsRequest, v1::LogEventsResponse>* LogEvents(
      grpc::CallbackServerContext* context) override;

  // Graceful shutdown, step one: refuse new streams, stop reading, and end every stream with
  // UNAVAILABLE ("reconnect elsewhere") once its in-flight requests are committed and acked.
  void Drain();

  // Streams not yet done (for shutdown and tests).
  size_t ActiveStreams();

  // Blocks until no stream is left or `deadline` passes; true if none is left.
  bool AwaitNoStreams(absl::Time deadline);

 private:
  friend class LogEventsReactor;
  // Returns false when draining (the new stream must be refused).
  bool Register(LogEventsReactor* reactor);
  void Unregister(LogEventsReactor* reactor);

  BatchWriter* const writer_;
  const std::function<absl::Time()> now_;
  std::mutex mu_;
  std::condition_variable none_active_;
  std::unordered_set<LogEventsReactor*> active_;  // guarded by mu_
  bool draining_ = false;                         // guarded by mu_
};

}  // namespace utracker::server::ingest

#endif  // UTRACKER_SERVER_INGEST_TRACKER_SERVICE_H_
