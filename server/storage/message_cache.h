#ifndef UTRACKER_SERVER_STORAGE_MESSAGE_CACHE_H_
#define UTRACKER_SERVER_STORAGE_MESSAGE_CACHE_H_

#include <cstddef>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "storage/message_rows.h"
#include "wire/uuid.h"

namespace utracker::server::storage {

// What this process knows the messages table holds for recently written messages, so that a
// batch can leave out message rows that cannot change anything (most events of a message
// arrive after its first one: RECEIVED, PROCESSED, notes). The stored row only ever gets
// better (a better author candidate, an earlier first sight, content where there was none),
// so a remembered state is a lower bound of the stored one: if a row does not beat it, it
// cannot beat the stored row either. Rows are remembered only after their commit.
//
// Bounded: two generations of at most `capacity` entries each; when the newer fills up, the
// older is dropped. Forgetting only costs a redundant (harmless) upsert. Thread-safe; shared
// by the ingest writers.
class MessageCache {
 public:
  explicit MessageCache(size_t capacity) : capacity_(capacity) {}

  enum class Verdict {
    kNew,         // not remembered: new as far as this process knows (another replica, or
                  // this process before a restart, may still have written it)
    kImproves,    // remembered, and `row` may improve the stored row
    kNothingNew,  // remembered, and `row` provably changes nothing in the stored row
  };
  Verdict Judge(const MessageRow& row);
  // Call after the transaction that wrote (or skipped) `row` committed.
  void Remember(const MessageRow& row);
  // The writers' turn at the messages part of their transactions, held from deciding which
  // rows are new (Judge) until after the commit and Remember: a writer inserts new rows with a
  // plain COPY, and two writers inserting (one by COPY, the other by upsert) the same new row
  // in overlapping transactions would deadlock.
  std::unique_lock<std::mutex> Turn() { return std::unique_lock<std::mutex>(turn_); }

  size_t size();

 private:
  struct Known {
    bool declared = false;
    bool sent = false;
    int64_t origin_at = 0;
    int64_t first_seen_at = 0;
    bool has_content = false;
  };
  const Known* Find(const wire::UuidBytes& id);  // mu_ held

  const size_t capacity_;
  std::mutex turn_;
  std::mutex mu_;
  absl::flat_hash_map<wire::UuidBytes, Known> current_;   // guarded by mu_
  absl::flat_hash_map<wire::UuidBytes, Known> previous_;  // guarded by mu_
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_MESSAGE_CACHE_H_
