#include "query/message_state.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
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

// Times and hops are set in place; they must equal TimeUtil's conversions, also before 1970
// (nanos stay non-negative) and for a hop that goes backwards (a handler's clock behind the
// sender's: seconds and nanos both negative).
TEST(MessageState, DeriveMessageFactsTimesMatchTimeUtilAroundTheEpoch) {
  using google::protobuf::util::TimeUtil;
  for (const absl::Time sent : {absl::UnixEpoch() - absl::Microseconds(1500001),
                                absl::UnixEpoch() - absl::Microseconds(1),
                                absl::UnixEpoch() + absl::Microseconds(999999), t0}) {
    const absl::Time received = sent - absl::Microseconds(2300007);  // before it was sent
    const absl::Time processed = received + absl::Microseconds(700001);
    v1::TrackedMessage m;
    m.set_id("0190a1a0-0000-7000-8000-0000000000aa");
    m.set_origin_service("alice");
    *m.add_events() = testing::MakeEvent(m.id(), "alice", v1::EVENT_KIND_SENT, sent);
    *m.add_events() = testing::MakeEvent(m.id(), "bob", v1::EVENT_KIND_RECEIVED, received);
    *m.add_events() = testing::MakeEvent(m.id(), "bob", v1::EVENT_KIND_PROCESSED, processed);
    DeriveMessageFacts(m);
    const std::string at = absl::FormatTime(sent);
    EXPECT_EQ(m.sent_at(), TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(sent))) << at;
    EXPECT_EQ(m.received_at(), TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(received)))
        << at;
    EXPECT_EQ(m.last_event_at(), TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(sent)))
        << at;
    EXPECT_EQ(m.send_to_receive(), TimeUtil::MicrosecondsToDuration(-2300007)) << at;
    EXPECT_EQ(m.receive_to_process(), TimeUtil::MicrosecondsToDuration(700001)) << at;
  }
}

// STUCK over every arrival order: a message's events in every order, the same state.
v1::MessageState StuckStateForAllOrders(std::vector<v1::Event> events, const StuckDeadlines& d,
                                        absl::Time now) {
  std::vector<size_t> order(events.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::optional<v1::MessageState> first;
  do {
    v1::TrackedMessage m;
    m.set_id(events[0].message_id());
    m.set_origin_service("alice");
    for (size_t i : order) *m.add_events() = events[i];
    DeriveMessageFacts(m, &d, now);
    if (!first) first = m.state();
    EXPECT_EQ(m.state(), *first);
  } while (std::next_permutation(order.begin(), order.end()));
  return *first;
}

TEST(MessageState, StuckWhenInFlightPastItsDestinationsDeadlineInAnyOrder) {
  const std::string id = "0190a1a0-0000-7000-8000-0000000000aa";
  StuckDeadlines d;  // 1 minute; "slow" gets an hour
  d.by_destination["slow"] = absl::Hours(1);
  auto sent = [&](absl::Time at, const char* dest) {
    v1::Event e = testing::MakeEvent(id, "alice", v1::EVENT_KIND_SENT, at);
    e.set_destination(dest);
    return e;
  };
  const absl::Time now = t0 + absl::Minutes(10);
  // Sent twice (a retry); the earliest SENT counts: 10 minutes > 1 minute.
  EXPECT_EQ(StuckStateForAllOrders({sent(t0 + absl::Minutes(9), "q"), sent(t0, "q"),
                                    testing::MakeEvent(id, "alice", v1::EVENT_KIND_NOTE, t0)},
                                   d, now),
            v1::MESSAGE_STATE_STUCK);
  EXPECT_EQ(StuckStateForAllOrders({sent(t0 + absl::Seconds(570), "q")}, d, now),
            v1::MESSAGE_STATE_IN_FLIGHT);  // 30 s: within the deadline
  EXPECT_EQ(StuckStateForAllOrders({sent(t0, "slow")}, d, now), v1::MESSAGE_STATE_IN_FLIGHT);
  // A REPLAYED restarts the wait; a late RECEIVED ends it.
  EXPECT_EQ(StuckStateForAllOrders(
                {sent(t0, "q"), testing::MakeEvent(id, "ops", v1::EVENT_KIND_REPLAYED,
                                                   t0 + absl::Seconds(590))},
                d, now),
            v1::MESSAGE_STATE_IN_FLIGHT);
  EXPECT_EQ(StuckStateForAllOrders(
                {sent(t0, "q"), testing::MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED,
                                                   t0 + absl::Minutes(9))},
                d, now),
            v1::MESSAGE_STATE_RECEIVED);
  // Without deadlines (no clock), never STUCK.
  v1::TrackedMessage m;
  m.set_origin_service("alice");
  *m.add_events() = sent(t0, "q");
  DeriveMessageFacts(m);
  EXPECT_EQ(m.state(), v1::MESSAGE_STATE_IN_FLIGHT);
}

}  // namespace
}  // namespace utracker::server::query
