#include "storage/pg_event_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/copy_encoder.h"
#include "storage/inbox_batch.h"
#include "storage/message_rows.h"
#include "storage/pg_errors.h"
#include "wire/status_macros.h"

namespace utracker::server::storage {
namespace {

// Send COPY data in chunks of about this size.
constexpr size_t kCopyChunkBytes = 1 << 20;

constexpr const char* kCreateStaging =
    "CREATE TEMPORARY TABLE IF NOT EXISTS utracker_staging"
    " (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
    "CREATE TEMPORARY TABLE IF NOT EXISTS utracker_message_staging ("
    " id uuid, parent_id uuid, root_id uuid, depth integer, origin_service text,"
    " origin_declared boolean, origin_sent boolean, origin_at timestamptz,"
    " first_seen_at timestamptz, listed_at timestamptz, content_type text, content bytea)"
    " ON COMMIT DELETE ROWS";

// Only for a batch holding events stored before (a client's resend): the fast path, COPY
// straight into events, failed on the primary key. What is newly stored goes to the rollup
// inbox too; the duplicates go nowhere.
constexpr const char* kMergeStagedEvents =
    "WITH stored AS (INSERT INTO events SELECT * FROM utracker_staging ON CONFLICT DO NOTHING"
    "  RETURNING message_id, service, kind, occurred_at, destination)"
    " INSERT INTO rollup_inbox (message_id, service, kind, occurred_at, destination)"
    " SELECT * FROM stored";

// One pre-aggregated row per message (BuildMessageRows). A message seen before is updated
// only when this batch improves something: a better author candidate — (NOT origin_declared,
// NOT origin_sent, origin_at), smallest wins, whatever order batches come in — an earlier
// first sight, or content where there was none. Most events of a known message change
// nothing, and then no row is rewritten. The author columns take the staged values only when
// they are the better candidate (on a tie the stored row stays), each column by its own CASE:
// choosing by a VALUES subquery sorted per row made this statement cost ~24 µs per row.
#define UT_BETTER_ORIGIN                                                            \
  "(NOT EXCLUDED.origin_declared, NOT EXCLUDED.origin_sent, EXCLUDED.origin_at)" \
  " < (NOT m.origin_declared, NOT m.origin_sent, m.origin_at)"
constexpr const char* kUpsertMessages =
    "INSERT INTO messages AS m (id, parent_id, root_id, depth, origin_service, origin_declared,"
    " origin_sent, origin_at, first_seen_at, listed_at, content_type, content)"
    " SELECT id, parent_id, root_id, depth, origin_service, origin_declared, origin_sent,"
    "  origin_at, first_seen_at, listed_at, content_type, content FROM utracker_message_staging"
    " ORDER BY id"  // every writer locks rows in the same order: no deadlocks between them
    " ON CONFLICT (id) DO UPDATE SET"
    "  origin_service = CASE WHEN " UT_BETTER_ORIGIN " THEN EXCLUDED.origin_service"
    "   ELSE m.origin_service END,"
    "  origin_declared = CASE WHEN " UT_BETTER_ORIGIN " THEN EXCLUDED.origin_declared"
    "   ELSE m.origin_declared END,"
    "  origin_sent = CASE WHEN " UT_BETTER_ORIGIN " THEN EXCLUDED.origin_sent"
    "   ELSE m.origin_sent END,"
    "  origin_at = CASE WHEN " UT_BETTER_ORIGIN " THEN EXCLUDED.origin_at ELSE m.origin_at END,"
    "  first_seen_at = LEAST(m.first_seen_at, EXCLUDED.first_seen_at),"
    "  content_type = CASE WHEN m.content IS NULL THEN EXCLUDED.content_type"
    "   ELSE m.content_type END,"
    "  content = COALESCE(m.content, EXCLUDED.content),"
    // A row an old writer stored (or one from before migration 0011) has no listing key of its
    // own: it is frozen now, before this write can move first_seen_at (ListMessages).
    "  listed_at = COALESCE(m.listed_at, m.first_seen_at)"
    " WHERE " UT_BETTER_ORIGIN " OR EXCLUDED.first_seen_at < m.first_seen_at"
    "  OR (m.content IS NULL AND EXCLUDED.content IS NOT NULL)";
#undef UT_BETTER_ORIGIN

}  // namespace

// A cancel request libpq can send from any thread. PQcancel opens a connection of its own,
// without a timeout in libpq 15: it runs on a thread of its own, so that a database host that
// drops packets holds up neither the shutdown nor the writer, which may drop its connection
// (and this store) meanwhile — the handle lives on until the request is done.
struct PgEventStore::CancelHandle {
  explicit CancelHandle(PGcancel* c) : cancel(c) {}
  ~CancelHandle() { PQfreeCancel(cancel); }
  PGcancel* const cancel;
  std::atomic<bool> sending{false};  // one request out at a time
};

namespace {

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultCloser>;

}  // namespace

PgEventStore::PgEventStore(std::string database_url, std::shared_ptr<MessageCache> cache,
                           absl::Duration reconnect_pause)
    : database_url_(std::move(database_url)),
      cache_(std::move(cache)),
      reconnect_pause_(reconnect_pause) {}

PgEventStore::~PgEventStore() { Disconnect(); }

void PgEventStore::Disconnect() {
  {
    std::lock_guard<std::mutex> lock(cancel_mu_);
    cancel_.reset();
  }
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

void PgEventStore::Cancel() {
  cancelled_ = true;
  std::shared_ptr<CancelHandle> handle;
  {
    std::lock_guard<std::mutex> lock(cancel_mu_);
    handle = cancel_;
  }
  if (handle == nullptr || handle->sending.exchange(true)) return;
  // Best effort: if the request does not get through, the statement timeout still ends it.
  try {
    std::thread([handle] {
      char error[256];
      PQcancel(handle->cancel, error, sizeof(error));
      handle->sending = false;
    }).detach();
  } catch (const std::exception&) {  // no thread to be had: the next call tries again
    handle->sending = false;
  }
}

absl::Status PgEventStore::EnsureConnected() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
  Disconnect();
  const absl::Time now = absl::Now();
  if (now - last_failed_connect_ < reconnect_pause_) {
    return absl::UnavailableError("PostgreSQL unreachable (waiting before reconnecting)");
  }
  // Our defaults first; the URL's own settings, expanded from "dbname", override them.
  // Keepalives and a TCP user timeout notice a database host that vanished; the statement
  // timeout bounds a COPY or upsert that hangs — either way the batch fails unacked and is
  // resent, instead of a writer (and a graceful shutdown) waiting forever.
  const char* keys[] = {"application_name",
                        "connect_timeout",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "options",
                        "dbname",
                        nullptr};
  const char* values[] = {
      "utracker-ingest",     "5",    "10", "5", "3", "30000", "-c statement_timeout=60000",
      database_url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    Disconnect();
    last_failed_connect_ = now;
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", why));
  }
  {
    PGcancel* cancel = PQgetCancel(conn_);
    std::lock_guard<std::mutex> lock(cancel_mu_);
    cancel_ = cancel == nullptr ? nullptr : std::make_shared<CancelHandle>(cancel);
  }
  absl::Status st = Exec(kCreateStaging, "creating staging table");
  if (!st.ok()) {
    Disconnect();
    last_failed_connect_ = now;
  }
  return st;
}

absl::Status PgEventStore::StatusFromLastError(const char* context) {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = conn_ ? PQerrorMessage(conn_) : "not connected";
    Disconnect();
    return absl::UnavailableError(absl::StrCat(context, ": connection lost: ", why));
  }
  return StatusFromSqlState("", PQerrorMessage(conn_), context);
}

absl::Status PgEventStore::Exec(const char* sql, const char* context, size_t* rows) {
  if (cancelled_) return absl::UnavailableError(absl::StrCat(context, ": cancelled (shutdown)"));
  return Check(PQexec(conn_, sql), context, rows);
}

absl::Status PgEventStore::Check(pg_result* result, const char* context, size_t* rows) {
  Result res{result};
  const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN) {
    if (rows != nullptr) *rows = std::strtoull(PQcmdTuples(res.get()), nullptr, 10);
    return absl::OkStatus();
  }
  if (PQstatus(conn_) != CONNECTION_OK || !res) return StatusFromLastError(context);
  const char* sqlstate = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
  return StatusFromSqlState(sqlstate ? sqlstate : "XX000", PQresultErrorMessage(res.get()),
                            context);
}

absl::Status PgEventStore::CopyIn(const std::string& copy_sql, const char* context,
                                  const std::function<void(BinaryCopyWriter*, bool*)>& fill) {
  UTRACKER_RETURN_IF_ERROR(Exec(copy_sql.c_str(), context));
  BinaryCopyWriter writer;
  bool send_ok = true;
  auto flush = [&] {
    if (send_ok &&
        PQputCopyData(conn_, writer.data().data(), static_cast<int>(writer.data().size())) != 1) {
      send_ok = false;
    }
    writer.Consume();
  };
  bool more = true;
  while (more) {
    fill(&writer, &more);  // fills about one chunk per call
    if (!more) writer.Finish();
    flush();
  }
  if (PQputCopyEnd(conn_, send_ok ? nullptr : "client failed sending data") != 1) {
    return StatusFromLastError(context);
  }
  // A COPY's outcome is the first result after PQputCopyEnd; drain the rest.
  absl::Status status;
  while (PGresult* raw = PQgetResult(conn_)) {
    Result res{raw};
    if (status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK) {
      const char* sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
      status =
          StatusFromSqlState(sqlstate ? sqlstate : "XX000", PQresultErrorMessage(raw), context);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) return StatusFromLastError(context);
  return status;
}

absl::Status PgEventStore::CopyEvents(const char* table,
                                      absl::Span<const v1::Event* const> events) {
  size_t next = 0;
  return CopyIn(absl::StrCat("COPY ", table, " (", kEventColumns, ") FROM STDIN (FORMAT binary)"),
                table, [&](BinaryCopyWriter* w, bool* more) {
                  while (next < events.size() && w->data().size() < kCopyChunkBytes) {
                    EncodeEvent(*events[next++], w);
                  }
                  *more = next < events.size();
                });
}

absl::Status PgEventStore::AddInboxBatch(absl::Span<const v1::Event* const> events) {
  if (events.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> payload = EncodeInboxBatch(events);
  if (!payload.ok()) return payload.status();
  const std::string count = absl::StrCat(events.size());
  const char* values[] = {count.c_str(), payload->data()};
  const int lengths[] = {0, static_cast<int>(payload->size())};
  const int formats[] = {0, 1};  // the payload goes as binary: no escaping either way
  return Check(PQexecParams(conn_,
                            "INSERT INTO rollup_inbox_batches (events, payload)"
                            " VALUES ($1::int4, $2::bytea)",
                            2, nullptr, values, lengths, formats, 0),
               "adding to the rollup inbox");
}

absl::Status PgEventStore::UpsertServices(absl::Span<const v1::Event* const> events) {
  // (service, instance) -> earliest and latest occurred_at in this batch; sorted, so that
  // concurrent writers lock rows in the same order.
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> seen;
  for (const v1::Event* e : events) {
    const int64_t at = PgTimestampMicros(e->occurred_at());
    auto [it, added] = seen.try_emplace({e->service(), e->instance()}, at, at);
    if (!added) {
      it->second.first = std::min(it->second.first, at);
      it->second.second = std::max(it->second.second, at);
    }
  }
  // At most kServicesPerStatement rows per statement (4 parameters each; libpq allows 65535).
  constexpr int kServicesPerStatement = 1000;
  auto it = seen.begin();
  while (it != seen.end()) {
    std::string sql =
        "INSERT INTO services AS s (service, instance, first_seen_at, last_seen_at,"
        " last_logged_at) VALUES ";
    std::vector<std::string> values;
    int n = 0;
    for (; it != seen.end() && n < kServicesPerStatement; ++it) {
      const auto& [key, times] = *it;
      absl::StrAppend(&sql, n == 0 ? "" : ", ", "($", n * 4 + 1, ", $", n * 4 + 2,
                      ", timestamptz '2000-01-01 00:00:00+00' + $", n * 4 + 3,
                      "::int8 * interval '1 microsecond', timestamptz '2000-01-01 00:00:00+00' + $",
                      n * 4 + 4, "::int8 * interval '1 microsecond', now())");
      values.push_back(key.first);
      values.push_back(key.second);
      values.push_back(absl::StrCat(times.first));
      values.push_back(absl::StrCat(times.second));
      ++n;
    }
    absl::StrAppend(&sql,
                    " ON CONFLICT (service, instance) DO UPDATE SET"
                    " first_seen_at = LEAST(s.first_seen_at, EXCLUDED.first_seen_at),"
                    " last_seen_at = GREATEST(s.last_seen_at, EXCLUDED.last_seen_at),"
                    " last_logged_at = GREATEST(s.last_logged_at, EXCLUDED.last_logged_at)"
                    // Rewritten when the times widen, and otherwise at most every 5 s for the
                    // server-clock time the silence rule reads.
                    " WHERE EXCLUDED.first_seen_at < s.first_seen_at"
                    " OR EXCLUDED.last_seen_at > s.last_seen_at OR s.last_logged_at IS NULL"
                    " OR s.last_logged_at < EXCLUDED.last_logged_at - interval '5 seconds'");
    // Text parameters are safe here: validation guarantees UTF-8 without NUL bytes.
    std::vector<const char*> params;
    for (const std::string& v : values) params.push_back(v.c_str());
    Result res{PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                            params.data(), nullptr, nullptr, 0)};
    if (res && PQresultStatus(res.get()) == PGRES_COMMAND_OK) continue;
    if (!res || PQstatus(conn_) != CONNECTION_OK) return StatusFromLastError("upserting services");
    const char* sqlstate = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    return StatusFromSqlState(sqlstate ? sqlstate : "XX000", PQresultErrorMessage(res.get()),
                              "upserting services");
  }
  return absl::OkStatus();
}

absl::Status PgEventStore::CopyMessageRows(const char* table,
                                           const std::vector<const MessageRow*>& rows) {
  size_t next = 0;
  return CopyIn(absl::StrCat("COPY ", table, " (", kMessageRowColumns, ") FROM STDIN (FORMAT binary)"),
                table, [&](BinaryCopyWriter* w, bool* more) {
                  while (next < rows.size() && w->data().size() < kCopyChunkBytes) {
                    EncodeMessageRow(*rows[next++], w);
                  }
                  *more = next < rows.size();
                });
}

absl::Status PgEventStore::UpsertMessageRows(const std::vector<const MessageRow*>& rows) {
  if (rows.empty()) return absl::OkStatus();
  UTRACKER_RETURN_IF_ERROR(CopyMessageRows("utracker_message_staging", rows));
  return Exec(kUpsertMessages, "upserting messages");
}

absl::Status PgEventStore::InsertNewMessageRows(const std::vector<const MessageRow*>& rows) {
  if (rows.empty()) return absl::OkStatus();
  UTRACKER_RETURN_IF_ERROR(Exec("SAVEPOINT new_messages", "SAVEPOINT"));
  absl::Status copied = CopyMessageRows("messages", rows);
  if (copied.code() != absl::StatusCode::kAlreadyExists) return copied;
  // One of them was written by another replica, or by this process before a restart (or
  // forgotten by the cache): upsert them after all.
  ++new_message_fallbacks_;
  UTRACKER_RETURN_IF_ERROR(Exec("ROLLBACK TO SAVEPOINT new_messages", "ROLLBACK TO SAVEPOINT"));
  UTRACKER_RETURN_IF_ERROR(Exec("DELETE FROM utracker_message_staging", "clearing staging"));
  return UpsertMessageRows(rows);
}

absl::Status PgEventStore::CommitBatch(absl::Span<const v1::Event* const> events,
                                       size_t* inserted) {
  absl::Status st = [&]() -> absl::Status {
    UTRACKER_RETURN_IF_ERROR(Exec("BEGIN", "BEGIN"));
    // Optimistic: COPY straight into events, as fast as PostgreSQL takes rows. Only when the
    // batch holds an event stored before (23505) is it redone through staging with
    // ON CONFLICT DO NOTHING, which inserts row by row and costs about a third more.
    absl::Status copied = CopyEvents("events", events);
    if (copied.code() == absl::StatusCode::kAlreadyExists) {
      UTRACKER_RETURN_IF_ERROR(Exec("ROLLBACK", "ROLLBACK"));
      UTRACKER_RETURN_IF_ERROR(Exec("BEGIN", "BEGIN"));
      UTRACKER_RETURN_IF_ERROR(CopyEvents("utracker_staging", events));
      UTRACKER_RETURN_IF_ERROR(Exec(kMergeStagedEvents, "merging re-sent events", inserted));
    } else {
      UTRACKER_RETURN_IF_ERROR(copied);
      *inserted = events.size();
      UTRACKER_RETURN_IF_ERROR(AddInboxBatch(events));
    }
    const std::vector<MessageRow> all_rows = BuildMessageRows(events);
    std::unique_lock<std::mutex> turn;
    if (cache_ != nullptr) turn = cache_->Turn();
    // Rows of messages this process wrote before go through the upsert; new ones (as far as
    // this process knows) are COPY'd straight in, which costs PostgreSQL less than half
    // (README "Ingest benchmark"). Rows that provably change nothing are left out.
    std::vector<const MessageRow*> known, fresh;
    known.reserve(all_rows.size());
    for (const MessageRow& r : all_rows) {
      switch (cache_ == nullptr ? MessageCache::Verdict::kImproves : cache_->Judge(r)) {
        case MessageCache::Verdict::kNew:
          fresh.push_back(&r);
          break;
        case MessageCache::Verdict::kImproves:
          known.push_back(&r);
          break;
        case MessageCache::Verdict::kNothingNew:
          break;
      }
    }
    UTRACKER_RETURN_IF_ERROR(UpsertMessageRows(known));
    // In id order, as the upsert locks its rows: two replicas inserting some of the same new
    // messages take those locks in one order (ids are validated, lower-case UUIDs, so
    // comparing the text compares the ids). Not a guarantee: the upsert of known rows ran
    // first and holds its locks, so replicas can still deadlock across the two (retried).
    std::sort(fresh.begin(), fresh.end(), [](const MessageRow* a, const MessageRow* b) {
      return a->first->message_id() < b->first->message_id();
    });
    UTRACKER_RETURN_IF_ERROR(InsertNewMessageRows(fresh));
    UTRACKER_RETURN_IF_ERROR(UpsertServices(events));
    UTRACKER_RETURN_IF_ERROR(Exec("COMMIT", "COMMIT"));
    if (cache_ != nullptr) {
      for (const MessageRow& r : all_rows) cache_->Remember(r);
    }
    return absl::OkStatus();
  }();
  if (!st.ok() && conn_ != nullptr && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    // Best effort: if even ROLLBACK fails the connection is dropped and remade next time.
    if (!Exec("ROLLBACK", "ROLLBACK").ok()) Disconnect();
  }
  return st;
}

absl::Status PgEventStore::StoreSplitting(absl::Span<const v1::Event* const> events, size_t offset,
                                          StoreResult* result) {
  size_t inserted = 0;
  absl::Status st = CommitBatch(events, &inserted);
  // Another writer's transaction may have won a race on the same rows (a deadlock or
  // serialization failure): that is nobody's fault, try again.
  for (int retry = 0; retry < 3 && st.code() == absl::StatusCode::kAborted; ++retry) {
    st = CommitBatch(events, &inserted);
  }
  if (st.ok()) {
    result->inserted += inserted;
    result->duplicates += events.size() - inserted;
    return st;
  }
  // Only data errors are an event's fault; anything else fails the whole call.
  if (st.code() != absl::StatusCode::kInvalidArgument) return st;
  if (events.size() == 1) {
    result->rejected.emplace_back(offset, absl::StrCat("refused by PostgreSQL: ", st.message()));
    return absl::OkStatus();
  }
  const size_t half = events.size() / 2;
  UTRACKER_RETURN_IF_ERROR(StoreSplitting(events.subspan(0, half), offset, result));
  return StoreSplitting(events.subspan(half), offset + half, result);
}

absl::StatusOr<StoreResult> PgEventStore::Store(absl::Span<const v1::Event* const> events) {
  StoreResult result;
  if (events.empty()) return result;
  if (cancelled_) return absl::UnavailableError("storing events: cancelled (shutdown)");
  UTRACKER_RETURN_IF_ERROR(EnsureConnected());
  absl::Status st;
  try {
    st = StoreSplitting(events, 0, &result);
  } catch (...) {
    // Thrown mid-transaction (or mid-COPY): the connection goes, and with it the transaction,
    // so nothing of this batch can be committed by the next one.
    Disconnect();
    throw;
  }
  // The database could not do the work (timeout, read-only after a failover, ...): the next
  // try starts on a new connection, which a multi-host URL points at the current primary.
  if (st.code() == absl::StatusCode::kUnavailable) Disconnect();
  if (!st.ok()) return st;
  return result;
}

}  // namespace utracker::server::storage
