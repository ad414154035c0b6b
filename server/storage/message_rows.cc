#include "storage/message_rows.h"

#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "storage/copy_encoder.h"

namespace utracker::server::storage {
namespace {

bool HasContent(const v1::Event& e) { return !e.content().empty() || !e.content_type().empty(); }

// Smaller is a better author candidate.
std::tuple<bool, bool, int64_t> Rank(bool declared, bool sent, int64_t at) {
  return {!declared, !sent, at};
}

}  // namespace

std::vector<MessageRow> BuildMessageRows(absl::Span<const v1::Event* const> events) {
  std::vector<MessageRow> rows;
  absl::flat_hash_map<absl::string_view, size_t> index;
  index.reserve(events.size());
  for (const v1::Event* e : events) {
    const int64_t at = PgTimestampMicros(e->occurred_at());
    const bool declared = !e->origin_service().empty();
    const bool sent = e->kind() == v1::EVENT_KIND_SENT;
    auto [it, added] = index.try_emplace(e->message_id(), rows.size());
    if (added) {
      MessageRow r;
      r.first = e;
      r.origin_service = declared ? e->origin_service() : e->service();
      r.origin_declared = declared;
      r.origin_sent = sent;
      r.origin_at = at;
      r.first_seen_at = at;
      if (HasContent(*e)) r.content = e;
      rows.push_back(std::move(r));
      continue;
    }
    MessageRow& r = rows[it->second];
    if (Rank(declared, sent, at) < Rank(r.origin_declared, r.origin_sent, r.origin_at)) {
      r.origin_service = declared ? e->origin_service() : e->service();
      r.origin_declared = declared;
      r.origin_sent = sent;
      r.origin_at = at;
    }
    if (at < r.first_seen_at) r.first_seen_at = at;
    if (HasContent(*e) &&
        (r.content == nullptr || at < PgTimestampMicros(r.content->occurred_at()))) {
      r.content = e;
    }
  }
  return rows;
}

}  // namespace utracker::server::storage
