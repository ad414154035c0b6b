#ifndef UTRACKER_SERVER_QUERY_MESSAGE_STATE_H_
#define UTRACKER_SERVER_QUERY_MESSAGE_STATE_H_

#include <string>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "utracker/v1/flows.pb.h"

namespace utracker::server::query {

// What state derivation needs of one event.
struct EventFact {
  v1::EventKind kind;
  absl::Time at;
  std::string service;
};

// A message's state from the *set* of its events — arrival order never matters:
//  - only events at or after the latest REPLAYED count (a replay starts a new round);
//  - PROCESSED, unless a FAILED is later than the latest PROCESSED -> PROCESSED;
//  - FAILED -> FAILED;
//  - RECEIVED, or any event by a service other than the author (the seed's rule: every
//    other service that logs a message handled it) -> RECEIVED;
//  - anything else (SENT, REPLAYED, the author's notes) -> IN_FLIGHT.
// No events -> UNSPECIFIED. STUCK (IN_FLIGHT past a deadline) is decided by the alerting
// layer, which knows deadlines.
v1::MessageState DeriveState(absl::Span<const EventFact> events, const std::string& author);

// Fills the derived fields of a stored message from its events and origin_service: state,
// last_event_at, sent_at / received_at / processed_at, per-hop durations, handlers,
// destinations.
void DeriveMessageFacts(v1::TrackedMessage& message);

}  // namespace utracker::server::query

#endif  // UTRACKER_SERVER_QUERY_MESSAGE_STATE_H_
