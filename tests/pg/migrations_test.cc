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

TEST(Migrations, UnreachableDatabaseIsUnavailable) {
  auto r = ApplyMigrations("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
                           EmbeddedMigrations());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace utracker::server::storage
