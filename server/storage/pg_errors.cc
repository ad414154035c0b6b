#include "storage/pg_errors.h"

#include <exception>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace utracker::server::storage {

absl::Status StatusFromSqlState(absl::string_view sqlstate, absl::string_view message,
                                absl::string_view context) {
  const std::string text =
      absl::StrCat(context, ": ", absl::StripTrailingAsciiWhitespace(message),
                   sqlstate.empty() ? "" : absl::StrCat(" (SQLSTATE ", sqlstate, ")"));
  // The database cannot do the work now, whatever the data — all worth retrying later, and
  // what health checks report as NOT_SERVING: class 08, connection exception; 57P0x, the
  // server is shutting down or starting up; 53, out of resources (disk full, too many
  // connections); 57014, a statement cancelled (our statement timeout: tables locked or the
  // server stalled); 25006, a read-only transaction (a standby, or after a failover);
  // 55P03, a lock not available; 40003, statement completion unknown; 58, system error (I/O).
  if (sqlstate.empty() || absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "57P") ||
      absl::StartsWith(sqlstate, "53") || absl::StartsWith(sqlstate, "58") ||
      sqlstate == "57014" || sqlstate == "25006" || sqlstate == "55P03" || sqlstate == "40003") {
    return absl::UnavailableError(text);
  }
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::AbortedError(text);
  if (sqlstate == "23505") return absl::AlreadyExistsError(text);
  // Class 22: data exception; 23: integrity constraint; 54: program limit (row too big).
  if (absl::StartsWith(sqlstate, "22") || absl::StartsWith(sqlstate, "23") ||
      absl::StartsWith(sqlstate, "54")) {
    return absl::InvalidArgumentError(text);
  }
  return absl::InternalError(text);
}

absl::Status StatusFromCurrentException(absl::string_view context) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(context, ": connection lost: ", e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(absl::StrCat(context, ": commit outcome unknown: ", e.what()));
  } catch (const pqxx::sql_error& e) {
    return StatusFromSqlState(e.sqlstate(), e.what(), context);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(context, ": unknown exception"));
  }
}

}  // namespace utracker::server::storage
