#ifndef UTRACKER_WIRE_EVENT_VALIDATION_H_
#define UTRACKER_WIRE_EVENT_VALIDATION_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "utracker/v1/event.pb.h"

namespace utracker::wire {

// Size limits of one event, in bytes. Chosen so that one event always fits a gRPC message
// and a PostgreSQL row comfortably; documented in the README.
inline constexpr size_t kMaxServiceBytes = 128;
inline constexpr size_t kMaxInstanceBytes = 256;
inline constexpr size_t kMaxNameBytes = 1024;
inline constexpr size_t kMaxDestinationBytes = 256;
inline constexpr size_t kMaxErrorBytes = 8 * 1024;
inline constexpr size_t kMaxContentTypeBytes = 256;
inline constexpr size_t kMaxContentBytes = 1024 * 1024;
inline constexpr size_t kMaxAttributes = 64;
inline constexpr size_t kMaxAttributeKeyBytes = 128;
inline constexpr size_t kMaxAttributeValueBytes = 4 * 1024;
inline constexpr uint32_t kMaxDepth = 10000;
// One LogEventsRequest: at most this many events (more are all rejected) and bytes (the
// server's gRPC receive limit; a bigger request fails the stream).
inline constexpr int kMaxEventsPerRequest = 10000;
inline constexpr int kMaxRequestBytes = 32 * 1024 * 1024;
// How far ahead of the server's clock an event's occurred_at may be.
inline constexpr absl::Duration kMaxClockSkew = absl::Hours(24);

// Checks a message's lineage (the rules every event and envelope follow) and normalises it:
// UUIDs lower-cased; a root (no parent) has depth 0 and root_id == id (filled in when empty);
// a child names its root (different from itself) and has depth 1..kMaxDepth.
// `id_field` names the id in error messages ("message_id" for events, "id" for envelopes).
absl::Status ValidateAndNormalizeLineage(absl::string_view id_field, std::string* id,
                                         std::string* parent_id, std::string* root_id,
                                         uint32_t depth);

// Checks one event against the wire contract and normalises it in place, so that what is
// stored is canonical: UUIDs lower-cased, root_id filled in for a root message,
// occurred_at truncated to microseconds (PostgreSQL's precision; the truncation is
// deterministic, so a retried event keeps the same primary key).
//
// Returns InvalidArgument with a reason a person can act on (field name first). The reason
// is printable ASCII whatever the input, so it can always be sent back in a response.
absl::Status ValidateAndNormalizeEvent(v1::Event& event, absl::Time now);

}  // namespace utracker::wire

#endif  // UTRACKER_WIRE_EVENT_VALIDATION_H_
