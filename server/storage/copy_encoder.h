#ifndef UTRACKER_SERVER_STORAGE_COPY_ENCODER_H_
#define UTRACKER_SERVER_STORAGE_COPY_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "storage/message_rows.h"
#include "utracker/v1/event.pb.h"

namespace utracker::server::storage {

// The events table's columns, in the order EncodeEvent writes them (also the staging
// table's, used when a batch holds re-sent events).
inline constexpr const char* kEventColumns =
    "event_id, occurred_at, message_id, parent_id, root_id, depth, service, instance, kind, "
    "name, destination, attributes, error";
// The message staging table's columns, in the order EncodeMessageRow writes them.
inline constexpr const char* kMessageRowColumns =
    "id, parent_id, root_id, depth, origin_service, origin_declared, origin_sent, origin_at, "
    "first_seen_at, listed_at, content_type, content";

// PostgreSQL's binary COPY format, written into a buffer: the header at construction, then
// rows, then Finish(). Not thread-safe; one per COPY.
class BinaryCopyWriter {
 public:
  BinaryCopyWriter();

  void BeginRow(int16_t columns) { PutInt16(columns); }
  void PutNull() { PutInt32(-1); }
  // A UUID column from its text form; NULL if it does not parse (the database then refuses
  // the row, not this process).
  void PutUuid(absl::string_view text);
  void PutText(absl::string_view text);
  void PutOptionalText(absl::string_view text);  // empty -> NULL
  void PutBytes(absl::string_view bytes) { PutText(bytes); }
  void PutInt32Column(int32_t v);
  void PutBool(bool v);
  void PutTimestamp(int64_t pg_micros);
  // Appends the trailer; call once, after the last row.
  void Finish() { PutInt16(-1); }

  // Bytes ready to send; Consume() after sending them.
  absl::string_view data() const { return buffer_; }
  void Consume() { buffer_.clear(); }

 private:
  void PutInt16(int16_t v);
  void PutInt32(int32_t v);
  void PutInt64(int64_t v);

  std::string buffer_;
};

// One events-table row (kEventColumns) for a validated event.
void EncodeEvent(const v1::Event& event, BinaryCopyWriter* out);
// One message staging row (kMessageRowColumns).
void EncodeMessageRow(const MessageRow& row, BinaryCopyWriter* out);

// The PostgreSQL enum label (event_kind) of a kind.
absl::string_view EventKindLabel(v1::EventKind kind);
// The kind of an event_kind label; UNSPECIFIED for anything else.
v1::EventKind EventKindFromLabel(absl::string_view label);

// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's timestamptz in binary form.
int64_t PgTimestampMicros(const google::protobuf::Timestamp& ts);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_COPY_ENCODER_H_
