// The alert evaluator over a real PostgreSQL: events stored by the ingest store, folded by
// the rollup store, evaluated at a controlled "now" (events carry past client times, so no
// test waits for a deadline).
#include <gtest/gtest.h>

#include "alerts/alert_evaluator.h"
#include "storage/migrations.h"
#include "storage/pg_alert_store.h"
#include "storage/pg_event_store.h"
#include "storage/pg_rollup_store.h"
#include "support/event_factory.h"
#include "support/test_database.h"
#include "wire/uuid.h"

namespace utracker::server::alerts {
namespace {

using testing::MakeEvent;

class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url(), storage::EmbeddedMigrations()).ok());
  }
  void Store(const std::vector<v1::Event>& events) {
    std::vector<const v1::Event*> p;
    for (const auto& e : events) p.push_back(&e);
    auto r = events_.Store(p);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(rollups_.Lead().value_or(false));
    for (;;) {
      absl::StatusOr<size_t> n = rollups_.RunPass(1000);
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
    }
  }
  std::unique_ptr<AlertEvaluator> Evaluator() {
    return std::make_unique<AlertEvaluator>(std::make_unique<storage::PgAlertStore>(db_.url()),
                                            AlertConfig{}, absl::Milliseconds(50));
  }
  // "rule|subject|open or resolved|value|evaluations" of every alert of `rule`, oldest first.
  std::vector<std::string> Alerts(const std::string& rule) {
    std::vector<std::string> out;
    for (const auto& row : db_.Query(
             "SELECT rule || '|' || subject || '|' || CASE WHEN resolved_at IS NULL THEN 'open'"
             " ELSE 'resolved' END || '|' || value || '|' || evaluations FROM alerts"
             " WHERE rule = '" + rule + "' ORDER BY id")) {
      out.push_back(row[0]);
    }
    return out;
  }
  // alice sends `n` messages to orders from `first` on, one a minute; bob handles them if
  // `handled`.
  std::vector<std::string> Send(int n, absl::Time first, bool handled) {
    std::vector<v1::Event> events;
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(wire::NewUuidV7());
      const absl::Time t = first + absl::Minutes(i);
      events.push_back(MakeEvent(ids.back(), "alice", v1::EVENT_KIND_SENT, t));
      events.back().set_destination("orders");
      if (handled) {
        events.push_back(MakeEvent(ids.back(), "bob", v1::EVENT_KIND_RECEIVED,
                                   t + absl::Milliseconds(40)));
        events.push_back(MakeEvent(ids.back(), "bob", v1::EVENT_KIND_PROCESSED,
                                   t + absl::Milliseconds(90)));
      }
    }
    Store(events);
    return ids;
  }

  testing::TestDatabase db_;
  storage::PgEventStore events_{db_.url()};
  storage::PgRollupStore rollups_{db_.url()};
  const absl::Time now_ = absl::Now();
};

TEST_F(AlertsTest, BobStopsReceivingThenCatchesUp) {
  auto evaluator = Evaluator();
  Send(20, now_ - absl::Minutes(40), /*handled=*/true);
  ASSERT_TRUE(evaluator->EvaluateOnce(now_).ok());
  EXPECT_TRUE(Alerts("stuck").empty()) << "all handled: nothing stuck";
  // bob stops: 5 more messages, 3 to 7 minutes old, nobody receives them.
  const std::vector<std::string> late = Send(5, now_ - absl::Minutes(7), /*handled=*/false);
  ASSERT_TRUE(evaluator->EvaluateOnce(now_).ok());
  EXPECT_EQ(Alerts("stuck"), std::vector<std::string>{"stuck|bob <- orders|open|5|1"});
  ASSERT_TRUE(evaluator->EvaluateOnce(now_ + absl::Seconds(10)).ok());
  EXPECT_EQ(Alerts("stuck"), std::vector<std::string>{"stuck|bob <- orders|open|5|2"}) << "one alert";
  EXPECT_EQ(db_.Scalar("SELECT summary FROM alerts WHERE rule = 'stuck'"),
            "5 message(s) sent to orders not handled by bob within 1m");
  // The view calls them STUCK too (its deadline comes from the evaluator).
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM message_states WHERE state = 'STUCK'"), "5");
  // bob catches up.
  std::vector<v1::Event> caught_up;
  for (const std::string& id : late) {
    caught_up.push_back(MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, now_));
  }
  Store(caught_up);
  ASSERT_TRUE(evaluator->EvaluateOnce(now_ + absl::Seconds(20)).ok());
  EXPECT_EQ(Alerts("stuck"), std::vector<std::string>{"stuck|bob <- orders|resolved|0|2"});
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM message_states WHERE state = 'STUCK'"), "0");
}

// Two workers share "jobs" and an observer logs every message: the observer is expected to
// see each one, the workers as a set (not each worker every message). The two messages
// nobody took alert on the workers' set only; the observer saw everything.
TEST_F(AlertsTest, WorkersSharingBesideAnObserverAlertOnlyForWhatNobodyTook) {
  auto evaluator = Evaluator();
  std::vector<v1::Event> events;
  for (int i = 0; i < 40; ++i) {
    const std::string id = wire::NewUuidV7();
    const absl::Time t = now_ - absl::Minutes(50) + absl::Minutes(i);
    events.push_back(MakeEvent(id, "alice", v1::EVENT_KIND_SENT, t));
    events.back().set_destination("jobs");
    events.push_back(MakeEvent(id, "observer", v1::EVENT_KIND_NOTE, t + absl::Milliseconds(5)));
    if (i == 30 || i == 31) continue;  // nobody takes these two
    events.push_back(MakeEvent(id, i % 2 ? "w1" : "w2", v1::EVENT_KIND_PROCESSED,
                               t + absl::Milliseconds(40)));
  }
  Store(events);
  ASSERT_TRUE(evaluator->EvaluateOnce(now_).ok());
  EXPECT_EQ(Alerts("stuck"), std::vector<std::string>{"stuck|(any receiver) <- jobs|open|2|1"});
  EXPECT_EQ(db_.Scalar("SELECT summary FROM alerts WHERE rule = 'stuck'"),
            "2 message(s) sent to jobs not handled by any of w1, w2 within 1m");
}

TEST_F(AlertsTest, TheStuckRuleWaitsWhileTheRollupsLagBehind) {
  AlertConfig config;
  config.max_rollup_backlog = 3;
  AlertEvaluator evaluator(std::make_unique<storage::PgAlertStore>(db_.url()), config,
                           absl::Seconds(1));
  Send(20, now_ - absl::Minutes(40), true);
  Send(5, now_ - absl::Minutes(7), false);
  // Four more events are stored but not folded yet (no pass): 4 wait in the inbox.
  std::vector<v1::Event> late;
  for (int i = 0; i < 4; ++i) {
    late.push_back(MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_NOTE, now_));
  }
  std::vector<const v1::Event*> p;
  for (const auto& e : late) p.push_back(&e);
  ASSERT_TRUE(events_.Store(p).ok());
  ASSERT_TRUE(evaluator.EvaluateOnce(now_).ok());
  EXPECT_TRUE(Alerts("stuck").empty()) << "4 events wait (> 3): no stuck verdict";
  Store({});  // fold
  ASSERT_TRUE(evaluator.EvaluateOnce(now_).ok());
  EXPECT_EQ(Alerts("stuck"), std::vector<std::string>{"stuck|bob <- orders|open|5|1"});
}

TEST_F(AlertsTest, AFailingServiceTripsTheFailureRule) {
  auto evaluator = Evaluator();
  std::vector<v1::Event> events;
  for (int i = 0; i < 12; ++i) {
    const std::string id = wire::NewUuidV7();
    const absl::Time t = now_ - absl::Seconds(100 - i);
    events.push_back(MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, t));
    events.push_back(
        MakeEvent(id, "bob", i % 2 ? v1::EVENT_KIND_FAILED : v1::EVENT_KIND_PROCESSED, t));
  }
  Store(events);
  ASSERT_TRUE(evaluator->EvaluateOnce(now_).ok());
  EXPECT_EQ(Alerts("failure_ratio"), std::vector<std::string>{"failure_ratio|bob|open|0.5|1"});
  // Five minutes later the failures left the window: nothing finished, it resolves.
  ASSERT_TRUE(evaluator->EvaluateOnce(now_ + absl::Minutes(6)).ok());
  EXPECT_EQ(Alerts("failure_ratio"),
            std::vector<std::string>{"failure_ratio|bob|resolved|0|1"});
}

TEST_F(AlertsTest, ASilentServiceTripsTheSilenceRule) {
  auto evaluator = Evaluator();
  std::vector<v1::Event> events;
  for (int i = 0; i < 12; ++i) {  // carl logs once a minute, 40 to 29 minutes ago
    events.push_back(MakeEvent(wire::NewUuidV7(), "carl", v1::EVENT_KIND_NOTE,
                               now_ - absl::Minutes(40 - i)));
  }
  Store(events);
  // Silence is judged by when the server stored carl's events: as if that was 29 minutes ago.
  db_.Query("UPDATE services SET last_logged_at = now() - interval '29 minutes'");
  ASSERT_TRUE(evaluator->EvaluateOnce(absl::Now()).ok());
  ASSERT_EQ(Alerts("silence").size(), 1u);
  // Quiet for 29 minutes against a usual gap of one: open (value in seconds).
  EXPECT_EQ(Alerts("silence")[0].substr(0, 22), "silence|carl|open|1740");
  Store({MakeEvent(wire::NewUuidV7(), "carl", v1::EVENT_KIND_NOTE, now_)});
  ASSERT_TRUE(evaluator->EvaluateOnce(absl::Now() + absl::Seconds(1)).ok());
  EXPECT_EQ(Alerts("silence")[0].substr(0, 21), "silence|carl|resolved");
}

// dave's clock is ten minutes slow: his events, logged once a minute up to now, carry times
// that end ten minutes ago. By event time he was silent for ten minutes (over his usual gap
// of one); by the server's clock he logged just now.
TEST_F(AlertsTest, AServiceWithASlowClockIsNotSilent) {
  auto evaluator = Evaluator();
  std::vector<v1::Event> events;
  for (int i = 0; i < 12; ++i) {
    events.push_back(MakeEvent(wire::NewUuidV7(), "dave", v1::EVENT_KIND_NOTE,
                               now_ - absl::Minutes(10) - absl::Minutes(11 - i)));
  }
  Store(events);
  ASSERT_TRUE(evaluator->EvaluateOnce(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_TRUE(Alerts("silence").empty()) << Alerts("silence")[0];
}

TEST_F(AlertsTest, TwoReplicasOneAlertAndTheOtherTakesOver) {
  Send(20, now_ - absl::Minutes(40), true);
  const std::vector<std::string> late = Send(3, now_ - absl::Minutes(5), false);
  auto a = Evaluator(), b = Evaluator();
  a->Start();
  b->Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Alerts("stuck").empty() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  absl::SleepFor(absl::Milliseconds(300));  // several intervals of both
  EXPECT_EQ(Alerts("stuck").size(), 1u);
  EXPECT_NE(a->leading(), b->leading()) << "exactly one evaluates";
  AlertEvaluator* survivor = a->leading() ? b.get() : a.get();
  (a->leading() ? a : b)->Stop();  // the evaluating replica goes away
  std::vector<v1::Event> caught_up;
  for (const std::string& id : late) {
    caught_up.push_back(MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, absl::Now()));
  }
  Store(caught_up);
  while (Alerts("stuck")[0].find("resolved") == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(survivor->leading());
  EXPECT_EQ(Alerts("stuck").size(), 1u);
  EXPECT_NE(Alerts("stuck")[0].find("|resolved|"), std::string::npos) << Alerts("stuck")[0];
  a->Stop();
  b->Stop();
}

}  // namespace
}  // namespace utracker::server::alerts
