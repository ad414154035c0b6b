#include "storage/pg_alert_rows.h"

#include "storage/pg_arrays.h"
#include "wire/alert_rule.h"

namespace utracker::server::storage {

// Times travel as Unix microseconds (exact integer arithmetic in SQL).
const char* const kAlertColumns =
    "id, rule, subject, service, destination,"
    " (extract(epoch FROM opened_at) * 1000000)::int8,"
    " (extract(epoch FROM last_seen_at) * 1000000)::int8,"
    " (extract(epoch FROM resolved_at) * 1000000)::int8,"
    " value, peak, threshold, evaluations, summary, version";

v1::Alert ReadAlert(const pqxx::row& row) {
  v1::Alert a;
  a.set_id(row[0].as<int64_t>());
  a.set_rule(wire::AlertRuleFromName(row[1].as<std::string>()));
  a.set_subject(row[2].as<std::string>());
  a.set_service(row[3].as<std::string>());
  a.set_destination(row[4].as<std::string>());
  SetMicros(row[5].as<int64_t>(), a.mutable_opened_at());
  SetMicros(row[6].as<int64_t>(), a.mutable_last_seen_at());
  if (row[7].is_null()) {
    a.set_state(v1::ALERT_STATE_OPEN);
  } else {
    a.set_state(v1::ALERT_STATE_RESOLVED);
    SetMicros(row[7].as<int64_t>(), a.mutable_resolved_at());
  }
  a.set_value(row[8].as<double>());
  a.set_peak(row[9].as<double>());
  a.set_threshold(row[10].as<double>());
  a.set_evaluations(row[11].as<int64_t>());
  a.set_summary(row[12].as<std::string>());
  return a;
}


}  // namespace utracker::server::storage
