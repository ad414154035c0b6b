#ifndef UTRACKER_SERVER_STORAGE_PING_H_
#define UTRACKER_SERVER_STORAGE_PING_H_

#include <string>

#include "absl/status/status.h"

namespace utracker::server::storage {

// Opens a connection and runs `SELECT 1`. UNAVAILABLE if the database cannot be reached.
absl::Status Ping(const std::string& database_url);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PING_H_
