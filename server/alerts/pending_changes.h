#ifndef UTRACKER_SERVER_ALERTS_PENDING_CHANGES_H_
#define UTRACKER_SERVER_ALERTS_PENDING_CHANGES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>

#include "storage/alert_store.h"
#include "utracker/v1/alerts.pb.h"

namespace utracker::server::alerts {

// The kind of change an alert version is: resolved, just opened (its first evaluation), or
// seen again.
v1::AlertChange::Kind ChangeKind(const v1::Alert& alert);

// The changes waiting to be written to one WatchAlerts stream. Keeps at most one version per
// alert — the latest — so a slow reader costs memory bounded by the number of distinct
// alerts that changed, never by time; hands them out oldest version first. Versions at or
// below the floor (already covered by the stream's start) are dropped. Not thread-safe: the
// stream's reactor guards it.
class PendingChanges {
 public:
  // Keeps `change` unless its alert already has a version at least as new pending.
  void Add(storage::AlertVersion change);
  // Drops what is pending at or below `version`, and anything at or below it added later.
  void SetFloor(int64_t version);
  // The oldest pending version, removed; nullopt when none.
  std::optional<storage::AlertVersion> Pop();

  bool empty() const { return by_version_.empty(); }
  size_t size() const { return by_version_.size(); }

 private:
  int64_t floor_ = 0;
  std::map<int64_t, storage::AlertVersion> by_version_;
  std::unordered_map<int64_t, int64_t> version_of_alert_;  // alert id -> its key above
};

}  // namespace utracker::server::alerts

#endif  // UTRACKER_SERVER_ALERTS_PENDING_CHANGES_H_
