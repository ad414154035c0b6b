#ifndef UTRACKER_SERVER_STORAGE_PG_ROLLUP_STORE_H_
#define UTRACKER_SERVER_STORAGE_PG_ROLLUP_STORE_H_

#include <memory>
#include <string>

#include "storage/pg_leader_connection.h"
#include "storage/rollup_store.h"

namespace utracker::server::storage {

// About how many events wait in the rollup inbox: those of the waiting batches, and the
// single rows' ids between the oldest and the newest (the exact count would scan them).
inline constexpr const char* kRollupBacklogSql =
    "SELECT (SELECT coalesce(sum(events), 0) FROM rollup_inbox_batches)::int8"
    " + (SELECT coalesce(max(id) - min(id) + 1, 0) FROM rollup_inbox)";

// RollupStore on one libpqxx connection, which holds the lead (LeaderConnection).
class PgRollupStore : public RollupStore {
 public:
  explicit PgRollupStore(std::string database_url);
  ~PgRollupStore() override;

  absl::StatusOr<bool> Lead() override;
  absl::StatusOr<size_t> RunPass(size_t limit) override;
  absl::StatusOr<int64_t> Backlog() override;
  void Resign() override;

 private:
  std::unique_ptr<LeaderConnection> lead_;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ROLLUP_STORE_H_
