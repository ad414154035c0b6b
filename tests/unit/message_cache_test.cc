#include <gtest/gtest.h>

#include "storage/copy_encoder.h"
#include "storage/message_cache.h"
#include "support/event_factory.h"
#include "wire/uuid.h"

namespace utracker::server::storage {
namespace {

const absl::Time t0 = absl::FromUnixSeconds(1764288000);
using V = MessageCache::Verdict;

MessageRow Row(const v1::Event& e) {
  std::vector<const v1::Event*> one = {&e};
  return BuildMessageRows(one)[0];
}

TEST(MessageCache, SkipsOnlyRowsThatCannotChangeTheStoredOne) {
  MessageCache cache(100);
  const std::string id = wire::NewUuidV7();
  v1::Event sent = testing::MakeEvent(id, "alice", v1::EVENT_KIND_SENT, t0);
  EXPECT_EQ(cache.Judge(Row(sent)), V::kNew) << "unknown messages are always written";
  cache.Remember(Row(sent));

  v1::Event later = testing::MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, t0 + absl::Seconds(1));
  EXPECT_EQ(V::kNothingNew, cache.Judge(Row(later))) << "a later handler event changes nothing";
  v1::Event earlier = testing::MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, t0 - absl::Seconds(1));
  EXPECT_EQ(V::kImproves, cache.Judge(Row(earlier))) << "an earlier first sight does";
  v1::Event declared = later;
  declared.set_origin_service("alice");
  EXPECT_EQ(V::kImproves, cache.Judge(Row(declared))) << "a declared author beats an inferred one";
  v1::Event content = later;
  content.set_content("payload");
  EXPECT_EQ(V::kImproves, cache.Judge(Row(content))) << "content where there was none";

  cache.Remember(Row(declared));
  v1::Event another_sent = testing::MakeEvent(id, "relay", v1::EVENT_KIND_SENT, t0 - absl::Hours(1));
  EXPECT_EQ(V::kImproves, cache.Judge(Row(another_sent))) << "earlier first sight";
  another_sent.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(t0) + 5);
  EXPECT_EQ(V::kNothingNew, cache.Judge(Row(another_sent))) << "a SENT cannot beat a declared author";
}

TEST(MessageCache, BoundedByTwoGenerations) {
  MessageCache cache(10);
  std::vector<v1::Event> events;
  for (int i = 0; i < 35; ++i) {
    events.push_back(testing::MakeEvent(wire::NewUuidV7(), "a", v1::EVENT_KIND_SENT, t0));
    cache.Remember(Row(events.back()));
  }
  EXPECT_LE(cache.size(), 20u);
  EXPECT_EQ(V::kNothingNew, cache.Judge(Row(events.back())));  // recent: remembered
  EXPECT_EQ(cache.Judge(Row(events.front())), V::kNew);  // forgotten: written again (harmless)
}

}  // namespace
}  // namespace utracker::server::storage
