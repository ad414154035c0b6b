#ifndef UTRACKER_SERVER_STORAGE_PG_ALERT_ROWS_H_
#define UTRACKER_SERVER_STORAGE_PG_ALERT_ROWS_H_

#include <pqxx/pqxx>
#include <string>

#include "utracker/v1/alerts.pb.h"

namespace utracker::server::storage {

// The alerts table's rule names ('stuck', 'failure_ratio', 'silence') and back; "" and
// ALERT_RULE_UNSPECIFIED for anything else.
const char* AlertRuleName(v1::AlertRule rule);
v1::AlertRule AlertRuleFromName(const std::string& name);

// The columns ReadAlert reads, in its order (times as exact Unix microseconds).
extern const char* const kAlertColumns;
v1::Alert ReadAlert(const pqxx::row& row);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ALERT_ROWS_H_
