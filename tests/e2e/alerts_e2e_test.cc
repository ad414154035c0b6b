// Alerts read side end to end: the built server and CLI over a real PostgreSQL, with alert
// rows written by SQL as another replica's evaluator would write them.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/process.h"
#include "support/test_database.h"
#include "utracker/v1/alerts.grpc.pb.h"

namespace utracker {
namespace {

using testing::AwaitListening;
using testing::ChildProcess;
using testing::ServerArgs;

// Holds the alert evaluator's session advisory lock (storage/pg_alert_store.cc), as another
// replica leading the evaluation would: this test's server then only reads the alerts table,
// and the rows the test writes are the only changes.
class OtherReplicaLeadsAlerts {
 public:
  explicit OtherReplicaLeadsAlerts(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    PGresult* r = PQexec(conn_, "SELECT pg_try_advisory_lock(x'7574726b616c72'::int8)");
    ok_ = PQresultStatus(r) == PGRES_TUPLES_OK && std::string(PQgetvalue(r, 0, 0)) == "t";
    PQclear(r);
  }
  ~OtherReplicaLeadsAlerts() { PQfinish(conn_); }
  bool ok() const { return ok_; }

 private:
  PGconn* conn_;
  bool ok_ = false;
};

std::string OpenAlert(const testing::TestDatabase& db, const std::string& rule,
                      const std::string& service, const std::string& destination) {
  const std::string subject = destination.empty() ? service : service + " <- " + destination;
  return db.Scalar(absl::StrCat(
      "INSERT INTO alerts (rule, subject, service, destination, opened_at, last_seen_at, value,"
      " peak, threshold, summary) VALUES ('",
      rule, "', '", subject, "', '", service, "', '", destination,
      "', now(), now(), 12, 12, 1, 'about ", subject, "') RETURNING id"));
}

void ResolveAlert(const testing::TestDatabase& db, const std::string& id) {
  db.Query(
      "UPDATE alerts SET resolved_at = now(), value = 0,"
      " version = nextval('alert_versions') WHERE id = " +
      id);
}

std::pair<int, std::string> Cli(std::vector<std::string> args) {
  args.insert(args.begin(), UTRACKER_CLI_BIN);
  return testing::RunCommand(args);
}

class AlertsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    lead_ = std::make_unique<OtherReplicaLeadsAlerts>(db_.url());
    ASSERT_TRUE(lead_->ok());
    server_ = std::make_unique<ChildProcess>(UTRACKER_SERVER_BIN, ServerArgs(db_.url()));
    port_ = AwaitListening(*server_);
    ASSERT_GT(port_, 0);
    addr_ = "--server=127.0.0.1:" + std::to_string(port_);
  }

  testing::TestDatabase db_;
  std::unique_ptr<OtherReplicaLeadsAlerts> lead_;
  std::unique_ptr<ChildProcess> server_;
  int port_ = 0;
  std::string addr_;
};

TEST_F(AlertsE2E, CliListsAlertsWithFilters) {
  const std::string stuck = OpenAlert(db_, "stuck", "bob", "orders");
  const std::string ratio = OpenAlert(db_, "failure_ratio", "carl", "");
  ResolveAlert(db_, ratio);

  auto [rc, out] = Cli({"alerts", addr_});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(absl::StartsWith(out, "#" + stuck +
                                        "  OPEN      stuck  bob <- orders  value 12 "
                                        "(peak 12, threshold 1)  since "))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "1 evaluation  | about bob <- orders\n")) << out;
  EXPECT_FALSE(absl::StrContains(out, "carl")) << "open only by default:\n" << out;

  auto [rrc, resolved] = Cli({"alerts", addr_, "--state", "resolved"});
  ASSERT_EQ(rrc, 0);
  EXPECT_TRUE(absl::StartsWith(resolved, "#" + ratio + "  RESOLVED  failure_ratio  carl  value 0"))
      << resolved;
  EXPECT_TRUE(absl::StrContains(resolved, "  resolved 20")) << resolved;

  auto [arc, all] = Cli({"alerts", addr_, "--state", "all", "--service", "carl"});
  ASSERT_EQ(arc, 0);
  EXPECT_TRUE(absl::StrContains(all, "carl") && !absl::StrContains(all, "bob")) << all;
  auto [src, by_rule] = Cli({"alerts", addr_, "--state", "all", "--rule", "stuck"});
  ASSERT_EQ(src, 0);
  EXPECT_TRUE(absl::StrContains(by_rule, "bob") && !absl::StrContains(by_rule, "carl")) << by_rule;

  auto [jrc, json] = Cli({"alerts", addr_, "--format", "json"});
  ASSERT_EQ(jrc, 0);
  // protobuf's JSON printer escapes '<'.
  EXPECT_TRUE(absl::StrContains(json, "\"subject\": \"bob \\u003c- orders\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"rule\": \"ALERT_RULE_STUCK\"")) << json;

  EXPECT_EQ(Cli({"alerts", addr_, "--limit", "5000"}).first, 2) << "INVALID_ARGUMENT";
  EXPECT_EQ(Cli({"alerts", addr_, "--rule", "nope"}).first, 2);
  EXPECT_EQ(Cli({"alerts", addr_, "--state", "closed"}).first, 2);
}

TEST_F(AlertsE2E, CliFollowShowsTheOpenAlertsThenChangesUntilInterrupted) {
  const std::string stuck = OpenAlert(db_, "stuck", "bob", "orders");
  ChildProcess follow(UTRACKER_CLI_BIN, {"alerts", addr_, "--follow"});
  auto line = follow.ReadLine(absl::Seconds(10));
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(absl::StartsWith(*line, "open-at-start  #" + stuck +
                                          "  OPEN      stuck  bob <- "
                                          "orders"))
      << *line;

  ResolveAlert(db_, stuck);
  line = follow.ReadLine(absl::Seconds(10));  // the feed polls every 500 ms
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(absl::StartsWith(*line, "resolved       #" + stuck + "  RESOLVED  stuck  bob"))
      << *line;

  const std::string silent = OpenAlert(db_, "silence", "carl", "");
  line = follow.ReadLine(absl::Seconds(10));
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(absl::StartsWith(*line, "opened         #" + silent + "  OPEN      silence  carl"))
      << *line;

  EXPECT_EQ(follow.Signal(SIGINT, absl::Seconds(10)), std::optional<int>(0));
}

TEST_F(AlertsE2E, WatchAlertsStreamsOpenAtStartThenResolved) {
  const std::string stuck = OpenAlert(db_, "stuck", "bob", "orders");
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
  {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("utracker.v1.Alerts");
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel)->Check(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = v1::Alerts::NewStub(channel)->WatchAlerts(&ctx, v1::WatchAlertsRequest());
  v1::AlertChange change;
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_OPEN_AT_START);
  EXPECT_EQ(std::to_string(change.alert().id()), stuck);
  EXPECT_EQ(change.alert().state(), v1::ALERT_STATE_OPEN);
  EXPECT_EQ(change.alert().destination(), "orders");

  ResolveAlert(db_, stuck);
  ASSERT_TRUE(stream->Read(&change));
  EXPECT_EQ(change.kind(), v1::AlertChange::KIND_RESOLVED);
  EXPECT_EQ(std::to_string(change.alert().id()), stuck);
  EXPECT_TRUE(change.alert().has_resolved_at());

  // A graceful server stop ends the watch with UNAVAILABLE, promptly.
  const absl::Time stop = absl::Now();
  EXPECT_EQ(server_->Signal(SIGTERM, absl::Seconds(20)), std::optional<int>(0));
  EXPECT_FALSE(stream->Read(&change));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(absl::Now() - stop, absl::Seconds(5));
}

}  // namespace
}  // namespace utracker
