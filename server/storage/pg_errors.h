#ifndef UTRACKER_SERVER_STORAGE_PG_ERRORS_H_
#define UTRACKER_SERVER_STORAGE_PG_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace utracker::server::storage {

// Maps the libpqxx exception being handled (call only inside a catch block) to a status:
// broken connection -> UNAVAILABLE, serialization failure/deadlock -> ABORTED,
// unique violation -> ALREADY_EXISTS, data exceptions -> INVALID_ARGUMENT,
// anything else -> INTERNAL with the SQLSTATE. `context` says what was being done.
absl::Status StatusFromCurrentException(absl::string_view context);

// The same mapping from a SQLSTATE (as libpq reports it) and a message.
absl::Status StatusFromSqlState(absl::string_view sqlstate, absl::string_view message,
                                absl::string_view context);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ERRORS_H_
