#ifndef UTRACKER_SERVER_STORAGE_PG_LEADER_CONNECTION_H_
#define UTRACKER_SERVER_STORAGE_PG_LEADER_CONNECTION_H_

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "absl/status/statusor.h"

namespace utracker::server::storage {

// One connection holding a session-level advisory lock: the lead of a periodic job that
// one replica at a time runs (the rollup fold, the alert evaluator). The lock ends with the
// session, so a replica that dies or loses its database link frees the lead at once (or,
// for a vanished host, when the server's TCP keepalive gives up).
class LeaderConnection {
 public:
  LeaderConnection(std::string database_url, long long lock_key, const char* job);

  // Takes the lead if no other session holds it, or confirms it still holds it (a round
  // trip). false: another replica leads.
  absl::StatusOr<bool> Lead();
  // The connection while leading; nullptr otherwise.
  pqxx::connection* conn() { return leading_ ? conn_.get() : nullptr; }
  // Drops the connection (and with it the lead); called when a statement found it broken,
  // and to resign.
  void Reset();
  // After a failed statement: drop the connection if it broke.
  void CheckAfterFailure();

 private:
  const std::string database_url_;
  const long long lock_key_;
  const char* const job_;
  std::unique_ptr<pqxx::connection> conn_;
  bool leading_ = false;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_LEADER_CONNECTION_H_
