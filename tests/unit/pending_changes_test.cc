#include "alerts/pending_changes.h"

#include <gtest/gtest.h>

#include "alerts/alert_feed.h"

namespace utracker::server::alerts {
namespace {

storage::AlertVersion Version(int64_t id, int64_t version, int64_t evaluations = 1,
                              bool resolved = false) {
  storage::AlertVersion v;
  v.version = version;
  v.alert.set_id(id);
  v.alert.set_evaluations(evaluations);
  if (resolved) v.alert.mutable_resolved_at()->set_seconds(1);
  return v;
}

std::vector<std::pair<int64_t, int64_t>> Drain(PendingChanges& p) {
  std::vector<std::pair<int64_t, int64_t>> out;  // (alert id, version)
  while (auto v = p.Pop()) out.emplace_back(v->alert.id(), v->version);
  return out;
}

TEST(PendingChanges, KeepsOnlyTheLatestVersionOfEachAlertInVersionOrder) {
  PendingChanges p;
  p.Add(Version(1, 10));
  p.Add(Version(2, 11));
  p.Add(Version(1, 12));
  p.Add(Version(3, 13));
  p.Add(Version(2, 14));
  p.Add(Version(1, 9));  // older than what is pending: ignored
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(Drain(p), (std::vector<std::pair<int64_t, int64_t>>{{1, 12}, {3, 13}, {2, 14}}));
  EXPECT_TRUE(p.empty());
}

TEST(PendingChanges, MemoryIsBoundedByDistinctAlertsNotByChanges) {
  PendingChanges p;
  int64_t version = 0;
  for (int round = 0; round < 10000; ++round) {
    for (int64_t id = 1; id <= 5; ++id) p.Add(Version(id, ++version, round + 1));
  }
  EXPECT_EQ(p.size(), 5u);
  auto first = p.Pop();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->version, version - 4);
  EXPECT_EQ(first->alert.evaluations(), 10000);
}

TEST(PendingChanges, FloorDropsWhatTheStartAlreadyCovers) {
  PendingChanges p;
  p.Add(Version(1, 5));
  p.Add(Version(2, 7));
  p.Add(Version(3, 9));
  p.SetFloor(7);
  p.Add(Version(4, 6));  // at or below the floor: dropped
  p.Add(Version(1, 8));  // alert 1 again, newer than the floor
  EXPECT_EQ(Drain(p), (std::vector<std::pair<int64_t, int64_t>>{{1, 8}, {3, 9}}));
  p.SetFloor(3);  // never moves back
  p.Add(Version(5, 4));
  EXPECT_TRUE(p.empty());
}

TEST(PendingChanges, KindFollowsResolutionAndEvaluations) {
  EXPECT_EQ(ChangeKind(Version(1, 1, 1).alert), v1::AlertChange::KIND_OPENED);
  EXPECT_EQ(ChangeKind(Version(1, 2, 2).alert), v1::AlertChange::KIND_UPDATED);
  EXPECT_EQ(ChangeKind(Version(1, 3, 1, true).alert), v1::AlertChange::KIND_RESOLVED);
  EXPECT_EQ(ChangeKind(Version(1, 4, 7, true).alert), v1::AlertChange::KIND_RESOLVED);
}

}  // namespace
}  // namespace utracker::server::alerts
