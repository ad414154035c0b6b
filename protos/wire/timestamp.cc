#include "wire/timestamp.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"

namespace utracker::wire {

using google::protobuf::util::TimeUtil;

bool IsValidTimestamp(const google::protobuf::Timestamp& ts) {
  return ts.seconds() >= TimeUtil::kTimestampMinSeconds &&
         ts.seconds() <= TimeUtil::kTimestampMaxSeconds && ts.nanos() >= 0 &&
         ts.nanos() <= 999999999;
}

absl::StatusOr<google::protobuf::Timestamp> ToTimestamp(absl::Time t, absl::string_view what) {
  const absl::Time min = absl::FromUnixSeconds(TimeUtil::kTimestampMinSeconds);
  const absl::Time max = absl::FromUnixSeconds(TimeUtil::kTimestampMaxSeconds + 1);
  if (t < min || t >= max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is out of range: ", absl::FormatTime(t, absl::UTCTimeZone()),
                     " (times from 0001-01-01 to 9999-12-31 UTC)"));
  }
  // In range now: protobuf's conversion cannot abort.
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

}  // namespace utracker::wire
