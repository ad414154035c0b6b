#ifndef UTRACKER_SERVER_INGEST_TRACKER_SERVICE_H_
#define UTRACKER_SERVER_INGEST_TRACKER_SERVICE_H_

#include <grpcpp/support/byte_buffer.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "absl/time/time.h"
#include "common/metrics.h"
#include "ingest/batch_writer.h"
#include "utracker/v1/tracker.grpc.pb.h"
#include "wire/event_validation.h"

namespace utracker::server::ingest {

class LogEventsReactor;

// utracker.v1.Tracker: one callback reactor per LogEvents stream. Each request is validated
// event by event (bad events are rejected with a reason, their batch-mates go on), handed to
// the BatchWriter, and answered only after the writer reports the commit.
//
// Memory is bounded whatever the clients do: a stream stops reading (HTTP/2 flow control
// then holds its client back) while it has kMaxBatchesInFlight requests in the writer, while
// kMaxQueuedAcks answers wait for a client that does not read them, or while the requests of
// all streams read and not yet acked exceed `max_inflight_bytes` (each counted as the memory of
// the arena it was parsed onto, or its wire size if larger). So the server holds at most
// max_inflight_bytes + one request per stream (the one that crossed the line).
//
// Thread-safe. Must outlive the grpc::Server it is registered with.
// LogEvents is registered as a raw (bytes) method: a request is looked at on the wire before
// it is parsed, so one packed with more events than the limit is refused without the ~145×
// its wire size that parsing tiny events costs. Typed clients see no difference.
class TrackerService final
    : public v1::Tracker::WithRawCallbackMethod_LogEvents<v1::Tracker::Service> {
 public:
  static constexpr int kMaxBatchesInFlight = 4;
  static constexpr size_t kMaxQueuedAcks = 8;
  static constexpr int kMaxEventsPerRequest = wire::kMaxEventsPerRequest;

  struct Options {
    size_t max_inflight_bytes = 256 << 20;
    IngestMetrics* metrics = nullptr;  // optional; must outlive the service
    // The clock validation uses (a fake in tests).
    std::function<absl::Time()> now = absl::Now;
  };

  explicit TrackerService(BatchWriter* writer) : TrackerService(writer, Options{}) {}
  TrackerService(BatchWriter* writer, Options options);
  ~TrackerService() override;

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* LogEvents(
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
  // The in-flight byte budget. Over it, a reactor parks itself (Park) and is resumed when
  // acks bring the total back under.
  void AddInflight(size_t bytes);
  void ReleaseInflight(size_t bytes);
  bool OverBudget() const;
  void Park(LogEventsReactor* reactor);

  BatchWriter* const writer_;
  const Options options_;
  std::atomic<size_t> inflight_bytes_{0};
  std::vector<LogEventsReactor*> parked_;  // guarded by mu_
  std::mutex mu_;
  std::condition_variable none_active_;
  std::unordered_set<LogEventsReactor*> active_;  // guarded by mu_
  bool draining_ = false;                         // guarded by mu_
};

}  // namespace utracker::server::ingest

#endif  // UTRACKER_SERVER_INGEST_TRACKER_SERVICE_H_
