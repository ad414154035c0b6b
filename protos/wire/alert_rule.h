#ifndef UTRACKER_WIRE_ALERT_RULE_H_
#define UTRACKER_WIRE_ALERT_RULE_H_

#include "absl/strings/string_view.h"
#include "utracker/v1/alerts.pb.h"

namespace utracker::wire {

// The alert rules' short names — "stuck", "failure_ratio", "silence" — as the alerts table,
// the CLI and --alert_webhook_for spell them. "" for anything else.
absl::string_view AlertRuleName(v1::AlertRule rule);
// The rule of a short name; ALERT_RULE_UNSPECIFIED for anything else.
v1::AlertRule AlertRuleFromName(absl::string_view name);

}  // namespace utracker::wire

#endif  // UTRACKER_WIRE_ALERT_RULE_H_
