#ifndef UTRACKER_CONFIG_H_
#define UTRACKER_CONFIG_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace utracker {

// Turns a message's content into what may leave the process in an event (for replay and
// debugging), e.g. with passwords redacted. Gets the content and its content type. An error
// (or an exception) means the payload is dropped — it is never sent unfiltered.
using PayloadFilter = std::function<absl::StatusOr<std::string>(absl::string_view content,
                                                                absl::string_view content_type)>;

// Built-in filters.
// Replaces the value of every JSON member named one of `keys` (case-insensitive, at any
// depth, inside arrays too) with "[REDACTED]". Content that is not JSON (by content type
// "application/json" or "...+json", or when it does not parse) is dropped.
PayloadFilter RedactJsonKeys(std::vector<std::string> keys);
// Drops every payload: events never carry content.
PayloadFilter DropPayload();

// Where the library reports trouble it cannot return to a caller (events dropped because the
// buffer was full, events the server rejected, reconnects). Default: one line on stderr.
using DiagnosticSink = std::function<void(absl::string_view line)>;

// Everything a service sets once per process (or once per Client).
struct Config {
  // This service's name, as it appears in flows. Required.
  std::string service;
  // Which copy of the service: host or pod name. Default: the host name.
  std::string instance;
  // The utracker-server address.
  std::string server = "127.0.0.1:50051";

  // Events waiting to be sent; Log() drops (and counts) beyond this, it never blocks.
  size_t max_buffered_events = 100000;
  // ... and about this many bytes of them: what was said (name, destination, error,
  // attributes) and the content of those that carry a payload. Log() drops beyond it too.
  size_t max_buffered_bytes = 64 << 20;
  // One LogEventsRequest carries at most this many events / bytes.
  size_t max_batch_events = 1000;
  size_t max_batch_bytes = 4 << 20;
  // Requests sent but not yet acked (each is kept for resending until acked).
  size_t max_unacked_batches = 8;
  // How long the streamer waits for a batch to fill before sending what it has.
  absl::Duration batch_delay = absl::Milliseconds(5);
  // Reconnect backoff: doubles from min to max, with jitter; resets after an ack.
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // Dropped and rejected events are reported at most once per interval.
  absl::Duration report_interval = absl::Seconds(10);

  // Applied in order to a payload before it is attached to an event.
  std::vector<PayloadFilter> filters;
  // Attach the (filtered) content to SENT events without being asked (with_payload).
  bool attach_payload_on_sent = false;

  DiagnosticSink diagnostics;
};

// `base` with what the environment sets: UTRACKER_SERVICE, UTRACKER_INSTANCE,
// UTRACKER_SERVER, UTRACKER_MAX_BUFFERED_EVENTS, UTRACKER_REDACT_KEYS (comma-separated JSON
// keys for RedactJsonKeys). InvalidArgument names a variable that does not parse.
absl::StatusOr<Config> ConfigFromEnv(Config base = {});

}  // namespace utracker

#endif  // UTRACKER_CONFIG_H_
