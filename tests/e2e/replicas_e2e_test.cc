// Two utracker-server replicas on one database: one evaluates the alert rules; when it is
// killed (SIGKILL) the other takes the lead and carries on. Events carry past client times,
// so the stuck deadline has passed without the test waiting for it.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "absl/strings/match.h"

#include "support/event_factory.h"
#include "support/http_receiver.h"
#include "support/local_channel.h"
#include "support/process.h"
#include "support/test_database.h"
#include "utracker/v1/tracker.grpc.pb.h"
#include "wire/uuid.h"

namespace utracker {
namespace {

using testing::AwaitListening;
using testing::ChildProcess;

std::vector<std::string> ReplicaArgs(const std::string& url) {
  std::vector<std::string> args = testing::ServerArgs(url);
  args.push_back("--alert_interval=200ms");
  return args;
}

void Log(int port, const std::vector<v1::Event>& events) {
  grpc::ClientContext ctx;
  auto stream = v1::Tracker::NewStub(testing::LocalChannel(port))->LogEvents(&ctx);
  v1::LogEventsRequest req;
  req.set_seq(1);
  for (const v1::Event& e : events) *req.add_events() = e;
  ASSERT_TRUE(stream->Write(req));
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.accepted(), events.size());
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// The history the stuck rule learns from: alice sends to orders once a minute, 40 to 21
// minutes before `now`, and bob receives each 30 ms later (bob: the expected receiver).
std::vector<v1::Event> History(absl::Time now) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 20; ++i) {
    const std::string id = wire::NewUuidV7();
    const absl::Time sent = now - absl::Minutes(40 - i);
    events.push_back(testing::MakeEvent(id, "alice", v1::EVENT_KIND_SENT, sent));
    events.back().set_destination("orders");
    events.push_back(
        testing::MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, sent + absl::Milliseconds(30)));
  }
  return events;
}

// Polls `sql` until it returns `want` (or 20 s pass); returns the last answer.
std::string AwaitValue(const testing::TestDatabase& db, const std::string& sql,
                       const std::string& want) {
  std::string got;
  for (const absl::Time end = absl::Now() + absl::Seconds(20); absl::Now() < end;) {
    got = db.Scalar(sql);
    if (got == want) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return got;
}

TEST(ReplicasE2E, TwoReplicasOneAlertAndAKilledEvaluatorIsReplaced) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  const absl::Time now = absl::Now();
  std::vector<v1::Event> events = History(now);
  std::vector<v1::Event> catch_up;
  for (int i = 0; i < 3; ++i) {  // then nobody receives
    const std::string id = wire::NewUuidV7();
    events.push_back(testing::MakeEvent(id, "alice", v1::EVENT_KIND_SENT,
                                        now - absl::Minutes(5) + absl::Seconds(i)));
    events.back().set_destination("orders");
    catch_up.push_back(testing::MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, now));
  }
  const std::string stuck_alerts = "SELECT count(*) FROM alerts WHERE rule = 'stuck'";

  auto a = std::make_unique<ChildProcess>(UTRACKER_SERVER_BIN, ReplicaArgs(db.url()));
  const int port_a = AwaitListening(*a);
  ASSERT_GT(port_a, 0);
  Log(port_a, events);
  // A alone: it leads and raises the alert.
  ASSERT_EQ(AwaitValue(db, stuck_alerts, "1"), "1");
  ChildProcess b(UTRACKER_SERVER_BIN, ReplicaArgs(db.url()));
  const int port_b = AwaitListening(b);
  ASSERT_GT(port_b, 0);
  absl::SleepFor(absl::Seconds(1));  // five evaluation intervals of both replicas
  EXPECT_EQ(db.Scalar(stuck_alerts), "1") << "two replicas, one alert";
  EXPECT_EQ(db.Scalar("SELECT evaluations > 2 FROM alerts WHERE rule = 'stuck'"), "t");

  ASSERT_EQ(a->Signal(SIGKILL, absl::Seconds(5)), 128 + SIGKILL);
  a.reset();
  // B takes the lead and sees bob catch up (logged through B).
  Log(port_b, catch_up);
  EXPECT_EQ(AwaitValue(db, "SELECT resolved_at IS NOT NULL FROM alerts WHERE rule = 'stuck'", "t"),
            "t");
  EXPECT_EQ(db.Scalar(stuck_alerts), "1");
  EXPECT_EQ(b.Signal(SIGTERM, absl::Seconds(10)), 0);
}

TEST(AlertsE2E, AWebhookHearsTheStuckAlertOpenAndResolve) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  testing::HttpReceiver receiver;
  std::vector<std::string> args = ReplicaArgs(db.url());
  args.push_back("--alert_webhook_for=stuck=" + receiver.Url("/hooks/stuck"));
  ChildProcess server(UTRACKER_SERVER_BIN, args);
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);
  const absl::Time now = absl::Now();
  std::vector<v1::Event> events = History(now);
  const std::string late = wire::NewUuidV7();
  events.push_back(testing::MakeEvent(late, "alice", v1::EVENT_KIND_SENT, now - absl::Minutes(5)));
  events.back().set_destination("orders");
  Log(port, events);
  std::vector<std::string> posts = receiver.Await(1);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(posts[0], "/hooks/stuck {\"kind\":\"KIND_OPENED\"")) << posts[0];
  EXPECT_TRUE(absl::StrContains(posts[0], "\"rule\":\"ALERT_RULE_STUCK\"")) << posts[0];
  Log(port, {testing::MakeEvent(late, "bob", v1::EVENT_KIND_RECEIVED, absl::Now())});
  posts = receiver.Await(2);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(posts[1], "/hooks/stuck {\"kind\":\"KIND_RESOLVED\"")) << posts[1];
  // The silence rule has no webhook: nothing else was posted in five more evaluations (bob
  // and alice went quiet 20 minutes ago and their silence alerts opened meanwhile).
  EXPECT_EQ(receiver.Await(3, absl::Seconds(1)).size(), 2u);
  EXPECT_EQ(server.Signal(SIGTERM, absl::Seconds(10)), 0);
}

}  // namespace
}  // namespace utracker
