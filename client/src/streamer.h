#ifndef UTRACKER_CLIENT_SRC_STREAMER_H_
#define UTRACKER_CLIENT_SRC_STREAMER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "event_sink.h"
#include "utracker/client.h"
#include "utracker/config.h"

namespace utracker::client::internal {

// An event as Log captured it in the caller's thread: what was said, when, about which
// (immutable, shared) envelope. The worker turns it into a v1::Event, so the caller pays
// only for this copy and the enqueue.
struct PendingEvent {
  std::shared_ptr<const v1::Envelope> envelope;
  v1::EventKind kind = v1::EVENT_KIND_UNSPECIFIED;
  absl::Time at;
  LogOptions options;
  bool attach_payload = false;  // decided once, by Log
  // The payload was asked for but cannot be sent (bigger than any event may carry): the
  // event goes without it, noted, and the buffer does not keep the content.
  bool payload_too_large = false;
  size_t bytes = 0;             // what it holds, about: counted against max_buffered_bytes
};

// Builds the wire event from a pending one (event id, sanitising, payload filters). Called
// by the worker thread only, outside the streamer's lock; must not throw.
using EventBuilder = std::function<void(PendingEvent& pending, v1::Event* out)>;

// The background streamer (queue ⟂ sink): Enqueue puts a pending event in a bounded buffer
// and returns at once; one worker thread takes batches from it, builds the events (with the
// EventBuilder), numbers the requests (seq), keeps each
// until its ack arrives, and writes them on the sink's stream. When the stream breaks, the
// worker reconnects with exponential backoff and jitter and resends every unacked batch in
// order (the server stores re-sent events once). At most `max_unacked_batches` are in flight;
// beyond that the worker waits for acks, the buffer fills, and Enqueue drops (counted).
//
// Memory is bounded by max_buffered_events events of max_buffered_bytes bytes in the buffer,
// plus max_unacked_batches requests of at most max_batch_bytes (and one event) each.
// Thread-safe.
class Streamer {
 public:
  Streamer(std::unique_ptr<EventSink> sink, const Config& config, EventBuilder builder);
  ~Streamer();  // Shutdown(0)

  // Never blocks on I/O, never throws. False (and counted) when the buffer is full or the
  // streamer is shut down.
  bool Enqueue(PendingEvent event);

  absl::Status Flush(absl::Duration timeout);
  void Shutdown(absl::Duration timeout);
  Stats stats();

 private:
  struct Batch {
    std::shared_ptr<const EncodedRequest> request;
    uint64_t first_event = 0;  // number (from 0, in Enqueue order) of its first event
  };

  void Run();
  // With mu_ held: waits until there is something to do; returns false to stop.
  bool AwaitWork(std::unique_lock<std::mutex>& lock);
  // Closes a broken stream and, if there is work, opens a new one (after backoff) and
  // resends the unacked batches.
  void Reconnect(std::unique_lock<std::mutex>& lock);
  void SendNewBatches(std::unique_lock<std::mutex>& lock);
  // Writes `requests` with mu_ released; marks the stream broken on failure.
  void Write(std::unique_lock<std::mutex>& lock,
             const std::vector<std::shared_ptr<const EncodedRequest>>& requests);
  void OnResponse(const v1::LogEventsResponse& response);
  void OnClosed();
  void ReportIfDue(std::unique_lock<std::mutex>& lock, bool force = false);
  // With mu_ held: the number of the oldest event not acked yet (buffered, being built or
  // sent), or stats_.logged when every event is acked. Events are numbered from 0 in
  // Enqueue order, and the worker keeps that order in its batches.
  uint64_t OldestUnacked() const;
  absl::Duration NextBackoff();

  const std::unique_ptr<EventSink> sink_;
  const Config config_;
  const EventBuilder builder_;

  std::mutex mu_;
  std::condition_variable wake_;       // worker: events, acks, stream closed, stop
  std::condition_variable settled_;    // Flush: an ack arrived
  std::deque<PendingEvent> buffer_;    // guarded by mu_
  size_t buffered_bytes_ = 0;          // guarded by mu_: the `bytes` of buffer_'s events
  bool worker_idle_ = false;           // guarded by mu_: waiting with no deadline
  std::map<uint64_t, Batch> unacked_;  // guarded by mu_; by seq
  uint64_t taken_ = 0;                 // guarded by mu_: events the worker took from buffer_
  // guarded by mu_: number of the first event the worker took and has not yet put in
  // unacked_ (it builds them with mu_ released); kNone when it holds none.
  static constexpr uint64_t kNone = ~uint64_t{0};
  uint64_t building_from_ = kNone;
  uint64_t unacked_events_ = 0;        // guarded by mu_
  uint64_t next_seq_ = 1;              // worker only
  bool connected_ = false;             // guarded by mu_
  bool broken_ = false;                // guarded by mu_: the stream ended, reconnect
  int flushing_ = 0;                   // guarded by mu_: Flush calls waiting; no batch delay
  absl::Time batch_deadline_ = absl::InfiniteFuture();  // guarded by mu_
  bool stopping_ = false;                               // guarded by mu_
  bool shutdown_started_ = false;                       // guarded by mu_
  int failed_connects_ = 0;                             // guarded by mu_
  Stats stats_;                           // guarded by mu_ (but `dropped` lives in dropped_)
  uint64_t dropped_reported_ = 0;         // guarded by mu_
  uint64_t rejected_reported_ = 0;        // guarded by mu_
  absl::Time last_report_ = absl::Now();  // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
  std::mt19937_64 rng_{std::random_device{}()};  // worker only
  v1::Event scratch_;                            // worker only: each event is built here
  std::thread worker_;
};

}  // namespace utracker::client::internal

#endif  // UTRACKER_CLIENT_SRC_STREAMER_H_
