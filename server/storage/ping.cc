#include "storage/ping.h"

#include <pqxx/pqxx>

#include "storage/pg_errors.h"

namespace utracker::server::storage {

absl::Status Ping(const std::string& database_url) {
  try {
    pqxx::connection conn{database_url};
    pqxx::nontransaction tx{conn};
    tx.exec1("SELECT 1");
    return absl::OkStatus();
  } catch (...) {
    return StatusFromCurrentException("checking the database");
  }
}

}  // namespace utracker::server::storage
