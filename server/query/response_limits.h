#ifndef UTRACKER_SERVER_QUERY_RESPONSE_LIMITS_H_
#define UTRACKER_SERVER_QUERY_RESPONSE_LIMITS_H_

#include <cstddef>

#include "utracker/v1/flows.pb.h"

namespace utracker::server::query {

// gRPC clients refuse a message over 4 MiB unless told otherwise (grpcurl, the C++ and Go
// defaults): answers are kept under it, with room for framing.
inline constexpr size_t kMaxAnswerBytes = (4u << 20) - (64u << 10);

// Keeps the longest prefix of the flow's messages (they come in answer order: by depth, then
// first sight) whose encoding fits in `max_bytes`, and marks the flow truncated if any went.
// Returns whether it cut anything.
bool CapFlowBytes(v1::GetFlowResponse* flow, size_t max_bytes = kMaxAnswerBytes);

}  // namespace utracker::server::query

#endif  // UTRACKER_SERVER_QUERY_RESPONSE_LIMITS_H_
