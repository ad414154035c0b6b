#ifndef UTRACKER_SERVER_STORAGE_PG_ROLLUP_STORE_H_
#define UTRACKER_SERVER_STORAGE_PG_ROLLUP_STORE_H_

#include <memory>
#include <string>

#include "storage/rollup_store.h"

namespace utracker::server::storage {

// RollupStore on one libpqxx connection. The lead is a session-level advisory lock on that
// connection: it ends when the connection does, so a replica that dies or loses its
// database link frees the lead at once (or, for a vanished host, when TCP keepalives give
// up: at most ~30 s).
class PgRollupStore : public RollupStore {
 public:
  explicit PgRollupStore(std::string database_url);
  ~PgRollupStore() override;

  absl::StatusOr<bool> Lead() override;
  absl::StatusOr<size_t> RunPass(size_t limit) override;
  void Resign() override;

 private:
  struct Connection;  // defined where pqxx is included
  const std::string database_url_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ROLLUP_STORE_H_
