#include "storage/copy_encoder.h"

#include "absl/strings/str_format.h"
#include "wire/uuid.h"

namespace utracker::server::storage {
namespace {

constexpr int16_t kEventColumnCount = 13;
constexpr int16_t kMessageRowColumnCount = 12;
constexpr int64_t kPgEpochUnixSeconds = 946684800;  // 2000-01-01T00:00:00Z
constexpr uint8_t kJsonbVersion = 1;

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void PutAttributes(const v1::Event& event, BinaryCopyWriter* out) {
  if (event.attributes().empty()) return out->PutNull();
  std::string json(1, static_cast<char>(kJsonbVersion));
  json.push_back('{');
  bool first = true;
  for (const auto& [key, value] : event.attributes()) {
    if (!first) json.push_back(',');
    first = false;
    AppendJsonString(&json, key);
    json.push_back(':');
    AppendJsonString(&json, value);
  }
  json.push_back('}');
  out->PutText(json);
}

// message_id, parent_id (NULL for a root), root_id, depth: the same four columns in events
// and messages rows.
void PutLineage(const v1::Event& e, BinaryCopyWriter* out) {
  out->PutUuid(e.message_id());
  if (e.parent_id().empty()) {
    out->PutNull();
  } else {
    out->PutUuid(e.parent_id());
  }
  out->PutUuid(e.root_id().empty() ? e.message_id() : e.root_id());
  out->PutInt32Column(static_cast<int32_t>(e.depth()));
}

}  // namespace

absl::string_view EventKindLabel(v1::EventKind kind) {
  switch (kind) {
    case v1::EVENT_KIND_SENT:
      return "sent";
    case v1::EVENT_KIND_RECEIVED:
      return "received";
    case v1::EVENT_KIND_PROCESSED:
      return "processed";
    case v1::EVENT_KIND_FAILED:
      return "failed";
    case v1::EVENT_KIND_NOTE:
      return "note";
    case v1::EVENT_KIND_REPLAYED:
      return "replayed";
    default:
      return "";
  }
}

v1::EventKind EventKindFromLabel(absl::string_view label) {
  for (v1::EventKind k : {v1::EVENT_KIND_SENT, v1::EVENT_KIND_RECEIVED, v1::EVENT_KIND_PROCESSED,
                          v1::EVENT_KIND_FAILED, v1::EVENT_KIND_NOTE, v1::EVENT_KIND_REPLAYED}) {
    if (EventKindLabel(k) == label) return k;
  }
  return v1::EVENT_KIND_UNSPECIFIED;
}

int64_t PgTimestampMicros(const google::protobuf::Timestamp& ts) {
  return (ts.seconds() - kPgEpochUnixSeconds) * 1000000 + ts.nanos() / 1000;
}

BinaryCopyWriter::BinaryCopyWriter() {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // + its terminating NUL
  buffer_.append(kSignature, sizeof(kSignature));
  PutInt32(0);  // flags
  PutInt32(0);  // header extension length
}

void BinaryCopyWriter::PutInt16(int16_t v) {
  const auto u = static_cast<uint16_t>(v);
  buffer_.push_back(static_cast<char>(u >> 8));
  buffer_.push_back(static_cast<char>(u));
}

void BinaryCopyWriter::PutInt32(int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) buffer_.push_back(static_cast<char>(u >> shift));
}

void BinaryCopyWriter::PutInt64(int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) buffer_.push_back(static_cast<char>(u >> shift));
}

void BinaryCopyWriter::PutUuid(absl::string_view text) {
  const auto bytes = wire::ParseUuid(text);
  if (!bytes) return PutNull();
  PutInt32(16);
  buffer_.append(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

void BinaryCopyWriter::PutText(absl::string_view text) {
  PutInt32(static_cast<int32_t>(text.size()));
  buffer_.append(text.data(), text.size());
}

void BinaryCopyWriter::PutOptionalText(absl::string_view text) {
  if (text.empty()) return PutNull();
  PutText(text);
}

void BinaryCopyWriter::PutInt32Column(int32_t v) {
  PutInt32(4);
  PutInt32(v);
}

void BinaryCopyWriter::PutBool(bool v) {
  PutInt32(1);
  buffer_.push_back(v ? 1 : 0);
}

void BinaryCopyWriter::PutTimestamp(int64_t pg_micros) {
  PutInt32(8);
  PutInt64(pg_micros);
}

void EncodeEvent(const v1::Event& e, BinaryCopyWriter* out) {
  out->BeginRow(kEventColumnCount);
  out->PutUuid(e.event_id());
  out->PutTimestamp(PgTimestampMicros(e.occurred_at()));
  PutLineage(e, out);
  out->PutText(e.service());
  out->PutOptionalText(e.instance());
  out->PutText(EventKindLabel(e.kind()));
  out->PutOptionalText(e.name());
  out->PutOptionalText(e.destination());
  PutAttributes(e, out);
  out->PutOptionalText(e.error());
}

void EncodeMessageRow(const MessageRow& r, BinaryCopyWriter* out) {
  const v1::Event& e = *r.first;
  out->BeginRow(kMessageRowColumnCount);
  PutLineage(e, out);
  out->PutText(r.origin_service);
  out->PutBool(r.origin_declared);
  out->PutBool(r.origin_sent);
  out->PutTimestamp(r.origin_at);
  out->PutTimestamp(r.first_seen_at);
  out->PutTimestamp(r.first_seen_at);  // listed_at: kept by every later write (kUpsertMessages)
  if (r.content == nullptr) {
    out->PutNull();
    out->PutNull();
  } else {
    out->PutOptionalText(r.content->content_type());
    out->PutBytes(r.content->content());
  }
}

}  // namespace utracker::server::storage
