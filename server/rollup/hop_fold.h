#ifndef UTRACKER_SERVER_ROLLUP_HOP_FOLD_H_
#define UTRACKER_SERVER_ROLLUP_HOP_FOLD_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "rollup/latency_histogram.h"
#include "utracker/v1/event.pb.h"

namespace utracker::server::rollup {

// The graph's rollups, folded from newly stored events (storage's rollup inbox) by one
// rollup job at a time. Times are Unix microseconds; a minute is the Unix microsecond at
// its start.
//
// A message's *send* is its earliest SENT event (sender = that event's service; ties go to
// the smaller service name, then destination, compared bytewise). A *hop* is (message,
// handler): a service other than the sender that logged a RECEIVED, PROCESSED, FAILED or
// NOTE for it; its latency is its first such event minus the send, and it failed if any of
// its events is FAILED. Hops are counted in the minute of their send. Because a late event
// can move a send earlier or a hop's first event earlier, a fold may take a hop out of one
// bucket and put it into another: the hop state of every message is kept (hop_sends,
// hop_handlers) so the rollups always equal a recomputation from all events, whatever order
// they arrived in.

// One newly stored event, as the inbox keeps it.
struct InboxEvent {
  std::string message_id, service, destination;
  v1::EventKind kind = v1::EVENT_KIND_UNSPECIFIED;
  int64_t at = 0;
};

struct Send {
  std::string sender, destination;
  int64_t sent_at = 0;
  bool operator==(const Send& o) const {
    return sender == o.sender && destination == o.destination && sent_at == o.sent_at;
  }
};

struct Handling {
  int64_t handled_at = 0;
  bool failed = false;
  bool operator==(const Handling& o) const {
    return handled_at == o.handled_at && failed == o.failed;
  }
};

// What is known of one message's hops.
struct MessageHops {
  std::optional<Send> send;
  std::map<std::string, Handling> handlers;  // by service; may include the sender's own
  bool operator==(const MessageHops& o) const {
    return send == o.send && handlers == o.handlers;
  }
};

inline constexpr int64_t kMinuteMicros = 60 * 1000000LL;
inline constexpr int64_t kHourMicros = 60 * kMinuteMicros;

// The start of the bucket of `width` microseconds holding `micros`.
int64_t BucketOf(int64_t micros, int64_t width);
inline int64_t MinuteOf(int64_t micros) { return BucketOf(micros, kMinuteMicros); }

struct NodeKey {
  int64_t minute;
  std::string service;
  bool operator<(const NodeKey& o) const {
    return std::tie(minute, service) < std::tie(o.minute, o.service);
  }
  bool operator==(const NodeKey& o) const { return minute == o.minute && service == o.service; }
};
struct NodeDelta {
  int64_t events = 0, sent = 0, processed = 0, failed = 0;
};

struct SendKey {
  int64_t minute;
  std::string sender, destination;
  bool operator<(const SendKey& o) const {
    return std::tie(minute, sender, destination) < std::tie(o.minute, o.sender, o.destination);
  }
  bool operator==(const SendKey& o) const {
    return minute == o.minute && sender == o.sender && destination == o.destination;
  }
};

// Messages sent in a bucket, and of them those that reached at least one handler (a service
// other than the sender): sent − handled is what nobody has handled, whoever was meant to
// (competing consumers share a destination's messages; counts per handler cannot say that).
struct SendDelta {
  int64_t messages = 0, handled = 0;
  bool operator==(const SendDelta& o) const {
    return messages == o.messages && handled == o.handled;
  }
  bool empty() const { return messages == 0 && handled == 0; }
};

struct EdgeKey {
  int64_t minute;
  std::string sender, destination, handler;
  bool operator<(const EdgeKey& o) const {
    return std::tie(minute, sender, destination, handler) <
           std::tie(o.minute, o.sender, o.destination, o.handler);
  }
};
struct EdgeDelta {
  int64_t messages = 0, failures = 0;
  LatencyHistogram latency;  // counts may be negative (hops taken out)
  std::optional<int64_t> max_added;    // largest latency put in
  std::optional<int64_t> max_removed;  // largest latency taken out: the stored max may drop
};

// A stored edge bucket.
struct EdgeBucket {
  int64_t messages = 0, failures = 0, max_latency = 0;
  LatencyHistogram latency;
};

struct FoldResult {
  std::map<std::string, MessageHops> changed;  // new state of messages whose state changed
  std::map<NodeKey, NodeDelta> nodes;
  std::map<SendKey, SendDelta> sends;  // per minute, sender and destination
  std::map<EdgeKey, EdgeDelta> edges;
};

// Folds `events` into `state` (the stored hop state of their messages; a message missing
// from it has none yet). Node counts count every event (the inbox holds each stored event
// once); sends and hops are idempotent.
FoldResult Fold(const std::vector<InboxEvent>& events,
                const std::map<std::string, MessageHops>& state);

// The same deltas in buckets of `width` (a multiple of a minute), e.g. hours: long graph
// windows read hour buckets. `changed` is left empty.
FoldResult Coarsen(const FoldResult& minutes, int64_t width);

// Applies a delta to a stored bucket. Returns false when the bucket's max may have dropped
// (a hop at the old maximum was taken out): the caller recomputes it from the hop state.
bool ApplyEdgeDelta(const EdgeDelta& delta, EdgeBucket* bucket);

}  // namespace utracker::server::rollup

#endif  // UTRACKER_SERVER_ROLLUP_HOP_FOLD_H_
