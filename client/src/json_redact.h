#ifndef UTRACKER_CLIENT_SRC_JSON_REDACT_H_
#define UTRACKER_CLIENT_SRC_JSON_REDACT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace utracker::client::internal {

// Returns `json` with the value of every object member whose key matches one of `keys`
// replaced by the JSON string "[REDACTED]", at any depth (nested objects and arrays alike).
// Everything else is kept byte for byte (whitespace, number spelling, key order, escapes),
// so an unredacted payload reads exactly as the embedding service wrote it.
//
// Keys are compared after decoding JSON string escapes (so "pass\u0077ord" matches
// "password"), ASCII case-insensitively; non-ASCII characters compare as exact UTF-8 bytes.
// A matched member's whole value is replaced whatever its type, and nothing inside it is
// looked at for further matches. String values are never matched, only member keys.
//
// Returns InvalidArgument, naming the byte offset, unless `json` is exactly one well-formed
// JSON value (RFC 8259, surrounding whitespace allowed) in valid UTF-8, nested at most 512
// levels deep. Escapes that decode to a lone UTF-16 surrogate are rejected too. Being strict
// lets the caller drop a payload this function cannot fully understand instead of sending
// it unfiltered. The input is validated even when `keys` is empty.
//
// Thread-safe: a pure function of its arguments.
absl::StatusOr<std::string> RedactJsonKeys(absl::string_view json,
                                           const std::vector<std::string>& keys);

}  // namespace utracker::client::internal

#endif  // UTRACKER_CLIENT_SRC_JSON_REDACT_H_
