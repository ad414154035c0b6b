#ifndef UTRACKER_CLIENT_SRC_CLIENT_CORE_H_
#define UTRACKER_CLIENT_SRC_CLIENT_CORE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "streamer.h"
#include "utracker/config.h"
#include "utracker/message.h"

namespace utracker::internal {

// What a Client and its Messages share: the configuration and the streamer. Turns
// Message::Log calls into events. Thread-safe.
class ClientCore {
 public:
  // Makes a core whose streamer writes to `sink`; a null sink gives a disabled core that
  // drops every event (no Configure yet).
  ClientCore(Config config, std::unique_ptr<client::internal::EventSink> sink);

  const Config& config() const { return config_; }
  client::internal::Streamer* streamer() { return streamer_.get(); }

  // A new envelope of this service: UUIDv7 id, created now; lineage from `parent` if given.
  v1::Envelope NewEnvelope(const v1::Envelope* parent, std::string content,
                           absl::string_view content_type) const;

  // Hands what was said to the streamer (the event itself is built by its worker, see
  // BuildEvent). Never blocks on I/O, never throws.
  void Log(std::shared_ptr<const v1::Envelope> envelope, EventKind kind, const LogOptions& options);

  // The streamer's EventBuilder: lineage from the envelope, this service and instance, a
  // UUIDv7 event id for the time Log was called, text sanitised, payload filtered if asked.
  void BuildEvent(client::internal::PendingEvent& pending, v1::Event* out);

  uint64_t payloads_dropped() const { return payloads_dropped_.load(); }

 private:
  // The content after every filter, or nullopt if a filter failed or threw.
  std::optional<std::string> FilterPayload(const v1::Envelope& envelope);

  const Config config_;
  std::atomic<uint64_t> payloads_dropped_{0};
  std::atomic<bool> warned_disabled_{false};
  // Last: its worker calls BuildEvent until the streamer is destroyed.
  std::unique_ptr<client::internal::Streamer> streamer_;
};

// The process-wide client's core, or a disabled one (drops events) before Configure.
// Defined in client.cc.
std::shared_ptr<ClientCore> DefaultCore();

}  // namespace utracker::internal

#endif  // UTRACKER_CLIENT_SRC_CLIENT_CORE_H_
