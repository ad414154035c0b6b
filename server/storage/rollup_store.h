#ifndef UTRACKER_SERVER_STORAGE_ROLLUP_STORE_H_
#define UTRACKER_SERVER_STORAGE_ROLLUP_STORE_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace utracker::server::storage {

// Where the rollup job folds the rollup inbox into the graph's rollups (rollup/hop_fold.h).
// Several replicas share one database; only the one holding the lead folds. Not
// thread-safe: one job thread uses it.
class RollupStore {
 public:
  virtual ~RollupStore() = default;

  // Takes the lead if no other replica holds it, or confirms it is still held. false: another
  // replica leads. Losing the connection loses the lead (and lets another replica take it).
  virtual absl::StatusOr<bool> Lead() = 0;

  // One transaction (call only while leading): folds up to `limit` inbox events, oldest
  // first, and deletes them. Returns how many were folded; 0 when the inbox is empty.
  virtual absl::StatusOr<size_t> RunPass(size_t limit) = 0;

  // About how many events wait in the inbox (ids between the oldest and newest waiting; the
  // exact count would scan it). Call only while leading.
  virtual absl::StatusOr<int64_t> Backlog() = 0;

  // Gives the lead up (closes the connection).
  virtual void Resign() = 0;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_ROLLUP_STORE_H_
