#ifndef UTRACKER_MESSAGE_H_
#define UTRACKER_MESSAGE_H_

#include <google/protobuf/message.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "utracker/v1/envelope.pb.h"
#include "utracker/v1/event.pb.h"

namespace utracker {

namespace internal {
class ClientCore;
}  // namespace internal

using EventKind = v1::EventKind;
inline constexpr EventKind kSent = v1::EVENT_KIND_SENT;
inline constexpr EventKind kReceived = v1::EVENT_KIND_RECEIVED;
inline constexpr EventKind kProcessed = v1::EVENT_KIND_PROCESSED;
inline constexpr EventKind kFailed = v1::EVENT_KIND_FAILED;
inline constexpr EventKind kNote = v1::EVENT_KIND_NOTE;
inline constexpr EventKind kReplayed = v1::EVENT_KIND_REPLAYED;

inline constexpr absl::string_view kOctetStream = "application/octet-stream";
inline constexpr absl::string_view kJson = "application/json";

// What to say about a message in one event.
struct LogOptions {
  // Free text, like the seed's 'sending_content'.
  std::string name;
  // Queue, topic or target service (for SENT).
  std::string destination;
  std::map<std::string, std::string> attributes;
  // Why it failed (for FAILED).
  std::string error;
  // Attach the message content, after the configured filters (needed for replay).
  bool with_payload = false;
  // Never attach the content to this event, whatever else says so (the seed's option).
  bool hide_payload = false;
};

// A message wrapped in its envelope: a UUIDv7 id that survives serialisation, lineage (parent,
// root, depth), origin, and the content. Cheap to copy (the envelope and the client it logs
// through are shared, the envelope is immutable). Logging never blocks and never throws.
//
//   auto m = utracker::Message::PackJson(R"({"command":"list","target":"posts"})");
//   queue.push(m.ToJson());
//   utracker::LogOptions sent;
//   sent.destination = "bob";
//   m.Log(utracker::kSent, sent);
//   ...
//   auto got = utracker::Message::Unpack(queue.pop());   // in bob
//   if (got.ok()) got->Log("processing_content");
//   auto reply = got->PackChild("posts: ...");             // same root, depth + 1
class Message {
 public:
  // New root messages, logged through the process-wide client (utracker::Configure).
  static Message Pack(absl::string_view content, absl::string_view content_type = kOctetStream);
  static Message Pack(const google::protobuf::Message& content);
  static Message PackJson(absl::string_view json);

  // Reads an envelope serialised with ToBytes() (binary protobuf) or ToJson(). Garbage gives
  // InvalidArgument saying why, never an exception or a crash.
  static absl::StatusOr<Message> Unpack(absl::string_view serialized);
  // Rebuilds a message from the header-only form (ToHeaders) and the untouched payload.
  static absl::StatusOr<Message> FromHeaders(const std::map<std::string, std::string>& headers,
                                             std::string content,
                                             absl::string_view content_type = kOctetStream);

  // A child of this message: parent_id = id(), the same root_id, depth + 1, logged through
  // the same client. (C++ cannot overload the static Pack with a member of the same
  // parameters, hence the name. Note that `message.Pack(...)` still compiles — it calls the
  // static form and makes a new root.)
  Message PackChild(absl::string_view content, absl::string_view content_type = kOctetStream) const;
  Message PackChild(const google::protobuf::Message& content) const;
  Message PackChildJson(absl::string_view json) const;

  const std::string& id() const { return envelope_->id(); }
  const std::string& parent_id() const { return envelope_->parent_id(); }
  const std::string& root_id() const { return envelope_->root_id(); }
  uint32_t depth() const { return envelope_->depth(); }
  bool is_root() const { return envelope_->parent_id().empty(); }
  const std::string& origin_service() const { return envelope_->origin_service(); }
  absl::Time created_at() const;
  const std::string& content() const { return envelope_->content(); }
  const std::string& content_type() const { return envelope_->content_type(); }
  // Parses protobuf content into `out`; InvalidArgument if it does not parse.
  absl::Status ContentAs(google::protobuf::Message* out) const;
  const v1::Envelope& envelope() const { return *envelope_; }

  std::string ToBytes() const;  // binary protobuf
  std::string ToJson() const;   // canonical protobuf JSON (content base64)
  // The header-only form for brokers whose payload must stay untouched: utracker-id,
  // utracker-parent-id, utracker-root-id, utracker-depth, utracker-origin,
  // utracker-created-at (RFC 3339). Empty values are left out.
  std::map<std::string, std::string> ToHeaders() const;

  // A free-text event (kind NOTE), like the seed's message.log('sending_content').
  void Log(absl::string_view text) const;
  void Log(EventKind kind, const LogOptions& options = {}) const;

 private:
  friend class Client;
  friend class internal::ClientCore;
  Message(v1::Envelope envelope, std::shared_ptr<internal::ClientCore> client);
  Message(std::shared_ptr<const v1::Envelope> envelope,
          std::shared_ptr<internal::ClientCore> client);

  // Immutable and shared: copies of a Message and the events queued about it point here.
  std::shared_ptr<const v1::Envelope> envelope_;
  std::shared_ptr<internal::ClientCore> client_;  // may be null: logging is then dropped
};

}  // namespace utracker

#endif  // UTRACKER_MESSAGE_H_
