#include "storage/pg_event_store.h"

#include <cstdlib>

#include <libpq-fe.h>

#include "absl/strings/str_cat.h"
#include "storage/copy_encoder.h"
#include "storage/pg_errors.h"
#include "wire/status_macros.h"

namespace utracker::server::storage {
namespace {

// Send COPY data in chunks of about this size.
constexpr size_t kCopyChunkBytes = 1 << 20;

constexpr const char* kCreateStaging =
    "CREATE TEMPORARY TABLE IF NOT EXISTS utracker_staging ("
    " event_id uuid, occurred_at timestamptz, message_id uuid, parent_id uuid, root_id uuid,"
    " depth integer, service text, instance text, kind event_kind, name text,"
    " destination text, attributes jsonb, error text, content_type text, content bytea,"
    " origin_service text"
    ") ON COMMIT DELETE ROWS";

constexpr const char* kMergeEvents =
    "INSERT INTO events (event_id, occurred_at, message_id, parent_id, root_id, depth, service,"
    " instance, kind, name, destination, attributes, error)"
    " SELECT event_id, occurred_at, message_id, parent_id, root_id, depth, service, instance,"
    " kind, name, destination, attributes, error FROM utracker_staging"
    " ON CONFLICT DO NOTHING";

// One row per message in the batch. The author: the origin_service an event declares (the
// envelope's), else the service of the earliest SENT event, else of the earliest event.
// (NOT origin_declared, NOT origin_sent, origin_at) orders the candidates, smallest wins,
// whichever batch each event arrived in. Content is kept from the first event carrying it.
constexpr const char* kUpsertMessages =
    "INSERT INTO messages AS m (id, parent_id, root_id, depth, origin_service, origin_declared,"
    " origin_sent, origin_at, first_seen_at, last_event_at, content_type, content)"
    " SELECT DISTINCT ON (s.message_id) s.message_id, s.parent_id, s.root_id, s.depth,"
    "  coalesce(s.origin_service, s.service), s.origin_service IS NOT NULL, s.kind = 'sent',"
    "  s.occurred_at, min(s.occurred_at) OVER w, max(s.occurred_at) OVER w,"
    "  first_value(s.content_type) OVER wc, first_value(s.content) OVER wc"
    " FROM utracker_staging s"
    " WINDOW w AS (PARTITION BY s.message_id),"
    "  wc AS (PARTITION BY s.message_id ORDER BY s.content IS NULL, s.occurred_at)"
    " ORDER BY s.message_id, s.origin_service IS NULL, s.kind <> 'sent', s.occurred_at"
    " ON CONFLICT (id) DO UPDATE SET"
    "  (origin_service, origin_declared, origin_sent, origin_at) ="
    "   (SELECT * FROM (VALUES (m.origin_service, m.origin_declared, m.origin_sent, m.origin_at),"
    "    (EXCLUDED.origin_service, EXCLUDED.origin_declared, EXCLUDED.origin_sent,"
    "     EXCLUDED.origin_at)) AS c(service, declared, sent, at)"
    "    ORDER BY NOT c.declared, NOT c.sent, c.at LIMIT 1),"
    "  first_seen_at = LEAST(m.first_seen_at, EXCLUDED.first_seen_at),"
    "  last_event_at = GREATEST(m.last_event_at, EXCLUDED.last_event_at),"
    "  content_type = CASE WHEN m.content IS NULL THEN EXCLUDED.content_type"
    "   ELSE m.content_type END,"
    "  content = COALESCE(m.content, EXCLUDED.content)";

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultCloser>;

}  // namespace

PgEventStore::PgEventStore(std::string database_url, absl::Duration reconnect_pause)
    : database_url_(std::move(database_url)), reconnect_pause_(reconnect_pause) {}

PgEventStore::~PgEventStore() { Disconnect(); }

void PgEventStore::Disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

absl::Status PgEventStore::EnsureConnected() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
  Disconnect();
  const absl::Time now = absl::Now();
  if (now - last_failed_connect_ < reconnect_pause_) {
    return absl::UnavailableError("PostgreSQL unreachable (waiting before reconnecting)");
  }
  // Our defaults first; the URL's own settings, expanded from "dbname", override them.
  const char* keys[] = {"application_name", "connect_timeout", "dbname", nullptr};
  const char* values[] = {"utracker-ingest", "5", database_url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    Disconnect();
    last_failed_connect_ = now;
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", why));
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
  Result res{PQexec(conn_, sql)};
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

absl::Status PgEventStore::CommitBatch(absl::Span<const v1::Event* const> events,
                                       size_t* inserted) {
  UTRACKER_RETURN_IF_ERROR(Exec("BEGIN", "BEGIN"));
  absl::Status st = [&]() -> absl::Status {
    UTRACKER_RETURN_IF_ERROR(Exec(
        absl::StrCat("COPY utracker_staging (", kStagingColumns, ") FROM STDIN (FORMAT binary)")
            .c_str(),
        "starting COPY"));
    EventCopyEncoder encoder;
    bool copy_ok = true;
    auto flush = [&] {
      if (copy_ok && PQputCopyData(conn_, encoder.data().data(),
                                   static_cast<int>(encoder.data().size())) != 1) {
        copy_ok = false;
      }
      encoder.Consume();
    };
    for (const v1::Event* e : events) {
      encoder.Append(*e);
      if (encoder.data().size() >= kCopyChunkBytes) flush();
    }
    encoder.Finish();
    flush();
    if (PQputCopyEnd(conn_, copy_ok ? nullptr : "client failed sending data") != 1) {
      return StatusFromLastError("ending COPY");
    }
    // A COPY's outcome is the first result after PQputCopyEnd; drain the rest.
    absl::Status copy_status;
    while (PGresult* raw = PQgetResult(conn_)) {
      Result res{raw};
      if (copy_status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK) {
        const char* sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
        copy_status = StatusFromSqlState(sqlstate ? sqlstate : "XX000",
                                         PQresultErrorMessage(raw), "COPY into staging");
      }
    }
    if (PQstatus(conn_) != CONNECTION_OK) return StatusFromLastError("COPY into staging");
    UTRACKER_RETURN_IF_ERROR(copy_status);
    UTRACKER_RETURN_IF_ERROR(Exec(kMergeEvents, "inserting events", inserted));
    UTRACKER_RETURN_IF_ERROR(Exec(kUpsertMessages, "upserting messages"));
    return Exec("COMMIT", "COMMIT");
  }();
  if (!st.ok() && conn_ != nullptr && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    // Best effort: if even ROLLBACK fails the connection is dropped and remade next time.
    if (!Exec("ROLLBACK", "ROLLBACK").ok()) Disconnect();
  }
  return st;
}

absl::Status PgEventStore::StoreSplitting(absl::Span<const v1::Event* const> events,
                                          size_t offset, StoreResult* result) {
  size_t inserted = 0;
  absl::Status st = CommitBatch(events, &inserted);
  if (st.ok()) {
    result->inserted += inserted;
    result->duplicates += events.size() - inserted;
    return st;
  }
  // Only data errors are an event's fault; anything else fails the whole call.
  if (st.code() != absl::StatusCode::kInvalidArgument) return st;
  if (events.size() == 1) {
    result->rejected.emplace_back(offset,
                                  absl::StrCat("refused by PostgreSQL: ", st.message()));
    return absl::OkStatus();
  }
  const size_t half = events.size() / 2;
  UTRACKER_RETURN_IF_ERROR(StoreSplitting(events.subspan(0, half), offset, result));
  return StoreSplitting(events.subspan(half), offset + half, result);
}

absl::StatusOr<StoreResult> PgEventStore::Store(absl::Span<const v1::Event* const> events) {
  StoreResult result;
  if (events.empty()) return result;
  UTRACKER_RETURN_IF_ERROR(EnsureConnected());
  UTRACKER_RETURN_IF_ERROR(StoreSplitting(events, 0, &result));
  return result;
}

}  // namespace utracker::server::storage
