#include <exception>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "json_redact.h"
#include "utracker/config.h"

namespace utracker {
namespace {

// "application/json", "application/json; charset=utf-8", "application/problem+json", "".
bool LooksJson(absl::string_view content_type) {
  absl::string_view type = content_type.substr(0, content_type.find(';'));
  type = absl::StripAsciiWhitespace(type);
  return type.empty() || absl::EqualsIgnoreCase(type, "application/json") ||
         absl::EndsWithIgnoreCase(type, "+json") || absl::EqualsIgnoreCase(type, "text/json");
}

}  // namespace

PayloadFilter RedactJsonKeys(std::vector<std::string> keys) {
  return [keys = std::move(keys)](absl::string_view content,
                                  absl::string_view content_type) -> absl::StatusOr<std::string> {
    if (!LooksJson(content_type)) {
      return absl::InvalidArgumentError(
          "RedactJsonKeys: content is not JSON; the payload is dropped");
    }
    // Malformed JSON is an error too: a redactor that cannot read the content must not
    // pass it on.
    return client::internal::RedactJsonKeys(content, keys);
  };
}

PayloadFilter DropPayload() {
  return [](absl::string_view, absl::string_view) -> absl::StatusOr<std::string> {
    return absl::FailedPreconditionError("DropPayload: payloads never leave this process");
  };
}

}  // namespace utracker
