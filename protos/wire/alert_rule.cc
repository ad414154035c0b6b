#include "wire/alert_rule.h"

namespace utracker::wire {

absl::string_view AlertRuleName(v1::AlertRule rule) {
  switch (rule) {
    case v1::ALERT_RULE_STUCK:
      return "stuck";
    case v1::ALERT_RULE_FAILURE_RATIO:
      return "failure_ratio";
    case v1::ALERT_RULE_SILENCE:
      return "silence";
    default:
      return "";
  }
}

v1::AlertRule AlertRuleFromName(absl::string_view name) {
  for (v1::AlertRule rule :
       {v1::ALERT_RULE_STUCK, v1::ALERT_RULE_FAILURE_RATIO, v1::ALERT_RULE_SILENCE}) {
    if (name == AlertRuleName(rule)) return rule;
  }
  return v1::ALERT_RULE_UNSPECIFIED;
}

}  // namespace utracker::wire
