#ifndef UTRACKER_SERVER_STORAGE_FLOW_STORE_H_
#define UTRACKER_SERVER_STORAGE_FLOW_STORE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "utracker/v1/flows.pb.h"

namespace utracker::server::storage {

// Filters of a message listing, already checked (UUID-free, sane page size).
struct MessageQuery {
  std::string service, destination;
  v1::EventKind kind = v1::EVENT_KIND_UNSPECIFIED;
  std::optional<int64_t> from_micros, to_micros;  // Unix microseconds
  // Resume strictly after this (listed_at, id), newest-first order.
  std::optional<std::pair<int64_t, std::string>> after;
  size_t limit = 50;
};

// Read side of storage for flow queries. Thread-safe: called from query worker threads.
class FlowStore {
 public:
  virtual ~FlowStore() = default;

  // NOT_FOUND if no event of `message_id` (a validated, lower-case UUID) was ever stored.
  virtual absl::StatusOr<v1::TrackedMessage> GetMessage(const std::string& message_id,
                                                        bool include_content) = 0;

  // The flow of the root of `message_id`, at most `max_messages` messages, into `flow` (empty):
  // root_id, truncated, and the stored messages ordered by depth, then first_seen_at —
  // lineage, origin, first seen, optional content and events (ordered by occurred_at). Derived
  // facts (state, hop timings) are not filled in. What it allocates goes on flow's arena, if
  // it has one (a big flow is tens of thousands of small allocations). NOT_FOUND if no event
  // of `message_id` was ever stored.
  virtual absl::Status GetFlow(const std::string& message_id, bool include_content,
                               size_t max_messages, v1::GetFlowResponse* flow) = 0;

  // A message of a listing, with its place in the listing's order.
  struct Listed {
    v1::TrackedMessage message;
    int64_t listed_micros = 0;  // messages.listed_at: first_seen_at when first stored
  };
  // Up to query.limit messages, newest first by (listed_at, id) — a key no later event
  // changes, so paging neither repeats nor skips — with their events (for state derivation).
  // from/to bound listed_at.
  virtual absl::StatusOr<std::vector<Listed>> ListMessages(const MessageQuery& query) = 0;

  virtual absl::StatusOr<std::vector<v1::ServiceInfo>> ListServices() = 0;

  // Nodes and edges of the minutes starting in [from, to) (Unix microseconds), from the
  // rollups. Sends older than `stuck_before` that an edge's handler has not handled count as
  // stuck on that edge.
  virtual absl::StatusOr<v1::GetServiceGraphResponse> GetServiceGraph(int64_t from_micros,
                                                                      int64_t to_micros,
                                                                      int64_t stuck_before) = 0;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_FLOW_STORE_H_
