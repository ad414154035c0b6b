#include "storage/pg_arrays.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace utracker::server::storage {

void ArrayLiteral::Add(absl::string_view text) {
  if (out_.size() > 1) out_.push_back(',');
  out_.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out_.push_back('\\');
    out_.push_back(c);
  }
  out_.push_back('"');
}

std::vector<int64_t> ParseIntArray(absl::string_view text) {
  std::vector<int64_t> out;
  absl::ConsumePrefix(&text, "{");
  absl::ConsumeSuffix(&text, "}");
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t v = 0;
    if (absl::SimpleAtoi(part, &v)) out.push_back(v);
  }
  return out;
}

}  // namespace utracker::server::storage
