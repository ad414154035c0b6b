#include "alerts/pending_changes.h"

#include <utility>

namespace utracker::server::alerts {

v1::AlertChange::Kind ChangeKind(const v1::Alert& alert) {
  if (alert.has_resolved_at()) return v1::AlertChange::KIND_RESOLVED;
  if (alert.evaluations() <= 1) return v1::AlertChange::KIND_OPENED;
  return v1::AlertChange::KIND_UPDATED;
}

void PendingChanges::Add(storage::AlertVersion change) {
  if (change.version <= floor_) return;
  const int64_t id = change.alert.id();
  auto it = version_of_alert_.find(id);
  if (it != version_of_alert_.end()) {
    if (it->second >= change.version) return;
    by_version_.erase(it->second);
    it->second = change.version;
  } else {
    version_of_alert_.emplace(id, change.version);
  }
  const int64_t version = change.version;
  by_version_.emplace(version, std::move(change));
}

void PendingChanges::SetFloor(int64_t version) {
  if (version <= floor_) return;
  floor_ = version;
  while (!by_version_.empty() && by_version_.begin()->first <= floor_) {
    version_of_alert_.erase(by_version_.begin()->second.alert.id());
    by_version_.erase(by_version_.begin());
  }
}

std::optional<storage::AlertVersion> PendingChanges::Pop() {
  if (by_version_.empty()) return std::nullopt;
  auto node = by_version_.extract(by_version_.begin());
  version_of_alert_.erase(node.mapped().alert.id());
  return std::move(node.mapped());
}

}  // namespace utracker::server::alerts
