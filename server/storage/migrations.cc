#include "storage/migrations.h"

#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "storage/pg_errors.h"

namespace utracker::server::storage {
namespace {

// "utrackr" in ASCII: the advisory lock key shared by every replica's migrator.
constexpr long long kMigrationLockKey = 0x75747261636b72;

}  // namespace

absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& database_url,
                                                const std::vector<Migration>& migrations) {
  try {
    pqxx::connection conn{database_url};
    pqxx::work tx{conn, "migrate"};
    tx.exec(absl::StrCat("SELECT pg_advisory_xact_lock(", kMigrationLockKey, ")"));
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    std::set<int> done;
    for (const auto& row : tx.exec("SELECT version FROM schema_migrations")) {
      done.insert(row[0].as<int>());
    }
    MigrationReport report;
    for (const Migration& m : migrations) {
      if (done.count(m.version)) continue;
      tx.exec(m.sql, absl::StrCat("migration ", m.version, "_", m.name));
      tx.exec_params0("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                      m.name);
      report.applied.push_back(m.version);
      done.insert(m.version);
    }
    tx.commit();
    report.schema_version = done.empty() ? 0 : *done.rbegin();
    return report;
  } catch (...) {
    return StatusFromCurrentException("applying migrations");
  }
}

absl::StatusOr<int> ReadSchemaVersion(const std::string& database_url) {
  try {
    pqxx::connection conn{database_url};
    pqxx::read_transaction tx{conn, "schema_version"};
    const pqxx::row row = tx.exec1(
        "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0"
        " ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END");
    return row[0].as<int>();
  } catch (...) {
    return StatusFromCurrentException("reading the schema version");
  }
}

}  // namespace utracker::server::storage
