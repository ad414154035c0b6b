#ifndef UTRACKER_SERVER_STORAGE_COPY_ENCODER_H_
#define UTRACKER_SERVER_STORAGE_COPY_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "utracker/v1/event.pb.h"

namespace utracker::server::storage {

// The staging table's columns, in the order EventCopyEncoder writes them.
inline constexpr const char* kStagingColumns =
    "event_id, occurred_at, message_id, parent_id, root_id, depth, service, instance, kind, "
    "name, destination, attributes, error, content_type, content, origin_service";

// Writes events as PostgreSQL binary COPY rows for the staging table (kStagingColumns).
// Expects validated events (UUIDs parse, text is UTF-8 without NUL); an unparsable UUID is
// written as NULL so the database, not this process, refuses the row. Empty optional text
// is written as NULL. Not thread-safe; one per COPY.
class EventCopyEncoder {
 public:
  EventCopyEncoder();

  void Append(const v1::Event& event);
  // Appends the trailer; call once, after the last row.
  void Finish();

  // Bytes ready to send; Consume() after sending them.
  absl::string_view data() const { return buffer_; }
  void Consume() { buffer_.clear(); }

 private:
  void PutInt16(int16_t v);
  void PutInt32(int32_t v);
  void PutInt64(int64_t v);
  void PutNull() { PutInt32(-1); }
  void PutUuid(absl::string_view text);
  void PutText(absl::string_view text);
  void PutOptionalText(absl::string_view text);
  void PutAttributes(const v1::Event& event);

  std::string buffer_;
};

// The PostgreSQL enum label (event_kind) of a kind.
absl::string_view EventKindLabel(v1::EventKind kind);

// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's timestamptz in binary form.
int64_t PgTimestampMicros(const google::protobuf::Timestamp& ts);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_COPY_ENCODER_H_
