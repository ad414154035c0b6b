#include "query/message_state.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "storage/pg_arrays.h"

namespace utracker::server::query {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Set in place (TimeUtil's conversions build a message to copy and destroy, six times per
// message of a big flow), to the microsecond: what is stored.
void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  storage::SetMicros(absl::ToUnixMicros(t), ts);
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  absl::Duration rest;
  // Seconds and nanos share their sign, as Duration requires; IDivDuration truncates.
  out->set_seconds(absl::IDivDuration(d, absl::Seconds(1), &rest));
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(rest)));
}

void KeepEarliest(std::optional<absl::Time>& slot, absl::Time t) {
  if (!slot || t < *slot) slot = t;
}

void KeepLatest(std::optional<absl::Time>& slot, absl::Time t) {
  if (!slot || t > *slot) slot = t;
}

}  // namespace

v1::MessageState DeriveState(absl::Span<const EventFact> events, const std::string& author) {
  if (events.empty()) return v1::MESSAGE_STATE_UNSPECIFIED;
  std::optional<absl::Time> replayed;
  for (const EventFact& e : events) {
    if (e.kind == v1::EVENT_KIND_REPLAYED) KeepLatest(replayed, e.at);
  }
  std::optional<absl::Time> processed, failed;
  bool received = false;
  for (const EventFact& e : events) {
    if (replayed && e.at < *replayed) continue;
    switch (e.kind) {
      case v1::EVENT_KIND_PROCESSED:
        KeepLatest(processed, e.at);
        break;
      case v1::EVENT_KIND_FAILED:
        KeepLatest(failed, e.at);
        break;
      case v1::EVENT_KIND_RECEIVED:
        received = true;
        break;
      case v1::EVENT_KIND_REPLAYED:
        break;  // a replay is done by the system, not a handler
      default:
        if (e.service != author) received = true;
    }
  }
  if (processed && (!failed || *failed <= *processed)) return v1::MESSAGE_STATE_PROCESSED;
  if (failed) return v1::MESSAGE_STATE_FAILED;
  if (received) return v1::MESSAGE_STATE_RECEIVED;
  return v1::MESSAGE_STATE_IN_FLIGHT;
}

void DeriveMessageFacts(v1::TrackedMessage& m, const StuckDeadlines* deadlines, absl::Time now) {
  // Inline for the usual handful of events: no heap vectors per message of a big flow.
  absl::InlinedVector<EventFact, 8> facts;
  std::optional<absl::Time> sent, received, handled, processed, last, replayed;
  const std::string* sent_to = nullptr;  // destination of the earliest SENT
  // Views into the events' own strings, sorted and deduplicated at the end: cheaper than a
  // std::set of copies for the thousands of messages of a big flow.
  absl::InlinedVector<absl::string_view, 4> handlers, destinations;
  for (const v1::Event& e : m.events()) {
    const absl::Time at = ToTime(e.occurred_at());
    facts.push_back({e.kind(), at, e.service()});
    KeepLatest(last, at);
    if (!e.destination().empty()) destinations.push_back(e.destination());
    if (e.kind() == v1::EVENT_KIND_SENT &&
        (!sent || at < *sent || (at == *sent && e.destination() < *sent_to))) {
      sent = at;
      sent_to = &e.destination();
    }
    if (e.kind() == v1::EVENT_KIND_REPLAYED) KeepLatest(replayed, at);
    if (e.kind() == v1::EVENT_KIND_RECEIVED) KeepEarliest(received, at);
    if (e.kind() == v1::EVENT_KIND_PROCESSED) KeepEarliest(processed, at);
    if (e.service() != m.origin_service()) {
      handlers.push_back(e.service());
      KeepEarliest(handled, at);
    }
  }
  m.set_state(DeriveState(facts, m.origin_service()));
  if (deadlines != nullptr && m.state() == v1::MESSAGE_STATE_IN_FLIGHT && sent) {
    const absl::Time waiting_since = replayed && *replayed > *sent ? *replayed : *sent;
    if (waiting_since < now - deadlines->For(*sent_to)) m.set_state(v1::MESSAGE_STATE_STUCK);
  }
  if (!received) received = handled;
  if (last) SetTimestamp(*last, m.mutable_last_event_at());
  if (sent) SetTimestamp(*sent, m.mutable_sent_at());
  if (received) SetTimestamp(*received, m.mutable_received_at());
  if (processed) SetTimestamp(*processed, m.mutable_processed_at());
  if (sent && received) SetDuration(*received - *sent, m.mutable_send_to_receive());
  if (received && processed) SetDuration(*processed - *received, m.mutable_receive_to_process());
  auto distinct = [](absl::InlinedVector<absl::string_view, 4>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  distinct(handlers);
  distinct(destinations);
  m.clear_handlers();
  for (absl::string_view h : handlers) m.add_handlers(h.data(), h.size());
  m.clear_destinations();
  for (absl::string_view d : destinations) m.add_destinations(d.data(), d.size());
}

}  // namespace utracker::server::query
