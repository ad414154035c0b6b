#include "storage/inbox_batch.h"

#include <google/protobuf/util/time_util.h>

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "wire/uuid.h"

namespace utracker::server::storage {
namespace {

constexpr char kVersion = 1;

void PutLength(size_t n, std::string* out) {
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
}

void PutText(absl::string_view text, std::string* out) {
  PutLength(text.size(), out);
  out->append(text.data(), text.size());
}

// Reads from the front of `in`, consuming what it reads; false when `in` is too short.
class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}

  bool empty() const { return in_.empty(); }

  bool Bytes(size_t n, absl::string_view* out) {
    if (in_.size() < n) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Length(size_t* n) {
    *n = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (in_.empty()) return false;
      const auto byte = static_cast<unsigned char>(in_[0]);
      in_.remove_prefix(1);
      *n |= static_cast<size_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Text(std::string* out) {
    size_t n = 0;
    absl::string_view bytes;
    if (!Length(&n) || !Bytes(n, &bytes)) return false;
    out->assign(bytes.data(), bytes.size());
    return true;
  }

 private:
  absl::string_view in_;
};

}  // namespace

absl::StatusOr<std::string> EncodeInboxBatch(absl::Span<const v1::Event* const> events) {
  std::string out;
  out.reserve(1 + events.size() * 48);
  out.push_back(kVersion);
  for (const v1::Event* e : events) {
    const auto id = wire::ParseUuid(e->message_id());
    if (!id) {
      return absl::InvalidArgumentError(
          absl::StrCat("message_id: not a UUID: ", e->message_id()));
    }
    out.append(reinterpret_cast<const char*>(id->data()), id->size());
    out.push_back(static_cast<char>(e->kind()));
    // Truncated to microseconds as the events table stores it.
    const auto micros = static_cast<uint64_t>(
        google::protobuf::util::TimeUtil::TimestampToMicroseconds(e->occurred_at()));
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(micros >> (8 * i)));
    PutText(e->service(), &out);
    PutText(e->destination(), &out);
  }
  return out;
}

absl::Status DecodeInboxBatch(absl::string_view payload, size_t expected,
                              std::vector<rollup::InboxEvent>* out) {
  if (payload.empty() || payload[0] != kVersion) {
    return absl::DataLossError("rollup inbox batch: unknown version");
  }
  Reader in(payload.substr(1));
  std::vector<rollup::InboxEvent> events;
  events.reserve(expected);
  while (!in.empty()) {
    rollup::InboxEvent e;
    absl::string_view id, kind, at;
    if (!in.Bytes(16, &id) || !in.Bytes(1, &kind) || !in.Bytes(8, &at) || !in.Text(&e.service) ||
        !in.Text(&e.destination)) {
      return absl::DataLossError("rollup inbox batch: truncated");
    }
    wire::UuidBytes bytes;
    std::memcpy(bytes.data(), id.data(), bytes.size());
    e.message_id = wire::FormatUuid(bytes);
    e.kind = static_cast<v1::EventKind>(static_cast<unsigned char>(kind[0]));
    uint64_t micros = 0;
    for (int i = 0; i < 8; ++i) {
      micros |= static_cast<uint64_t>(static_cast<unsigned char>(at[i])) << (8 * i);
    }
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
