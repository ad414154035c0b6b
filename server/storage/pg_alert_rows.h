#ifndef UTRACKER_SERVER_STORAGE_PG_ALERT_ROWS_H_
#define UTRACKER_SERVER_STORAGE_PG_ALERT_ROWS_H_

#include <pqxx/pqxx>
#include <string>

#include "utracker/v1/alerts.pb.h"

namespace utracker::server::storage {

// The columns ReadAlert reads, in its order (times as exact Unix microseconds).
extern const char* const kAlertColumns;
v1::Alert ReadAlert(const pqxx::row& row);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ALERT_ROWS_H_
