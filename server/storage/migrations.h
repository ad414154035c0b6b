#ifndef UTRACKER_SERVER_STORAGE_MIGRATIONS_H_
#define UTRACKER_SERVER_STORAGE_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace utracker::server::storage {

// One schema change, from migrations/NNNN_name.sql.
struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations compiled into this binary, ordered by version.
const std::vector<Migration>& EmbeddedMigrations();

struct MigrationReport {
  std::vector<int> applied;  // versions applied by this call, in order
  int schema_version = 0;    // highest version recorded after the call
};

// Applies every migration not yet recorded in schema_migrations, all in one transaction
// holding a transaction-scoped advisory lock, so replicas starting together never race and
// a second run applies nothing. Returns UNAVAILABLE when the database cannot be reached.
absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& database_url,
                                                const std::vector<Migration>& migrations);

// The highest version recorded in schema_migrations (0 when the table does not exist yet).
// UNAVAILABLE when the database cannot be reached.
absl::StatusOr<int> ReadSchemaVersion(const std::string& database_url);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_MIGRATIONS_H_
