#ifndef UTRACKER_SERVER_STORAGE_MESSAGE_ROWS_H_
#define UTRACKER_SERVER_STORAGE_MESSAGE_ROWS_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "utracker/v1/event.pb.h"

namespace utracker::server::storage {

// What one batch says about one message: the messages-table row it would write. Built in
// this process so PostgreSQL gets one pre-aggregated row per message instead of sorting and
// windowing the batch's events itself.
struct MessageRow {
  const v1::Event* first = nullptr;  // lineage comes from here (every event carries it)
  std::string origin_service;
  bool origin_declared = false;        // an event named the author (Event.origin_service)
  bool origin_sent = false;            // else: the author logged SENT
  int64_t origin_at = 0;               // PostgreSQL micros of the event that decided the origin
  int64_t first_seen_at = 0;           // earliest occurred_at
  const v1::Event* content = nullptr;  // the earliest event carrying content, if any
};

// One row per distinct message_id in `events`, in order of first appearance. The author is
// the best candidate by (declared first, then SENT, then earliest) — the same order the
// upsert applies across batches, so the result does not depend on how events were batched.
std::vector<MessageRow> BuildMessageRows(absl::Span<const v1::Event* const> events);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_MESSAGE_ROWS_H_
