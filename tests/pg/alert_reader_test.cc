// PgAlertReader over a real PostgreSQL: rows written with SQL the way the evaluator writes
// them (every insert and update takes a new version).
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "storage/migrations.h"
#include "storage/pg_alert_reader.h"
#include "support/test_database.h"

namespace utracker::server::storage {
namespace {

using google::protobuf::util::TimeUtil;

class AlertReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    ASSERT_TRUE(ApplyMigrations(db_.url(), EmbeddedMigrations()).ok());
    reader_ = std::make_unique<PgAlertReader>(db_.url());
  }
  // Opens an alert `minutes` after 2026-11-28T04:00:00Z; returns its id.
  std::string Open(const std::string& rule, const std::string& service,
                   const std::string& destination, int minutes) {
    const std::string subject = destination.empty() ? service : service + " <- " + destination;
    const std::string at = "timestamptz '2026-11-28T04:00:00.123456Z' + interval '" +
                           std::to_string(minutes) + " minutes'";
    return db_.Scalar(
        "INSERT INTO alerts (rule, subject, service, destination, opened_at,"
        " last_seen_at, value, peak, threshold, summary) VALUES ('" +
        rule + "', '" + subject + "', '" + service + "', '" + destination + "', " + at + ", " + at +
        ", 12, 12, 1, 'about " + subject + "') RETURNING id");
  }
  void Update(const std::string& id, double value) {
    db_.Query("UPDATE alerts SET value = " + std::to_string(value) + ", peak = greatest(peak, " +
              std::to_string(value) +
              "), evaluations = evaluations + 1, last_seen_at = last_seen_at + interval '1 "
              "minute', version = nextval('alert_versions') WHERE id = " +
              id);
  }
  void Resolve(const std::string& id) {
    db_.Query(
        "UPDATE alerts SET resolved_at = last_seen_at + interval '2 minutes',"
        " version = nextval('alert_versions') WHERE id = " +
        id);
  }
  std::vector<int64_t> Ids(const AlertFilter& f) {
    std::vector<int64_t> ids;
    auto alerts = reader_->ListAlerts(f);
    EXPECT_TRUE(alerts.ok()) << alerts.status();
    if (alerts.ok()) {
      for (const auto& a : *alerts) ids.push_back(a.id());
    }
    return ids;
  }

  testing::TestDatabase db_;
  std::unique_ptr<PgAlertReader> reader_;
};

TEST_F(AlertReaderTest, ListsNewestFirstWithFilters) {
  EXPECT_EQ(reader_->LatestVersion().value_or(-1), 0);
  const int64_t stuck = std::stoll(Open("stuck", "bob", "orders", 0));
  const int64_t ratio = std::stoll(Open("failure_ratio", "carl", "", 1));
  const int64_t silence = std::stoll(Open("silence", "bob", "", 2));
  Update(std::to_string(stuck), 15);
  Resolve(std::to_string(ratio));

  EXPECT_EQ(Ids({}), (std::vector<int64_t>{silence, ratio, stuck}));
  AlertFilter open;
  open.state = v1::ALERT_STATE_OPEN;
  EXPECT_EQ(Ids(open), (std::vector<int64_t>{silence, stuck}));
  AlertFilter resolved;
  resolved.state = v1::ALERT_STATE_RESOLVED;
  EXPECT_EQ(Ids(resolved), (std::vector<int64_t>{ratio}));
  AlertFilter bob;
  bob.service = "bob";
  EXPECT_EQ(Ids(bob), (std::vector<int64_t>{silence, stuck}));
  AlertFilter bob_stuck = bob;
  bob_stuck.rule = v1::ALERT_RULE_STUCK;
  EXPECT_EQ(Ids(bob_stuck), (std::vector<int64_t>{stuck}));
  AlertFilter one;
  one.limit = 1;
  EXPECT_EQ(Ids(one), (std::vector<int64_t>{silence}));
  AlertFilter nobody;
  nobody.service = "nobody";
  EXPECT_TRUE(Ids(nobody).empty());

  bob_stuck.state = v1::ALERT_STATE_OPEN;
  auto alerts = reader_->ListAlerts(bob_stuck);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  const v1::Alert& a = (*alerts)[0];
  EXPECT_EQ(a.rule(), v1::ALERT_RULE_STUCK);
  EXPECT_EQ(a.subject(), "bob <- orders");
  EXPECT_EQ(a.service(), "bob");
  EXPECT_EQ(a.destination(), "orders");
  EXPECT_EQ(a.state(), v1::ALERT_STATE_OPEN);
  EXPECT_EQ(TimeUtil::ToString(a.opened_at()), "2026-11-28T04:00:00.123456Z") << "exact µs";
  EXPECT_EQ(TimeUtil::ToString(a.last_seen_at()), "2026-11-28T04:01:00.123456Z");
  EXPECT_FALSE(a.has_resolved_at());
  EXPECT_EQ(a.value(), 15);
  EXPECT_EQ(a.peak(), 15);
  EXPECT_EQ(a.threshold(), 1);
  EXPECT_EQ(a.evaluations(), 2);
  EXPECT_EQ(a.summary(), "about bob <- orders");

  auto r = reader_->ListAlerts(resolved);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].state(), v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ((*r)[0].rule(), v1::ALERT_RULE_FAILURE_RATIO);
  EXPECT_EQ(TimeUtil::ToString((*r)[0].resolved_at()), "2026-11-28T04:03:00.123456Z");
}

TEST_F(AlertReaderTest, ChangedSinceGivesEachChangedAlertsLatestVersionInOrder) {
  const std::string a = Open("stuck", "bob", "orders", 0);  // version 1
  const std::string b = Open("silence", "carl", "", 1);     // version 2
  ASSERT_EQ(reader_->LatestVersion().value_or(-1), 2);
  Update(a, 20);                                               // a: version 3
  const std::string c = Open("failure_ratio", "dave", "", 2);  // version 4
  Resolve(a);                                                  // a: version 5

  auto all = reader_->ChangedSince(0, 1000);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::pair<int64_t, int64_t>> got;  // (id, version)
  for (const auto& v : *all) got.emplace_back(v.alert.id(), v.version);
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, int64_t>>{
                     {std::stoll(b), 2}, {std::stoll(c), 4}, {std::stoll(a), 5}}));
  EXPECT_EQ(all->back().alert.state(), v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ(all->back().alert.evaluations(), 2);
  EXPECT_EQ(reader_->LatestVersion().value_or(-1), 5);

  auto after2 = reader_->ChangedSince(2, 1000);
  ASSERT_TRUE(after2.ok());
  ASSERT_EQ(after2->size(), 2u);
  EXPECT_EQ((*after2)[0].version, 4);
  EXPECT_EQ((*after2)[1].version, 5);
  auto limited = reader_->ChangedSince(0, 1);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].version, 2);
  EXPECT_TRUE(reader_->ChangedSince(5, 1000).value_or(std::vector<AlertVersion>{{}}).empty());
}

TEST_F(AlertReaderTest, AnUnreachableDatabaseIsUnavailable) {
  PgAlertReader nowhere("postgresql://127.0.0.1:1/none?connect_timeout=2");
  EXPECT_EQ(nowhere.LatestVersion().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(nowhere.ListAlerts({}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace utracker::server::storage
