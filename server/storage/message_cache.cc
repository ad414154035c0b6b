#include "storage/message_cache.h"

#include <tuple>

namespace utracker::server::storage {
namespace {

std::tuple<bool, bool, int64_t> Rank(bool declared, bool sent, int64_t at) {
  return {!declared, !sent, at};
}

}  // namespace

const MessageCache::Known* MessageCache::Find(const wire::UuidBytes& id) {
  if (auto it = current_.find(id); it != current_.end()) return &it->second;
  if (auto it = previous_.find(id); it != previous_.end()) return &it->second;
  return nullptr;
}

MessageCache::Verdict MessageCache::Judge(const MessageRow& row) {
  const auto id = wire::ParseUuid(row.first->message_id());
  if (!id) return Verdict::kNew;
  std::lock_guard<std::mutex> lock(mu_);
  const Known* k = Find(*id);
  if (k == nullptr) return Verdict::kNew;
  const bool improves = Rank(row.origin_declared, row.origin_sent, row.origin_at) <
                            Rank(k->declared, k->sent, k->origin_at) ||
                        row.first_seen_at < k->first_seen_at ||
                        (row.content != nullptr && !k->has_content);
  return improves ? Verdict::kImproves : Verdict::kNothingNew;
}

void MessageCache::Remember(const MessageRow& row) {
  const auto id = wire::ParseUuid(row.first->message_id());
  if (!id) return;
  std::lock_guard<std::mutex> lock(mu_);
  Known merged;
  merged.declared = row.origin_declared;
  merged.sent = row.origin_sent;
  merged.origin_at = row.origin_at;
  merged.first_seen_at = row.first_seen_at;
  merged.has_content = row.content != nullptr;
  if (const Known* k = Find(*id)) {
    if (Rank(k->declared, k->sent, k->origin_at) <
        Rank(merged.declared, merged.sent, merged.origin_at)) {
      merged.declared = k->declared;
      merged.sent = k->sent;
      merged.origin_at = k->origin_at;
    }
    merged.first_seen_at = std::min(merged.first_seen_at, k->first_seen_at);
    merged.has_content = merged.has_content || k->has_content;
  }
  if (current_.size() >= capacity_ && current_.find(*id) == current_.end()) {
    previous_ = std::move(current_);
    current_ = {};
  }
  current_[*id] = merged;
}

size_t MessageCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return current_.size() + previous_.size();
}

}  // namespace utracker::server::storage
