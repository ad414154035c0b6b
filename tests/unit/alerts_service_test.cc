// utracker.v1.Alerts on an in-process server over a fake alerts table.
#include "alerts/alerts_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "alerts/alert_feed.h"
#include "support/fake_alert_reader.h"

namespace utracker::server::alerts {
namespace {

using Kind = v1::AlertChange::Kind;

class AlertsServiceTest : public ::testing::Test {
 protected:
  // `poll`: the feed's interval; a long one leaves polling to the test (PollOnce).
  void StartServer(absl::Duration poll, bool start_feed = true) {
    feed_ = std::make_unique<AlertFeed>(&reader_, poll);
    if (start_feed) feed_->Start();
    service_ = std::make_unique<AlertsService>(&reader_, &executor_, feed_.get());
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = v1::Alerts::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                    grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (feed_) feed_->Stop();
    if (server_) server_->Shutdown();
  }
  // Waits (polling, bounded) until `done` holds.
  template <typename F>
  bool Eventually(F done) {
    for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;
         absl::SleepFor(absl::Milliseconds(5))) {
      if (done()) return true;
    }
    return done();
  }

  testing::FakeAlertReader reader_;
  query::QueryExecutor executor_{2, 64};
  std::unique_ptr<AlertFeed> feed_;
  std::unique_ptr<AlertsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Alerts::Stub> stub_;
};

TEST_F(AlertsServiceTest, ListAlertsChecksTheLimitAndPassesTheFilters) {
  StartServer(absl::Milliseconds(10));
  const int64_t a = reader_.Open(v1::ALERT_RULE_STUCK, "bob");
  reader_.Open(v1::ALERT_RULE_SILENCE, "carl");
  reader_.Resolve(a);
  for (int limit : {-1, 1001}) {
    grpc::ClientContext ctx;
    v1::ListAlertsRequest req;
    req.set_limit(limit);
    v1::ListAlertsResponse resp;
    grpc::Status st = stub_->ListAlerts(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << limit;
    EXPECT_NE(st.error_message().find("limit"), std::string::npos) << st.error_message();
  }
  {
    grpc::ClientContext ctx;
    v1::ListAlertsResponse resp;
    ASSERT_TRUE(stub_->ListAlerts(&ctx, v1::ListAlertsRequest(), &resp).ok());
    EXPECT_EQ(resp.alerts_size(), 2);
    EXPECT_EQ(reader_.last_filter().limit, 100u) << "default limit";
  }
  {
    grpc::ClientContext ctx;
    v1::ListAlertsRequest req;
    req.set_state(v1::ALERT_STATE_RESOLVED);
    req.set_rule(v1::ALERT_RULE_STUCK);
    req.set_service("bob");
    req.set_limit(1000);
    v1::ListAlertsResponse resp;
    ASSERT_TRUE(stub_->ListAlerts(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.alerts_size(), 1);
    EXPECT_EQ(resp.alerts(0).id(), a);
    EXPECT_EQ(reader_.last_filter().limit, 1000u);
  }
  {
    grpc::ClientContext ctx;
    v1::ListAlertsRequest req;
    req.set_service(std::string("b\0b", 3));
    v1::ListAlertsResponse resp;
    EXPECT_EQ(stub_->ListAlerts(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  reader_.Fail(absl::UnavailableError("database down"));
  grpc::ClientContext ctx;
  v1::ListAlertsResponse resp;
  EXPECT_EQ(stub_->ListAlerts(&ctx, v1::ListAlertsRequest(), &resp).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(AlertsServiceTest, WatchSendsTheOpenAlertsThenEveryChange) {
  StartServer(absl::Milliseconds(10));
  const int64_t a = reader_.Open(v1::ALERT_RULE_STUCK, "bob");
  const int64_t gone = reader_.Open(v1::ALERT_RULE_SILENCE, "dave");
  reader_.Resolve(gone);
  const int64_t b = reader_.Open(v1::ALERT_RULE_FAILURE_RATIO, "carl");
  ASSERT_TRUE(Eventually([&] { return feed_->SubscriberCount() == 0; }));

  grpc::ClientContext ctx;
  auto stream = stub_->WatchAlerts(&ctx, v1::WatchAlertsRequest());
  v1::AlertChange change;
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_OPEN_AT_START);
  EXPECT_EQ(change.alert().id(), a) << "oldest first";
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_OPEN_AT_START);
  EXPECT_EQ(change.alert().id(), b);

  reader_.Update(a);
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_UPDATED);
  EXPECT_EQ(change.alert().evaluations(), 2);
  const int64_t c = reader_.Open(v1::ALERT_RULE_STUCK, "erin");
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_OPENED);
  EXPECT_EQ(change.alert().id(), c);
  reader_.Resolve(b);
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_RESOLVED);
  EXPECT_EQ(change.alert().id(), b);
  EXPECT_EQ(change.alert().state(), v1::ALERT_STATE_RESOLVED);

  EXPECT_EQ(feed_->SubscriberCount(), 1u);
  ctx.TryCancel();
  while (stream->Read(&change)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(Eventually([&] { return feed_->SubscriberCount() == 0; }))
      << "the stream's reactor unsubscribes when done";
}

TEST_F(AlertsServiceTest, AWatchBeforeTheFeedKnowsItsPositionLosesNothing) {
  StartServer(absl::Hours(1), /*start_feed=*/false);  // the test polls
  const int64_t a = reader_.Open(v1::ALERT_RULE_STUCK, "bob");
  grpc::ClientContext ctx;
  auto stream = stub_->WatchAlerts(&ctx, v1::WatchAlertsRequest());
  v1::AlertChange change;
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_OPEN_AT_START);
  // Changed after the watch began but before the feed's first poll: a feed starting from
  // "now" would skip it; the watch's start position makes the feed deliver it.
  reader_.Resolve(a);
  feed_->PollOnce();
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_RESOLVED);
  EXPECT_EQ(change.alert().id(), a);
  ctx.TryCancel();
}

TEST_F(AlertsServiceTest, StoppingTheFeedEndsWatchesWithUnavailable) {
  StartServer(absl::Milliseconds(10));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::AlertChange>>> streams;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(stub_->WatchAlerts(contexts.back().get(), v1::WatchAlertsRequest()));
  }
  ASSERT_TRUE(Eventually([&] { return feed_->SubscriberCount() == 3; }));
  feed_->Stop();
  for (auto& stream : streams) {
    v1::AlertChange change;
    EXPECT_FALSE(stream->Read(&change));
    grpc::Status st = stream->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  }
  // A watch opened after the feed stopped ends at once.
  grpc::ClientContext ctx;
  auto late = stub_->WatchAlerts(&ctx, v1::WatchAlertsRequest());
  v1::AlertChange change;
  EXPECT_FALSE(late->Read(&change));
  EXPECT_EQ(late->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(AlertsServiceTest, AWatchThatCannotReadTheTableEndsWithItsError) {
  StartServer(absl::Milliseconds(10));
  reader_.Fail(absl::UnavailableError("database down"));
  grpc::ClientContext ctx;
  auto stream = stub_->WatchAlerts(&ctx, v1::WatchAlertsRequest());
  v1::AlertChange change;
  EXPECT_FALSE(stream->Read(&change));
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(st.error_message().find("database down"), std::string::npos);
}

// The feed's own contract, without gRPC: every subscriber gets every new version once, a
// subscriber that is gone is never called.
class RecordingSubscriber : public AlertSubscriber {
 public:
  void OnChanges(const std::vector<storage::AlertVersion>& changes) override {
    for (const auto& c : changes) versions.push_back(c.version);
  }
  void OnFeedStopped() override { stopped = true; }
  std::vector<int64_t> versions;
  bool stopped = false;
};

TEST(AlertFeed, DeliversNewVersionsToLiveSubscribersOnly) {
  testing::FakeAlertReader reader;
  reader.Open(v1::ALERT_RULE_STUCK, "old");  // before the feed: not delivered
  AlertFeed feed(&reader, absl::Hours(1));
  auto one = std::make_shared<RecordingSubscriber>();
  auto two = std::make_shared<RecordingSubscriber>();
  EXPECT_EQ(feed.Subscribe(one), AlertFeed::Subscribed::kNotStarted);
  feed.PollOnce();  // learns its position: now
  EXPECT_EQ(feed.Subscribe(two), AlertFeed::Subscribed::kFollowing);
  const int64_t a = reader.Open(v1::ALERT_RULE_STUCK, "bob");
  reader.Update(a);
  reader.Open(v1::ALERT_RULE_SILENCE, "carl");
  feed.PollOnce();
  EXPECT_EQ(one->versions, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(two->versions, one->versions);
  two.reset();  // gone without unsubscribing
  reader.Resolve(a);
  feed.PollOnce();
  EXPECT_EQ(one->versions, (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(feed.SubscriberCount(), 2u);
  feed.Unsubscribe(one.get());
  EXPECT_EQ(feed.SubscriberCount(), 0u) << "expired entries go too";
  feed.Subscribe(one);
  feed.Stop();
  EXPECT_TRUE(one->stopped);
  EXPECT_EQ(feed.Subscribe(one), AlertFeed::Subscribed::kStopped);
}

}  // namespace
}  // namespace utracker::server::alerts
