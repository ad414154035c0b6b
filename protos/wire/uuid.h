#ifndef UTRACKER_WIRE_UUID_H_
#define UTRACKER_WIRE_UUID_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace utracker::wire {

// 16 raw bytes of a UUID, in network order (as PostgreSQL's binary `uuid`).
using UuidBytes = std::array<uint8_t, 16>;

// Parses the canonical 8-4-4-4-12 hex form, either case. Nothing else (no braces, no urn:).
std::optional<UuidBytes> ParseUuid(absl::string_view text);

// Canonical 36-char lower-case form.
std::string FormatUuid(const UuidBytes& bytes);

// A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a per-process counter that keeps
// ids made in the same millisecond ordered, then random bits. Thread-safe.
std::string NewUuidV7();
std::string NewUuidV7At(absl::Time now);

}  // namespace utracker::wire

#endif  // UTRACKER_WIRE_UUID_H_
