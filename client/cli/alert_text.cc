#include "alert_text.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "wire/alert_rule.h"

namespace utracker::cli {
namespace {

std::string Time(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ",
      absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(ts)),
      absl::UTCTimeZone());
}

}  // namespace

std::string AlertLine(const v1::Alert& a) {
  const bool resolved = a.state() == v1::ALERT_STATE_RESOLVED || a.has_resolved_at();
  std::string line = absl::StrFormat(
      "#%d  %-8s  %s  %s  value %g (peak %g, threshold %g)  since %s  %s %s  %d evaluation%s",
      a.id(), resolved ? "RESOLVED" : "OPEN", wire::AlertRuleName(a.rule()), a.subject(), a.value(),
      a.peak(), a.threshold(), Time(a.opened_at()), resolved ? "resolved" : "last seen",
      Time(resolved ? a.resolved_at() : a.last_seen_at()), a.evaluations(),
      a.evaluations() == 1 ? "" : "s");
  if (!a.summary().empty()) absl::StrAppend(&line, "  | ", a.summary());
  return line;
}

std::string AlertChangeLine(const v1::AlertChange& change) {
  const char* kind = "?";
  switch (change.kind()) {
    case v1::AlertChange::KIND_OPEN_AT_START:
      kind = "open-at-start";
      break;
    case v1::AlertChange::KIND_OPENED:
      kind = "opened";
      break;
    case v1::AlertChange::KIND_UPDATED:
      kind = "updated";
      break;
    case v1::AlertChange::KIND_RESOLVED:
      kind = "resolved";
      break;
    default:
      break;
  }
  return absl::StrFormat("%-13s  %s", kind, AlertLine(change.alert()));
}

}  // namespace utracker::cli
