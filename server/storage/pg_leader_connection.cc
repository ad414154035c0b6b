#include "storage/pg_leader_connection.h"

#include "absl/strings/str_cat.h"
#include "storage/pg_errors.h"

namespace utracker::server::storage {

LeaderConnection::LeaderConnection(std::string database_url, long long lock_key, const char* job)
    : database_url_(std::move(database_url)), lock_key_(lock_key), job_(job) {}

void LeaderConnection::Reset() {
  conn_.reset();
  leading_ = false;
}

void LeaderConnection::CheckAfterFailure() {
  if (conn_ != nullptr && !conn_->is_open()) Reset();
}

absl::StatusOr<bool> LeaderConnection::Lead() {
  try {
    if (conn_ == nullptr || !conn_->is_open()) {
      Reset();
      conn_ = std::make_unique<pqxx::connection>(database_url_);
      // The lead must outlive neither this process nor its host: if the host vanishes,
      // PostgreSQL's side of the connection (and with it the lock) is dropped after about
      // 10 + 3 x 5 s without keepalive answers, instead of the OS default of hours. A pass
      // that another session's lock blocks ends after a minute (and is tried again) instead
      // of holding the job, and a shutdown, until that lock goes.
      pqxx::nontransaction setup{*conn_};
      setup.exec("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5;"
                 " SET tcp_keepalives_count = 3; SET statement_timeout = 60000");
    }
    pqxx::nontransaction tx{*conn_};
    if (leading_) {
      tx.exec("SELECT 1");  // still connected, so the session lock is still ours
      return true;
    }
    leading_ =
        tx.exec(absl::StrCat("SELECT pg_try_advisory_lock(", lock_key_, ")"))[0][0].as<bool>();
    return leading_;
  } catch (...) {
    Reset();
    return StatusFromCurrentException(absl::StrCat("taking the lead of the ", job_));
  }
}

}  // namespace utracker::server::storage
