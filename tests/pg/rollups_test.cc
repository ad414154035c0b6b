// The graph rollups against a from-scratch recomputation: random events stored in random
// batches, out of order, some batches re-sent, folded by interleaved partial passes — the
// minute and hour tables must equal what plain SQL (and the histogram binning) computes
// from the events table. And the rollup lead: one replica at a time.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "rollup/hop_fold.h"
#include "rollup/latency_histogram.h"
#include "storage/migrations.h"
#include "storage/pg_arrays.h"
#include "storage/pg_event_store.h"
#include "storage/pg_rollup_store.h"
#include "support/event_factory.h"
#include "support/test_database.h"
#include "wire/uuid.h"

namespace utracker::server::storage {
namespace {

// Events waiting in the rollup inbox: in ingest's batches and in single rows.
constexpr const char* kInboxEvents =
    "SELECT (SELECT coalesce(sum(events), 0) FROM rollup_inbox_batches)"
    " + (SELECT count(*) FROM rollup_inbox)";

using testing::MakeEvent;
using Rows = std::vector<std::vector<std::string>>;

class RollupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    ASSERT_TRUE(ApplyMigrations(db_.url(), EmbeddedMigrations()).ok());
  }
  void Store(const std::vector<v1::Event>& events) {
    std::vector<const v1::Event*> p;
    for (const auto& e : events) p.push_back(&e);
    auto r = events_.Store(p);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  size_t Pass(size_t limit) {
    absl::StatusOr<bool> lead = rollups_.Lead();
    EXPECT_TRUE(lead.ok() && *lead);
    absl::StatusOr<size_t> n = rollups_.RunPass(limit);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : 0;
  }
  void Drain() {
    while (Pass(1000) > 0) {
    }
  }
  // The stored rollups of one tier, and the same recomputed from events, as sorted text rows.
  void ExpectTierEqualsRecomputation(const std::string& tier, const std::string& time,
                                     int64_t width) {
    SCOPED_TRACE(tier);
    const std::string bucket = absl::StrCat("floor(extract(epoch FROM %s) * 1000000 / ", width,
                                            ")::int8 * ", width);
    auto b = [&](const std::string& col) { return absl::StrReplaceAll(bucket, {{"%s", col}}); };
    const std::string stored_time = absl::StrCat("(extract(epoch FROM ", time, ") * 1000000)::int8");
    EXPECT_EQ(Sorted(db_.Query(absl::StrCat("SELECT ", stored_time,
                                            ", service, events, sent, processed, failed FROM service_",
                                            tier))),
              Sorted(db_.Query(absl::StrCat(
                  "SELECT ", b("occurred_at"), ", service, count(*),"
                  " count(*) FILTER (WHERE kind = 'sent'), count(*) FILTER (WHERE kind = 'processed'),"
                  " count(*) FILTER (WHERE kind = 'failed')"
                  " FROM events GROUP BY 1, 2"))));
    const std::string sends =
        "WITH s AS (SELECT DISTINCT ON (message_id) message_id, service AS sender,"
        " coalesce(destination, '') AS dest, occurred_at AS sent_at FROM events"
        " WHERE kind = 'sent'"
        " ORDER BY message_id, occurred_at, service COLLATE \"C\","
        "  coalesce(destination, '') COLLATE \"C\")";
    // handled: sends some service other than the sender logged a handling event for.
    EXPECT_EQ(
        Sorted(db_.Query(absl::StrCat("SELECT ", stored_time,
                                      ", sender, destination, messages, handled FROM send_", tier))),
        Sorted(db_.Query(absl::StrCat(
            sends, " SELECT ", b("sent_at"),
            ", sender, dest, count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events e"
            "  WHERE e.message_id = s.message_id AND e.service <> s.sender"
            "  AND e.kind IN ('received', 'processed', 'failed', 'note')))"
            " FROM s GROUP BY 1, 2, 3"))));
    // Edges: counts and max from SQL; the histogram binned here from the hops' latencies.
    Rows want = db_.Query(absl::StrCat(
        sends,
        ", h AS (SELECT message_id, service AS handler, min(occurred_at) AS handled_at,"
        "  bool_or(kind = 'failed') AS failed FROM events"
        "  WHERE kind IN ('received', 'processed', 'failed', 'note') GROUP BY 1, 2),"
        " hops AS (SELECT s.*, h.handler, h.failed,"
        "  (extract(epoch FROM h.handled_at) * 1000000)::int8"
        "   - (extract(epoch FROM s.sent_at) * 1000000)::int8 AS latency"
        "  FROM s JOIN h USING (message_id) WHERE h.handler <> s.sender)"
        " SELECT ", b("sent_at"), ", sender, dest, handler, count(*),"
        " count(*) FILTER (WHERE failed), max(latency), array_agg(latency)::text"
        " FROM hops GROUP BY 1, 2, 3, 4"));
    for (auto& row : want) {
      rollup::LatencyHistogram h;
      for (int64_t l : ParseIntArray(row[7])) h.Add(l);
      std::vector<int64_t> bins, counts;
      for (const auto& [bin, count] : h.bins()) {
        bins.push_back(bin);
        counts.push_back(count);
      }
      row[7] = absl::StrCat("{", absl::StrJoin(bins, ","), "}");
      row.push_back(absl::StrCat("{", absl::StrJoin(counts, ","), "}"));
    }
    const Rows stored = db_.Query(absl::StrCat(
        "SELECT ", stored_time, ", sender, destination, handler, messages, failures,"
        " max_latency_us, latency_bins::text, latency_counts::text FROM edge_", tier));
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(Sorted(stored), Sorted(want));
  }
  static Rows Sorted(Rows rows) {
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  testing::TestDatabase db_;
  PgEventStore events_{db_.url()};
  PgRollupStore rollups_{db_.url()};
};

TEST_F(RollupsTest, EqualARecomputationAfterDuplicatesAndOutOfOrderArrival) {
  std::mt19937 rng(11);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* services[] = {"alice", "bob", "carl", "Dave \"the\" \\ worker"};
  const char* queues[] = {"orders", "billing, eu"};
  // A base on an hour boundary, so hops near it cross hour buckets.
  const absl::Time base = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) / 3600 * 3600) -
                          absl::Hours(3);
  std::vector<v1::Event> events;
  for (int m = 0; m < 300; ++m) {
    const std::string id = wire::NewUuidV7();
    const absl::Time sent = base + absl::Microseconds(static_cast<int64_t>(rng() % 10800000000ULL));
    const int sender = pick(4);
    const int sends = pick(10) == 0 ? 0 : 1 + (pick(6) == 0);
    for (int s = 0; s < sends; ++s) {
      // A second SENT: a retry by the sender or a forward by another, maybe earlier.
      const int who = s == 0 ? sender : pick(4);
      events.push_back(MakeEvent(id, services[who], v1::EVENT_KIND_SENT,
                                 sent + absl::Milliseconds(s == 0 ? 0 : pick(4000) - 2000)));
      events.back().set_destination(queues[pick(2)]);
    }
    for (int h = pick(3); h > 0; --h) {
      const int handler = pick(4);
      for (int k = 1 + pick(3); k > 0; --k) {
        const v1::EventKind kinds[] = {v1::EVENT_KIND_RECEIVED, v1::EVENT_KIND_PROCESSED,
                                       v1::EVENT_KIND_FAILED, v1::EVENT_KIND_NOTE};
        // Latencies from -5 ms (skewed clocks) to ~2 min (crosses minute buckets).
        events.push_back(MakeEvent(id, services[handler], kinds[pick(4)],
                                   sent + absl::Microseconds(pick(120000000) - 5000)));
      }
    }
  }
  std::shuffle(events.begin(), events.end(), rng);
  std::vector<std::vector<v1::Event>> resend;
  bool rows_used = false;
  for (size_t i = 0; i < events.size();) {
    const size_t n = std::min<size_t>(1 + pick(40), events.size() - i);
    std::vector<v1::Event> batch(events.begin() + i, events.begin() + i + n);
    i += n;
    // New events with one stored before: merged through SQL, they reach the inbox as single
    // rows (rollup_inbox) instead of a batch row.
    const bool mixed = pick(4) == 0 && !resend.empty();
    if (mixed) batch.push_back(resend.back().front());
    Store(batch);
    if (mixed && db_.Scalar("SELECT count(*) FROM rollup_inbox") != "0") rows_used = true;
    if (mixed) batch.pop_back();
    if (pick(5) == 0) resend.push_back(batch);
    if (pick(3) == 0) Pass(17);  // partial folds between batches
    if (pick(7) == 0 && !resend.empty()) Store(resend[pick(static_cast<int>(resend.size()))]);
  }
  for (const auto& batch : resend) Store(batch);
  Drain();
  EXPECT_TRUE(rows_used) << "some events were folded from single inbox rows";
  EXPECT_EQ(db_.Scalar(kInboxEvents), "0");
  ExpectTierEqualsRecomputation("minutes", "minute", rollup::kMinuteMicros);
  ExpectTierEqualsRecomputation("hours", "hour", rollup::kHourMicros);

  // Migration 0012 added the handled counts to rollups folded before it: take them away,
  // apply it again, and its backfill from the hop state must give the same counts.
  ASSERT_NE(db_.Scalar("SELECT sum(handled) FROM send_minutes"), "0");
  db_.Query("ALTER TABLE send_minutes DROP COLUMN handled");
  db_.Query("ALTER TABLE send_hours DROP COLUMN handled");
  db_.Query("DELETE FROM schema_migrations WHERE version = 12");
  ASSERT_TRUE(ApplyMigrations(db_.url(), EmbeddedMigrations()).ok());
  ExpectTierEqualsRecomputation("minutes", "minute", rollup::kMinuteMicros);
  ExpectTierEqualsRecomputation("hours", "hour", rollup::kHourMicros);
  // Counts an older server's folds left wrong (it keeps `handled` as it was, moving sends
  // between minutes) are mended by the function the migration left for that.
  db_.Query("UPDATE send_minutes SET handled = handled + 3 WHERE random() < 0.5");
  db_.Query("UPDATE send_hours SET handled = 0");
  db_.Query("SELECT utracker_recompute_sends_handled()");
  ExpectTierEqualsRecomputation("minutes", "minute", rollup::kMinuteMicros);
  ExpectTierEqualsRecomputation("hours", "hour", rollup::kHourMicros);
}

TEST_F(RollupsTest, OneReplicaLeadsAndAnotherTakesOverWhenItGoes) {
  PgRollupStore other{db_.url()};
  ASSERT_EQ(rollups_.Lead().value_or(false), true);
  EXPECT_EQ(other.Lead().value_or(true), false);
  EXPECT_EQ(rollups_.Lead().value_or(false), true);  // kept
  EXPECT_FALSE(other.RunPass(10).ok());               // a follower never folds
  rollups_.Resign();
  // PostgreSQL frees a closed session's locks a moment after the socket closes.
  bool took_over = false;
  for (const absl::Time end = absl::Now() + absl::Seconds(5); !took_over && absl::Now() < end;) {
    took_over = other.Lead().value_or(false);
    if (!took_over) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(took_over);
  EXPECT_EQ(rollups_.Lead().value_or(true), false);
}

TEST_F(RollupsTest, AnEventStoredTwiceIsFoldedOnce) {
  const std::string id = wire::NewUuidV7();
  const absl::Time t = absl::Now() - absl::Minutes(5);
  std::vector<v1::Event> batch = {MakeEvent(id, "alice", v1::EVENT_KIND_SENT, t),
                                  MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED,
                                            t + absl::Milliseconds(30))};
  Store(batch);
  Store(batch);
  EXPECT_EQ(db_.Scalar(kInboxEvents), "2") << "once, in the first batch's inbox row";
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM rollup_inbox_batches"), "1");
  Drain();
  EXPECT_EQ(db_.Scalar("SELECT sum(events) FROM service_minutes"), "2");
  EXPECT_EQ(db_.Scalar("SELECT messages || ' ' || max_latency_us FROM edge_hours"), "1 30000");
}

// An inbox batch the job cannot read (not expected: only ingest writes them) is dropped with
// an error in the log; the batches around it are folded, and nothing stays stuck behind it.
TEST_F(RollupsTest, AnUnreadableInboxBatchDoesNotHoldUpTheOthers) {
  const absl::Time t = absl::Now() - absl::Minutes(5);
  const std::string before = wire::NewUuidV7(), after = wire::NewUuidV7();
  Store({MakeEvent(before, "alice", v1::EVENT_KIND_SENT, t)});
  db_.Query("INSERT INTO rollup_inbox_batches (events, payload) VALUES (3, '\\x02ffff')");
  Store({MakeEvent(after, "bob", v1::EVENT_KIND_SENT, t + absl::Seconds(1)),
         MakeEvent(after, "carl", v1::EVENT_KIND_PROCESSED, t + absl::Seconds(2))});
  Drain();
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM rollup_inbox_batches"), "0");
  EXPECT_EQ(db_.Scalar("SELECT sum(events) FROM service_minutes"), "3");
  EXPECT_EQ(db_.Scalar("SELECT messages FROM edge_hours WHERE sender = 'bob'"), "1");
}

}  // namespace
}  // namespace utracker::server::storage
