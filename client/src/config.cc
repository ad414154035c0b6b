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
  // A positive integer from `name`, if set, into `out`.
  auto positive = [&env](const char* name, size_t* out) -> absl::Status {
    const char* v = env(name);
    if (v == nullptr) return absl::OkStatus();
    size_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n == 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, "=", v, ": want a positive integer"));
    }
    *out = n;
    return absl::OkStatus();
  };
  if (absl::Status st = positive("UTRACKER_MAX_BUFFERED_EVENTS", &base.max_buffered_events);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = positive("UTRACKER_MAX_BUFFERED_BYTES", &base.max_buffered_bytes);
      !st.ok()) {
    return st;
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
