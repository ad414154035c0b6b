#ifndef UTRACKER_SERVER_STORAGE_PG_EVENT_STORE_H_
#define UTRACKER_SERVER_STORAGE_PG_EVENT_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "storage/copy_encoder.h"
#include "storage/event_store.h"
#include "storage/message_cache.h"

struct pg_conn;
struct pg_result;

namespace utracker::server::storage {

// EventStore on one PostgreSQL connection of its own, written with libpq directly because
// libpqxx 6.4 cannot do binary COPY. One transaction per Store call: events are COPY'd
// (binary) straight into the events table — or, when the batch holds events stored before,
// through a staging table and INSERT ... ON CONFLICT DO NOTHING — and one pre-aggregated row
// per message is COPY'd into a staging table and upserted into messages. If the database
// refuses the data, the batch is halved until the culprit is alone and rejected; the rest
// commits.
//
// Reconnects by itself (at most one attempt per `reconnect_pause`). Not thread-safe: owned
// and called by one writer thread.
class PgEventStore : public EventStore {
 public:
  // `cache` (may be null) lets batches skip message rows that change nothing; writers
  // share one.
  explicit PgEventStore(std::string database_url, std::shared_ptr<MessageCache> cache = nullptr,
                        absl::Duration reconnect_pause = absl::Milliseconds(500));
  ~PgEventStore() override;
  PgEventStore(const PgEventStore&) = delete;
  PgEventStore& operator=(const PgEventStore&) = delete;

  absl::StatusOr<StoreResult> Store(absl::Span<const v1::Event* const> events) override;
  // Sends PostgreSQL a cancel request for the statement running on this store's connection,
  // and makes every later statement fail at once (UNAVAILABLE). Thread-safe.
  void Cancel() override;

  // How often rows of messages new to this process had to be upserted after all (another
  // replica, or this process before a restart, had written them).
  uint64_t new_message_fallbacks() const { return new_message_fallbacks_; }

 private:
  absl::Status EnsureConnected();
  void Disconnect();
  // Runs a statement; maps a failure to a status (UNAVAILABLE if the connection broke).
  absl::Status Exec(const char* sql, const char* context, size_t* rows = nullptr);
  // Exec's check of a statement's result, which it frees.
  absl::Status Check(pg_result* result, const char* context, size_t* rows = nullptr);
  absl::Status StatusFromLastError(const char* context);
  // Runs a COPY ... FROM STDIN; `fill` appends about one chunk of rows per call and sets
  // *more to false with the last one.
  absl::Status CopyIn(const std::string& copy_sql, const char* context,
                      const std::function<void(BinaryCopyWriter*, bool*)>& fill);
  absl::Status CopyEvents(const char* table, absl::Span<const v1::Event* const> events);
  // The rollup inbox of a batch stored whole (every event new): one rollup_inbox_batches row.
  absl::Status AddInboxBatch(absl::Span<const v1::Event* const> events);
  // COPY of message rows (kMessageRowColumns) into `table`.
  absl::Status CopyMessageRows(const char* table, const std::vector<const MessageRow*>& rows);
  // Through the staging table and INSERT ... ON CONFLICT, in id order.
  absl::Status UpsertMessageRows(const std::vector<const MessageRow*>& rows);
  // Rows of messages new to this process: COPY'd into messages inside a savepoint; if one
  // exists after all (23505), rolled back to it and upserted instead.
  absl::Status InsertNewMessageRows(const std::vector<const MessageRow*>& rows);
  // One statement: first/last seen of each (service, instance) in the batch.
  absl::Status UpsertServices(absl::Span<const v1::Event* const> events);
  // One transaction: COPY events, COPY message rows, upsert, services, commit.
  absl::Status CommitBatch(absl::Span<const v1::Event* const> events, size_t* inserted);
  // Commits what it can of `events`, splitting on data errors. `offset` maps to input indexes.
  absl::Status StoreSplitting(absl::Span<const v1::Event* const> events, size_t offset,
                              StoreResult* result);

  const std::string database_url_;
  const std::shared_ptr<MessageCache> cache_;
  const absl::Duration reconnect_pause_;
  absl::Time last_failed_connect_ = absl::InfinitePast();
  pg_conn* conn_ = nullptr;
  std::atomic<bool> cancelled_{false};
  struct CancelHandle;  // conn_'s cancel request; outlives conn_ while a request is out
  std::mutex cancel_mu_;
  std::shared_ptr<CancelHandle> cancel_;  // guarded by cancel_mu_; null while disconnected
  uint64_t new_message_fallbacks_ = 0;  // times InsertNewMessageRows fell back to the upsert
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_EVENT_STORE_H_
