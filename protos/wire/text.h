#ifndef UTRACKER_WIRE_TEXT_H_
#define UTRACKER_WIRE_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace utracker::wire {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
// This is what PostgreSQL's UTF8 encoding and protobuf's proto3 `string` accept.
bool IsValidUtf8(absl::string_view text);

// PostgreSQL text cannot hold U+0000 (and libpqxx truncates text parameters there).
bool ContainsNul(absl::string_view text);

// Makes `text` acceptable as event text, in place: each NUL byte and each byte that does not
// start a valid UTF-8 sequence becomes U+FFFD, then the text is cut to at most `max_bytes`
// on a character boundary. Returns whether anything changed. The client library runs this on
// everything it sends: protobuf refuses a whole request whose `string` field holds invalid
// UTF-8, and such a request would otherwise be resent forever.
bool SanitizeText(std::string* text, size_t max_bytes);

// A short, printable-ASCII rendering of untrusted text for error messages: at most
// `max_chars` characters, with anything outside 0x20..0x7e written as \xNN. Safe to put
// in a proto `string` whatever the input.
std::string QuoteForError(absl::string_view text, size_t max_chars = 48);

}  // namespace utracker::wire

#endif  // UTRACKER_WIRE_TEXT_H_
