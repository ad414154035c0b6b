#include "storage/inbox_batch.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/time_util.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "wire/uuid.h"

namespace utracker::server::storage {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

constexpr char kVersion = 1;

// A length (varint) and its bytes.
bool ReadText(CodedInputStream* in, std::string* out) {
  uint32_t n = 0;
  return in->ReadVarint32(&n) && in->ReadString(out, static_cast<int>(n));
}

}  // namespace

absl::StatusOr<std::string> EncodeInboxBatch(absl::Span<const v1::Event* const> events) {
  std::string out;
  out.reserve(1 + events.size() * 48);
  {
    google::protobuf::io::StringOutputStream sink(&out);
    CodedOutputStream o(&sink);
    o.WriteRaw(&kVersion, 1);
    for (const v1::Event* e : events) {
      const auto id = wire::ParseUuid(e->message_id());
      if (!id) {
        return absl::InvalidArgumentError(
            absl::StrCat("message_id: not a UUID: ", e->message_id()));
      }
      o.WriteRaw(id->data(), static_cast<int>(id->size()));
      const char kind = static_cast<char>(e->kind());
      o.WriteRaw(&kind, 1);
      // Truncated to microseconds as the events table stores it.
      o.WriteLittleEndian64(static_cast<uint64_t>(
          google::protobuf::util::TimeUtil::TimestampToMicroseconds(e->occurred_at())));
      for (const std::string* text : {&e->service(), &e->destination()}) {
        o.WriteVarint32(static_cast<uint32_t>(text->size()));
        o.WriteString(*text);
      }
    }
  }  // the stream gives back what it did not write
  return out;
}

absl::Status DecodeInboxBatch(absl::string_view payload, size_t expected,
                              std::vector<rollup::InboxEvent>* out) {
  if (payload.empty() || payload[0] != kVersion) {
    return absl::DataLossError("rollup inbox batch: unknown version");
  }
  CodedInputStream in(reinterpret_cast<const uint8_t*>(payload.data()) + 1,
                      static_cast<int>(payload.size() - 1));
  std::vector<rollup::InboxEvent> events;
  events.reserve(expected);
  while (!in.ExpectAtEnd()) {
    rollup::InboxEvent e;
    wire::UuidBytes id;
    uint8_t kind = 0;
    uint64_t micros = 0;
    if (!in.ReadRaw(id.data(), static_cast<int>(id.size())) || !in.ReadRaw(&kind, 1) ||
        !in.ReadLittleEndian64(&micros) || !ReadText(&in, &e.service) ||
        !ReadText(&in, &e.destination)) {
      return absl::DataLossError("rollup inbox batch: truncated");
    }
    e.message_id = wire::FormatUuid(id);
    e.kind = static_cast<v1::EventKind>(kind);
    e.at = static_cast<int64_t>(micros);
    events.push_back(std::move(e));
  }
  if (events.size() != expected) {
    return absl::DataLossError(absl::StrCat("rollup inbox batch: ", events.size(),
                                            " events where ", expected, " were written"));
  }
  out->insert(out->end(), std::make_move_iterator(events.begin()),
              std::make_move_iterator(events.end()));
  return absl::OkStatus();
}

}  // namespace utracker::server::storage
