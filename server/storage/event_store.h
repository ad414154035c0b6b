#ifndef UTRACKER_SERVER_STORAGE_EVENT_STORE_H_
#define UTRACKER_SERVER_STORAGE_EVENT_STORE_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "utracker/v1/event.pb.h"

namespace utracker::server::storage {

// What one Store call did.
struct StoreResult {
  size_t inserted = 0;    // rows new to the events table
  size_t duplicates = 0;  // rows that were already stored (re-sent events)
  // Events the database refused, as (index into the input, reason). Never stored.
  std::vector<std::pair<size_t, std::string>> rejected;
};

// The sink in front of PostgreSQL for validated events (the ingest writer's seam).
// Implementations are called from one thread and never throw.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // Durably stores `events` (already validated and normalised), deduplicating by
  // (event_id, occurred_at), and upserts one messages row per message. When it returns OK,
  // every event not listed in `rejected` is committed. UNAVAILABLE means the database
  // could not be reached and the caller must not acknowledge anything (some events may have
  // been committed; re-sending them is safe).
  virtual absl::StatusOr<StoreResult> Store(absl::Span<const v1::Event* const> events) = 0;

  // From another thread, at shutdown: makes a Store in progress (and any later one) end soon
  // with UNAVAILABLE, nothing of it acknowledged. Idempotent; may be called repeatedly.
  virtual void Cancel() {}
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_EVENT_STORE_H_
