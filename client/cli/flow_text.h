#ifndef UTRACKER_CLIENT_CLI_FLOW_TEXT_H_
#define UTRACKER_CLIENT_CLI_FLOW_TEXT_H_

#include <string>

#include "absl/time/time.h"
#include "utracker/v1/flows.pb.h"

namespace utracker::cli {

// A readable tree of a flow: each message under its parent, with author, destinations,
// state and hop latencies, and its events (time, service, kind, details, time since the
// message was sent). Times are shown in `tz`.
std::string FlowToText(const v1::GetFlowResponse& flow, absl::TimeZone tz);

// One message and its events, in the same style.
std::string MessageToText(const v1::TrackedMessage& message, absl::TimeZone tz);

// A Mermaid sequence diagram of a flow: one participant per service, an arrow from author
// to each handler per message, notes for outcomes. Service names are aliased and quoted, and
// texts escaped, so odd names cannot break the diagram.
std::string FlowToMermaid(const v1::GetFlowResponse& flow);

// Graphviz DOT of a flow: one node per message (author → destinations, state, hop
// latencies), an arrow from each parent to its children; failed messages red, processed
// green, still in flight orange. Texts are quoted and escaped.
std::string FlowToDot(const v1::GetFlowResponse& flow);

// One line per message (first seen, id, author → destinations, state, latency).
std::string MessageLine(const v1::TrackedMessage& message, absl::TimeZone tz);

// "42ms", "1.5s", "2m3s".
std::string ShortDuration(absl::Duration d);
std::string ShortDuration(const google::protobuf::Duration& d);

}  // namespace utracker::cli

#endif  // UTRACKER_CLIENT_CLI_FLOW_TEXT_H_
