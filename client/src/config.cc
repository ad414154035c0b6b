#include "utracker/config.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace utracker {

absl::StatusOr<Config> ConfigFromEnv(Config base) {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? v : nullptr;
  };
  if (const char* v = env("UTRACKER_SERVICE")) base.service = v;
  if (const char* v = env("UTRACKER_INSTANCE")) base.instance = v;
  if (const char* v = env("UTRACKER_SERVER")) base.server = v;
  if (const char* v = env("UTRACKER_MAX_BUFFERED_EVENTS")) {
    size_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("UTRACKER_MAX_BUFFERED_EVENTS=", v, ": want a positive integer"));
    }
    base.max_buffered_events = n;
  }
  if (const char* v = env("UTRACKER_MAX_BUFFERED_BYTES")) {
    size_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("UTRACKER_MAX_BUFFERED_BYTES=", v, ": want a positive integer"));
    }
    base.max_buffered_bytes = n;
  }
  if (const char* v = env("UTRACKER_REDACT_KEYS")) {
    std::vector<std::string> keys;
    for (absl::string_view k : absl::StrSplit(v, ',')) {
      k = absl::StripAsciiWhitespace(k);
      if (!k.empty()) keys.emplace_back(k);
    }
    if (!keys.empty()) base.filters.push_back(RedactJsonKeys(std::move(keys)));
  }
  return base;
}

}  // namespace utracker
