#ifndef UTRACKER_SERVER_STORAGE_PG_ARRAYS_H_
#define UTRACKER_SERVER_STORAGE_PG_ARRAYS_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace utracker::server::storage {

// A PostgreSQL array literal, built element by element, to pass a column of values as one
// text parameter (then unnest($n::type[])). Every element is quoted, so any text is safe;
// validation has already ruled out NUL bytes, which no text parameter may hold.
class ArrayLiteral {
 public:
  void Add(absl::string_view text);
  void Add(int64_t v) { Add(absl::StrCat(v)); }
  std::string Done() const { return out_ + "}"; }

 private:
  std::string out_ = "{";
};

// Parses an integer array as PostgreSQL prints it: {1,2,3}.
std::vector<int64_t> ParseIntArray(absl::string_view text);

// Times cross the SQL boundary as Unix microseconds, converted exactly (integer arithmetic on
// both sides). SqlTimestamp("$1") is the timestamptz of an int8 expression; SqlMicros("t")
// the int8 of a timestamptz expression.
inline std::string SqlTimestamp(absl::string_view micros_expr) {
  return absl::StrCat("(timestamptz 'epoch' + ", micros_expr, "::int8 * interval '1 microsecond')");
}
inline std::string SqlMicros(absl::string_view ts_expr) {
  return absl::StrCat("(extract(epoch FROM ", ts_expr, ") * 1000000)::int8");
}
// And into a Timestamp, set in place: TimeUtil's conversion builds a Timestamp to copy and
// destroy, which showed in the profile of a big flow (4 000 timestamps).
inline void SetMicros(int64_t micros, google::protobuf::Timestamp* ts) {
  int64_t seconds = micros / 1000000, rest = micros % 1000000;
  if (rest < 0) {  // before 1970: nanos stay non-negative
    seconds -= 1;
    rest += 1000000;
  }
  ts->set_seconds(seconds);
  ts->set_nanos(static_cast<int32_t>(rest * 1000));
}

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ARRAYS_H_
