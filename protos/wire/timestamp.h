#ifndef UTRACKER_WIRE_TIMESTAMP_H_
#define UTRACKER_WIRE_TIMESTAMP_H_

#include <google/protobuf/timestamp.pb.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace utracker::wire {

// Whether `ts` is a time google.protobuf.Timestamp can hold: 0001-01-01 to 9999-12-31 UTC,
// nanos in 0..999 999 999. Protobuf's own conversions abort the process on anything else,
// and its JSON printer gives up half way, so times from outside are checked first.
bool IsValidTimestamp(const google::protobuf::Timestamp& ts);

// `t` (to the microsecond, truncated toward the past) as a Timestamp, or InvalidArgument
// naming `what` when it is outside that range (absl::ParseTime takes years such as 10000 and
// "infinite-future").
absl::StatusOr<google::protobuf::Timestamp> ToTimestamp(absl::Time t, absl::string_view what);

}  // namespace utracker::wire

#endif  // UTRACKER_WIRE_TIMESTAMP_H_
