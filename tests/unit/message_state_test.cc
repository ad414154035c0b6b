#include "query/message_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/event_factory.h"

namespace utracker::server::query {
namespace {

const absl::Time t0 = absl::FromUnixSeconds(1764288000);

EventFact F(v1::EventKind k, int sec, const char* service) {
  return {k, t0 + absl::Seconds(sec), service};
}

// The state must be the same for every arrival order of the same events.
v1::MessageState StateForAllOrders(std::vector<EventFact> events, const std::string& author) {
  std::sort(events.begin(), events.end(), [](const EventFact& a, const EventFact& b) {
    return std::make_pair(a.at, static_cast<int>(a.kind)) <
           std::make_pair(b.at, static_cast<int>(b.kind));
  });
  const v1::MessageState first = DeriveState(events, author);
  do {
    EXPECT_EQ(DeriveState(events, author), first);
  } while (std::next_permutation(events.begin(), events.end(),
                                 [](const EventFact& a, const EventFact& b) {
                                   return std::make_pair(a.at, static_cast<int>(a.kind)) <
                                          std::make_pair(b.at, static_cast<int>(b.kind));
                                 }));
  return first;
}

using K = v1::EventKind;

TEST(MessageState, Basics) {
  EXPECT_EQ(DeriveState({}, "alice"), v1::MESSAGE_STATE_UNSPECIFIED);
  EXPECT_EQ(StateForAllOrders({F(K::EVENT_KIND_SENT, 0, "alice")}, "alice"),
            v1::MESSAGE_STATE_IN_FLIGHT);
  EXPECT_EQ(StateForAllOrders(
                {F(K::EVENT_KIND_SENT, 0, "alice"), F(K::EVENT_KIND_RECEIVED, 1, "bob")}, "alice"),
            v1::MESSAGE_STATE_RECEIVED);
  EXPECT_EQ(
      StateForAllOrders({F(K::EVENT_KIND_SENT, 0, "alice"), F(K::EVENT_KIND_RECEIVED, 1, "bob"),
                         F(K::EVENT_KIND_PROCESSED, 2, "bob")},
                        "alice"),
      v1::MESSAGE_STATE_PROCESSED);
  EXPECT_EQ(
      StateForAllOrders({F(K::EVENT_KIND_SENT, 0, "alice"), F(K::EVENT_KIND_RECEIVED, 1, "bob"),
                         F(K::EVENT_KIND_FAILED, 2, "bob")},
                        "alice"),
      v1::MESSAGE_STATE_FAILED);
}

TEST(MessageState, FailedThenProcessedIsProcessedButNotTheOtherWayRound) {
  EXPECT_EQ(StateForAllOrders({F(K::EVENT_KIND_SENT, 0, "alice"), F(K::EVENT_KIND_FAILED, 1, "bob"),
                               F(K::EVENT_KIND_PROCESSED, 2, "bob")},
                              "alice"),
            v1::MESSAGE_STATE_PROCESSED);
  EXPECT_EQ(
      StateForAllOrders({F(K::EVENT_KIND_SENT, 0, "alice"), F(K::EVENT_KIND_PROCESSED, 1, "bob"),
                         F(K::EVENT_KIND_FAILED, 2, "carl")},
                        "alice"),
      v1::MESSAGE_STATE_FAILED);
}

TEST(MessageState, ReplayStartsANewRound) {
  EXPECT_EQ(StateForAllOrders({F(K::EVENT_KIND_SENT, 0, "alice"), F(K::EVENT_KIND_FAILED, 1, "bob"),
                               F(K::EVENT_KIND_REPLAYED, 5, "utracker")},
                              "alice"),
            v1::MESSAGE_STATE_IN_FLIGHT);
  EXPECT_EQ(StateForAllOrders(
                {F(K::EVENT_KIND_SENT, 0, "alice"), F(K::EVENT_KIND_FAILED, 1, "bob"),
                 F(K::EVENT_KIND_REPLAYED, 5, "utracker"), F(K::EVENT_KIND_RECEIVED, 6, "bob")},
                "alice"),
            v1::MESSAGE_STATE_RECEIVED);
}

TEST(MessageState, SeedStyleNotesFromAnotherServiceMeanHandled) {
  // The seed logs free text only: alice 'sending_content', bob 'processing_content'.
  EXPECT_EQ(StateForAllOrders({F(K::EVENT_KIND_NOTE, 0, "alice")}, "alice"),
            v1::MESSAGE_STATE_IN_FLIGHT);
  EXPECT_EQ(StateForAllOrders({F(K::EVENT_KIND_NOTE, 0, "alice"), F(K::EVENT_KIND_NOTE, 1, "bob")},
                              "alice"),
            v1::MESSAGE_STATE_RECEIVED);
}

TEST(MessageState, DeriveMessageFactsFillsHopTimingsAndHandlers) {
  v1::TrackedMessage m;
  m.set_id("0190a1a0-0000-7000-8000-0000000000aa");
  m.set_origin_service("alice");
  *m.add_events() =
      testing::MakeEvent(m.id(), "bob", v1::EVENT_KIND_PROCESSED, t0 + absl::Milliseconds(2500));
  *m.add_events() = testing::MakeEvent(m.id(), "alice", v1::EVENT_KIND_SENT, t0);
  *m.add_events() =
      testing::MakeEvent(m.id(), "bob", v1::EVENT_KIND_RECEIVED, t0 + absl::Milliseconds(1500));
  DeriveMessageFacts(m);
  EXPECT_EQ(m.state(), v1::MESSAGE_STATE_PROCESSED);
  EXPECT_EQ(m.sent_at().seconds(), absl::ToUnixSeconds(t0));
  EXPECT_EQ(m.send_to_receive().seconds(), 1);
  EXPECT_EQ(m.send_to_receive().nanos(), 500000000);
  EXPECT_EQ(m.receive_to_process().seconds(), 1);
  EXPECT_EQ(m.receive_to_process().nanos(), 0);
  ASSERT_EQ(m.handlers_size(), 1);
  EXPECT_EQ(m.handlers(0), "bob");
}

}  // namespace
}  // namespace utracker::server::query
