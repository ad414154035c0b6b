#include "storage/migrations.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/test_database.h"

namespace utracker::server::storage {
namespace {

TEST(Migrations, ApplyOnceThenNothingAndSchemaAsDesigned) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto first = ApplyMigrations(db.url(), EmbeddedMigrations());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->applied.size(), EmbeddedMigrations().size());
  EXPECT_EQ(first->schema_version, EmbeddedMigrations().back().version);

  auto second = ApplyMigrations(db.url(), EmbeddedMigrations());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->schema_version, first->schema_version);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM schema_migrations"),
            std::to_string(EmbeddedMigrations().size()));

  // events: range-partitioned by occurred_at, with a default partition and the designed key.
  EXPECT_EQ(
      db.Scalar("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'events'::regclass"),
      "r");
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                      " WHERE i.inhparent = 'events'::regclass AND pg_get_expr(c.relpartbound, "
                      "c.oid) = 'DEFAULT'"),
            "1");
  EXPECT_EQ(db.Scalar("SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_index x"
                      " CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord)"
                      " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
                      " WHERE x.indrelid = 'events'::regclass AND x.indisprimary"),
            "event_id,occurred_at");
  EXPECT_EQ(
      db.Scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'messages'"),
      "1");
}

TEST(Migrations, ConcurrentRunnersApplyEachMigrationExactlyOnce) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  absl::StatusOr<MigrationReport> a, b;
  std::thread ta([&] { a = ApplyMigrations(db.url(), EmbeddedMigrations()); });
  std::thread tb([&] { b = ApplyMigrations(db.url(), EmbeddedMigrations()); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->applied.size() + b->applied.size(), EmbeddedMigrations().size());
}

// A database migrated by the build that shipped an earlier 0011 (listed_at NOT NULL, the
// first_seen_at index dropped, a plain listed_at index) reaches today's schema through 0013:
// a previous-version writer can store a message without listed_at again, and ListMessages'
// COALESCE order has its index.
TEST(Migrations, TheEarlierListingKeyIsNormalised) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(ApplyMigrations(db.url(), EmbeddedMigrations()).ok());
  const std::string listed_oid = "SELECT 'messages_listed_idx'::regclass::oid";
  // On today's schema 0013 builds nothing again (a rebuild would lock messages meanwhile).
  const std::string before = db.Scalar(listed_oid);
  db.Query("DELETE FROM schema_migrations WHERE version = 13");
  ASSERT_TRUE(ApplyMigrations(db.url(), EmbeddedMigrations()).ok());
  EXPECT_EQ(db.Scalar(listed_oid), before);
  // As that build left it.
  db.Query("UPDATE messages SET listed_at = first_seen_at");
  db.Query("ALTER TABLE messages ALTER COLUMN listed_at SET NOT NULL");
  db.Query("DROP INDEX messages_first_seen_idx");
  db.Query("DROP INDEX messages_listed_idx");
  db.Query("CREATE INDEX messages_listed_idx ON messages (listed_at DESC, id DESC)");
  db.Query("DELETE FROM schema_migrations WHERE version = 13");
  auto again = ApplyMigrations(db.url(), EmbeddedMigrations());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->applied, std::vector<int>{13});
  // What a server of the previous version writes.
  db.Query("INSERT INTO messages (id, root_id, depth, origin_service, origin_sent, origin_at,"
           " first_seen_at) VALUES (gen_random_uuid(), gen_random_uuid(), 0, 'old', true, now(),"
           " now())");
  EXPECT_EQ(db.Scalar("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes"
                      " WHERE tablename = 'messages' AND (indexname LIKE '%seen%' OR indexname"
                      " LIKE 'messages_list%')"),
            "messages_first_seen_idx,messages_listed_idx");
  EXPECT_NE(db.Scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_listed_idx'")
                .find("COALESCE(listed_at, first_seen_at)"),
            std::string::npos);
}

TEST(Migrations, UnreachableDatabaseIsUnavailable) {
  auto r = ApplyMigrations("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
                           EmbeddedMigrations());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace utracker::server::storage
