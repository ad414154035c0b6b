#ifndef UTRACKER_CLIENT_SRC_EVENT_SINK_H_
#define UTRACKER_CLIENT_SRC_EVENT_SINK_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "utracker/v1/tracker.pb.h"

namespace utracker::client::internal {

// A LogEventsRequest in its wire form, as the streamer builds it (each event serialised once,
// straight after it is built) and keeps it until its ack, resending it as is.
struct EncodedRequest {
  uint64_t seq = 0;
  int events = 0;
  std::string wire;  // a serialised v1::LogEventsRequest, seq included
};

// One LogEvents stream at a time to the server: the Streamer's seam (GrpcEventSink in
// production, fakes in tests). Open/Send/Close are called from the streamer's worker thread
// only; Cancel from any thread.
class EventSink {
 public:
  using ResponseFn = std::function<void(const v1::LogEventsResponse&)>;
  using ClosedFn = std::function<void()>;

  virtual ~EventSink() = default;

  // Opens a new stream. Until it ends, each response is passed to `on_response` (from a
  // thread of the sink's own); when the stream ends for any reason `on_closed` is called once.
  virtual absl::Status Open(ResponseFn on_response, ClosedFn on_closed) = 0;
  // Writes one request; may block while the server applies flow control. False: the stream
  // is broken (Close it and Open a new one).
  virtual bool Send(const EncodedRequest& request) = 0;
  // Ends the current stream, waits until no callback is running, and returns how it ended.
  virtual absl::Status Close() = 0;
  // For shutdown: makes a blocked Send (or an Open waiting for the connection) return soon,
  // and every later Open fail. Thread-safe; harmless without a stream.
  virtual void Cancel() = 0;
};

}  // namespace utracker::client::internal

#endif  // UTRACKER_CLIENT_SRC_EVENT_SINK_H_
