#ifndef UTRACKER_CLIENT_H_
#define UTRACKER_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "utracker/config.h"
#include "utracker/message.h"

namespace utracker {

namespace internal {
std::shared_ptr<ClientCore> DefaultCore();
}  // namespace internal

// Counters of one client since it started.
struct Stats {
  uint64_t logged = 0;            // events handed to the streamer
  uint64_t dropped = 0;           // events dropped: the buffer was full (events or bytes)
  uint64_t sent = 0;              // events written to a stream (resends included)
  uint64_t acked = 0;             // events the server committed
  uint64_t rejected = 0;          // events the server refused (with a reason; never resent)
  uint64_t payloads_dropped = 0;  // payloads a filter refused or that were too large
  uint64_t reconnects = 0;        // streams opened (the first one included)
  uint64_t buffered = 0;       // waiting to be sent now
  uint64_t unacked = 0;        // sent, waiting for an ack now
  std::string last_rejection;  // the last reason the server gave
};

// One service's connection to micro-tracker: its configuration, the background streamer
// that batches events onto a long-lived LogEvents stream, retries with backoff and resends
// what was not acked. Most services use the process-wide one (Configure + Message::Pack);
// a process hosting several services (tests, the alice/bob/carl demo) makes one per service.
// Thread-safe. Destroying the last reference shuts it down (see Shutdown).
class Client {
 public:
  static absl::StatusOr<std::shared_ptr<Client>> Create(Config config);
  ~Client();

  Message Pack(absl::string_view content, absl::string_view content_type = kOctetStream);
  Message Pack(const google::protobuf::Message& content);
  Message PackJson(absl::string_view json);
  // As Message::Unpack / FromHeaders, but the message logs through this client.
  absl::StatusOr<Message> Unpack(absl::string_view serialized);
  absl::StatusOr<Message> FromHeaders(const std::map<std::string, std::string>& headers,
                                      std::string content,
                                      absl::string_view content_type = kOctetStream);

  // Waits until everything logged before the call is acked (OK) or `timeout` passes
  // (DeadlineExceeded, saying how many events are still waiting).
  absl::Status Flush(absl::Duration timeout);
  // Tries to deliver what is queued within `timeout`, then stops the streamer; later Log
  // calls are dropped. Idempotent.
  void Shutdown(absl::Duration timeout);

  Stats stats() const;
  const Config& config() const;

 private:
  friend std::shared_ptr<internal::ClientCore> internal::DefaultCore();
  explicit Client(std::shared_ptr<internal::ClientCore> core);
  std::shared_ptr<internal::ClientCore> core_;
};

// The process-wide client used by Message::Pack/Unpack. Configure once, early; configuring
// again replaces it (the old one is shut down with a 5 s flush). Before Configure, messages
// pack and unpack but their events are dropped (counted, reported once).
absl::Status Configure(Config config);
// The process-wide client, or null before Configure.
std::shared_ptr<Client> DefaultClient();
// Flush / Shutdown the process-wide client (no-ops without one).
absl::Status Flush(absl::Duration timeout);
void Shutdown(absl::Duration timeout);

}  // namespace utracker

#endif  // UTRACKER_CLIENT_H_
