#ifndef UTRACKER_SERVER_QUERY_MESSAGE_STATE_H_
#define UTRACKER_SERVER_QUERY_MESSAGE_STATE_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "utracker/v1/flows.pb.h"

namespace utracker::server::query {

// What state derivation needs of one event; `service` views the event's own string.
struct EventFact {
  v1::EventKind kind;
  absl::Time at;
  absl::string_view service;
};

// A message's state from the *set* of its events — arrival order never matters:
//  - only events at or after the latest REPLAYED count (a replay starts a new round);
//  - PROCESSED, unless a FAILED is later than the latest PROCESSED -> PROCESSED;
//  - FAILED -> FAILED;
//  - RECEIVED, or any event by a service other than the author (the seed's rule: every
//    other service that logs a message handled it) -> RECEIVED;
//  - anything else (SENT, REPLAYED, the author's notes) -> IN_FLIGHT.
// No events -> UNSPECIFIED. STUCK (IN_FLIGHT past a deadline) is decided by
// DeriveMessageFacts, which knows the deadlines.
v1::MessageState DeriveState(absl::Span<const EventFact> events, const std::string& author);

// When an IN_FLIGHT message is STUCK: its wait began at its earliest SENT, or at its latest
// REPLAYED if later, more than the deadline of its destination (that of its earliest SENT)
// ago. The message_states view applies the same rule with the deadlines the server recorded.
struct StuckDeadlines {
  absl::Duration after = absl::Minutes(1);
  std::map<std::string, absl::Duration> by_destination;
  absl::Duration For(const std::string& destination) const {
    auto it = by_destination.find(destination);
    return it == by_destination.end() ? after : it->second;
  }
};

// Fills the derived fields of a stored message from its events and origin_service: state,
// last_event_at, sent_at / received_at / processed_at, per-hop durations, handlers,
// destinations. With `deadlines`, an IN_FLIGHT message waiting too long at `now` is STUCK.
void DeriveMessageFacts(v1::TrackedMessage& message, const StuckDeadlines* deadlines = nullptr,
                        absl::Time now = absl::InfinitePast());

}  // namespace utracker::server::query

#endif  // UTRACKER_SERVER_QUERY_MESSAGE_STATE_H_
