#include "storage/pg_flow_store.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "storage/copy_encoder.h"
#include "storage/pg_arrays.h"
#include "storage/pg_errors.h"
#include "storage/pg_pool.h"
#include "storage/pg_service_graph.h"

namespace utracker::server::storage {
namespace {

// Repeatable read so the messages and events of one answer come from one snapshot.
using ReadTx = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

constexpr const char* kMessageColumns =
    "id::text, coalesce(parent_id::text, ''), root_id::text, depth, origin_service,"
    " (extract(epoch FROM first_seen_at) * 1000000)::int8,"
    " coalesce(content_type, ''), CASE WHEN $2 THEN content END";

// ListMessages' order: first sight as the message's row was first stored, which no later
// event moves (migration 0011), so pages neither repeat nor skip. The same expression as the
// messages_listed_idx index, so that the index serves the order, the range and the cursor.
constexpr const char* kListingKey = "COALESCE(m.listed_at, m.first_seen_at)";

// Each datum sent costs PostgreSQL ~0.3 µs, so events come as plain columns (no casts or
// coalesce; NULL is read as empty). Attributes come as the jsonb's own text, read by
// ReadJsonbObject: unpacking them in SQL (jsonb_each_text + array_agg) cost ~5 µs per event
// there, protobuf's JSON parser ~20 µs here; either was most of a big flow. Ordered as a
// message keeps its events.
// Events come inside their TrackedMessage, which carries the lineage: their own message_id,
// parent_id, root_id and depth would only repeat it (and were a third of a big flow's bytes),
// so they are left out; message_id is read only to place each event under its message.
constexpr const char* kEventSelect =
    "event_id, message_id, service, instance, kind, name,"
    " (extract(epoch FROM occurred_at) * 1000000)::int8, destination, attributes, error";
constexpr const char* kEventOrder = " ORDER BY events.occurred_at, events.event_id";

// A field's text, without a copy; valid while its result lives.
absl::string_view View(const pqxx::field& f) { return absl::string_view(f.c_str(), f.size()); }

template <typename Int>
Int ReadInt(const pqxx::field& f) {
  Int v{};
  if (!absl::SimpleAtoi(View(f), &v)) {
    throw std::runtime_error(absl::StrCat("not an integer: ", View(f)));
  }
  return v;
}

void ReadMessage(const pqxx::row& row, v1::TrackedMessage* m) {
  m->set_id(row[0].c_str(), row[0].size());
  if (row[1].size() > 0) m->set_parent_id(row[1].c_str(), row[1].size());
  m->set_root_id(row[2].c_str(), row[2].size());
  m->set_depth(ReadInt<uint32_t>(row[3]));
  m->set_origin_service(row[4].c_str(), row[4].size());
  SetMicros(ReadInt<int64_t>(row[5]), m->mutable_first_seen_at());
  if (!row[7].is_null()) {
    m->set_content_type(row[6].c_str(), row[6].size());
    m->set_content(pqxx::binarystring(row[7]).str());
  }
}

// Reads a JSON string starting after its opening quote; leaves `i` after the closing one.
bool ReadJsonString(absl::string_view s, size_t& i, std::string* out) {
  out->clear();
  while (i < s.size()) {
    const size_t run = s.find_first_of("\"\\", i);
    if (run == absl::string_view::npos) return false;
    out->append(s.data() + i, run - i);
    i = run + 1;
    if (s[run] == '"') return true;
    if (i >= s.size()) return false;
    const char c = s[i++];
    switch (c) {
      case '"': case '\\': case '/': out->push_back(c); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        auto hex4 = [&](uint32_t* v) {
          if (i + 4 > s.size()) return false;
          *v = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s[i++];
            *v <<= 4;
            if (h >= '0' && h <= '9') *v |= h - '0';
            else if (h >= 'a' && h <= 'f') *v |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F') *v |= h - 'A' + 10;
            else return false;
          }
          return true;
        };
        uint32_t cp;
        if (!hex4(&cp)) return false;
        if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
          uint32_t low;
          if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return false;
          i += 2;
          if (!hex4(&low) || low < 0xDC00 || low >= 0xE000) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp < 0x80) {
          out->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

// Reads the text jsonb_out gives for an object (`{"k": "v", ...}`) into `out`, as
// jsonb_each_text would: a string value unescaped, another value as its JSON text, a null
// one left out. False on text that is not such an object.
bool ReadJsonbObject(absl::string_view s, google::protobuf::Map<std::string, std::string>* out) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  };
  auto expect = [&](char c) {
    skip_space();
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
  };
  if (!expect('{')) return false;
  skip_space();
  if (i < s.size() && s[i] == '}') return true;
  std::string key, value;
  for (;;) {
    if (!expect('"') || !ReadJsonString(s, i, &key) || !expect(':')) return false;
    skip_space();
    if (i >= s.size()) return false;
    if (s[i] == '"') {
      ++i;
      if (!ReadJsonString(s, i, &value)) return false;
      (*out)[key] = value;
    } else {
      // A number, true/false/null, or a nested array/object: up to the ',' or '}' that ends it.
      const size_t from = i;
      int nesting = 0;
      for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '"') {
          ++i;
          if (!ReadJsonString(s, i, &value)) return false;
          --i;
        } else if (c == '[' || c == '{') {
          ++nesting;
        } else if (c == ']' || c == '}') {
          if (nesting == 0) break;
          --nesting;
        } else if (c == ',' && nesting == 0) {
          break;
        }
      }
      const absl::string_view raw = absl::StripTrailingAsciiWhitespace(s.substr(from, i - from));
      if (raw.empty()) return false;
      if (raw != "null") (*out)[key] = std::string(raw);
    }
    skip_space();
    if (i >= s.size()) return false;
    if (s[i] == '}') return true;
    if (s[i++] != ',') return false;
  }
}

// Reads kEventSelect's columns.
void ReadEvent(const pqxx::row& row, v1::Event* e) {
  int column = 0;
  // One pqxx::field per column: each copies (and releases) a reference to the result.
  auto next = [&row, &column]() { return row[column++]; };
  auto text = [&next](auto setter) {
    const pqxx::field f = next();
    if (f.size() > 0) setter(f.c_str(), f.size());  // NULL reads as empty
  };
  text([e](const char* p, size_t n) { e->set_event_id(p, n); });
  next();  // message_id: the enclosing message's
  text([e](const char* p, size_t n) { e->set_service(p, n); });
  text([e](const char* p, size_t n) { e->set_instance(p, n); });
  e->set_kind(EventKindFromLabel(View(next())));
  text([e](const char* p, size_t n) { e->set_name(p, n); });
  SetMicros(ReadInt<int64_t>(next()), e->mutable_occurred_at());
  text([e](const char* p, size_t n) { e->set_destination(p, n); });
  const pqxx::field attributes = next();
  if (!attributes.is_null() && !ReadJsonbObject(View(attributes), e->mutable_attributes())) {
    throw std::runtime_error(absl::StrCat("unreadable attributes of event ", e->event_id()));
  }
  text([e](const char* p, size_t n) { e->set_error(p, n); });
}

// The order kEventOrder gives, for events read without it.
bool EventBefore(const v1::Event* a, const v1::Event* b) {
  const auto& x = a->occurred_at();
  const auto& y = b->occurred_at();
  if (x.seconds() != y.seconds()) return x.seconds() < y.seconds();
  if (x.nanos() != y.nanos()) return x.nanos() < y.nanos();
  return a->event_id() < b->event_id();  // uuid text: lower-case hex, in the uuid's order
}

// GetFlow reads binary results through libpq: uuids as 16 bytes and times as integers cost
// PostgreSQL no text conversion (uuid_out, numeric epoch arithmetic were a third of its time
// for a big flow) and us no parsing, and libpq's accessors skip libpqxx's per-field copies.
struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using RawConn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using RawResult = std::unique_ptr<PGresult, ResultCloser>;

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01), which binary times count from.
constexpr int64_t kPgEpochUnixMicros = 946684800000000;

// One row of a binary-format result; a NULL reads as empty.
class BinaryRow {
 public:
  BinaryRow(const PGresult* result, int row) : result_(result), row_(row) {}

  absl::string_view Bytes(int column) const {
    return absl::string_view(PQgetvalue(result_, row_, column),
                             static_cast<size_t>(PQgetlength(result_, row_, column)));
  }
  bool IsNull(int column) const { return PQgetisnull(result_, row_, column) != 0; }

  uint32_t Int4(int column) const {
    const absl::string_view b = Fixed(column, 4);
    return static_cast<uint32_t>(BigEndian(b));
  }
  // A timestamptz as Unix microseconds.
  int64_t Micros(int column) const {
    return static_cast<int64_t>(BigEndian(Fixed(column, 8))) + kPgEpochUnixMicros;
  }
  // A uuid's lower-case 8-4-4-4-12 text into `out` (36 chars); false if NULL.
  bool Uuid(int column, char* out) const {
    if (IsNull(column)) return false;
    static constexpr char kHex[] = "0123456789abcdef";
    const absl::string_view b = Fixed(column, 16);
    char* o = out;
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
      const auto byte = static_cast<unsigned char>(b[i]);
      *o++ = kHex[byte >> 4];
      *o++ = kHex[byte & 0xF];
    }
    return true;
  }

 private:
  absl::string_view Fixed(int column, size_t size) const {
    const absl::string_view b = Bytes(column);
    if (b.size() != size) {
      throw std::runtime_error(absl::StrCat("column ", column, ": ", b.size(),
                                            " bytes where ", size, " were expected"));
    }
    return b;
  }
  static uint64_t BigEndian(absl::string_view b) {
    uint64_t v = 0;
    for (const char c : b) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  }

  const PGresult* result_;
  int row_;
};

constexpr size_t kUuidText = 36;

// Columns of kFlowMessagesSql, read as ReadMessage reads kMessageColumns.
void ReadBinaryMessage(const BinaryRow& row, v1::TrackedMessage* m) {
  char uuid[kUuidText];
  if (row.Uuid(2, uuid)) m->set_id(uuid, kUuidText);
  if (row.Uuid(5, uuid)) m->set_parent_id(uuid, kUuidText);
  if (row.Uuid(3, uuid)) m->set_root_id(uuid, kUuidText);
  m->set_depth(row.Int4(0));
  const absl::string_view origin = row.Bytes(4);
  m->set_origin_service(origin.data(), origin.size());
  SetMicros(row.Micros(1), m->mutable_first_seen_at());
  if (!row.IsNull(7)) {
    const absl::string_view type = row.Bytes(6), content = row.Bytes(7);
    m->set_content_type(type.data(), type.size());
    m->set_content(content.data(), content.size());
  }
}

// Columns of kFlowEventsSql, read as ReadEvent reads kEventSelect's (column 1, the message
// id, only places the event; the sort is done per message here).
void ReadBinaryEvent(const BinaryRow& row, v1::Event* e) {
  char uuid[kUuidText];
  if (row.Uuid(0, uuid)) e->set_event_id(uuid, kUuidText);
  auto text = [&row](int column, auto setter) {
    const absl::string_view b = row.Bytes(column);
    if (!b.empty()) setter(b.data(), b.size());
  };
  text(2, [e](const char* p, size_t n) { e->set_service(p, n); });
  text(3, [e](const char* p, size_t n) { e->set_instance(p, n); });
  e->set_kind(EventKindFromLabel(row.Bytes(4)));
  text(5, [e](const char* p, size_t n) { e->set_name(p, n); });
  SetMicros(row.Micros(6), e->mutable_occurred_at());
  text(7, [e](const char* p, size_t n) { e->set_destination(p, n); });
  if (!row.IsNull(8)) {
    // jsonb_send: a version byte (1), then jsonb_out's text.
    const absl::string_view b = row.Bytes(8);
    if (b.empty() || b[0] != 1 || !ReadJsonbObject(b.substr(1), e->mutable_attributes())) {
      throw std::runtime_error(absl::StrCat("unreadable attributes of event ", e->event_id()));
    }
  }
  text(9, [e](const char* p, size_t n) { e->set_error(p, n); });
}

// The flow's root: the root of the message asked about or, when that message has no events
// of its own (a root nobody logged, only its descendants did), the id itself if other
// messages name it as their root. The second probe runs only when the first finds nothing.
#define UTRACKER_FLOW_ROOT                                                          \
  "COALESCE((SELECT root_id FROM messages WHERE id = $1::uuid),"                    \
  " (SELECT root_id FROM messages WHERE root_id = $1::uuid LIMIT 1))"

// In answer order straight from messages_root_order_idx (migration 0010): no sort.
constexpr const char* kFlowMessagesStatement = "flow_messages";
constexpr const char* kFlowMessagesSql =
    "SELECT depth, first_seen_at, id, root_id, origin_service, parent_id, content_type,"
    " CASE WHEN $2::bool THEN content END"
    " FROM messages WHERE root_id = " UTRACKER_FLOW_ROOT
    " ORDER BY depth, first_seen_at, id LIMIT $3::int8";
// The root is looked up here too, so both queries go in one round trip. The events come
// through a cursor, fetched in chunks: every chunk's rows are decoded here while PostgreSQL
// is still producing the next — for a big flow, producing and decoding the rows each take
// about as long as the query itself. Two fetches are kept in flight; the chunks stay small so
// that little is left to decode once PostgreSQL has sent the last row (the last of the
// earlier fixed chunks, 2 000 events, took 1.4-2.8 ms to decode after the query's end).
constexpr const char* kFlowEventsCursorSql =
    "DECLARE flow_events BINARY NO SCROLL CURSOR FOR"
    " SELECT event_id, message_id, service, instance, kind, name, occurred_at,"
    " destination, attributes, error FROM events"
    " WHERE root_id = " UTRACKER_FLOW_ROOT;
#undef UTRACKER_FLOW_ROOT
// A truncated flow's events: those of the messages kept ($1, a uuid[]), not all of the root's
// (a flow of a million messages would otherwise produce millions of rows for ten thousand).
constexpr const char* kKeptEventsSql =
    "SELECT event_id, message_id, service, instance, kind, name, occurred_at,"
    " destination, attributes, error FROM events WHERE message_id = ANY($1::uuid[])";
constexpr int kFirstEventChunk = 250;
constexpr int kEventChunk = 500;

// The FETCH of `rows` events: made from the same number the end of the events is judged by.
std::string FetchEventsSql(int rows) { return absl::StrCat("FETCH ", rows, " FROM flow_events"); }

}  // namespace

// The shared libpqxx pool, plus plain libpq connections for GetFlow.
struct PgFlowStore::Pool : PgPool {
  explicit Pool(std::string url) : PgPool(url), database_url(std::move(url)) {}

  // A plain libpq connection, or UNAVAILABLE.
  absl::StatusOr<RawConn> BorrowRaw() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!raw_idle.empty()) {
        RawConn conn = std::move(raw_idle.back());
        raw_idle.pop_back();
        return conn;
      }
    }
    RawConn conn(PQconnectdb(database_url.c_str()));
    if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
      return absl::UnavailableError(absl::StrCat(
          "cannot connect to PostgreSQL: ", conn ? PQerrorMessage(conn.get()) : "out of memory"));
    }
    // Prepared once per connection: parsing and planning were a tenth of PostgreSQL's work for
    // a big flow. (The events query is planned by its DECLARE each time; a cursor cannot be
    // prepared.)
    RawResult prepared(PQprepare(conn.get(), kFlowMessagesStatement, kFlowMessagesSql, 0, nullptr));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return absl::UnavailableError(absl::StrCat("cannot prepare the flow query: ",
                                                 PQerrorMessage(conn.get())));
    }
    return conn;
  }

  // As PgPool::Return: only a connection whose transaction ended cleanly comes back.
  void ReturnRaw(RawConn conn) {
    if (PQstatus(conn.get()) != CONNECTION_OK ||
        PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    raw_idle.push_back(std::move(conn));
  }

  const std::string database_url;
  std::mutex mu;
  std::vector<RawConn> raw_idle;  // guarded by mu
};

PgFlowStore::PgFlowStore(std::string database_url)
    : pool_(std::make_unique<Pool>(std::move(database_url))) {}

PgFlowStore::~PgFlowStore() = default;

absl::StatusOr<v1::TrackedMessage> PgFlowStore::GetMessage(const std::string& message_id,
                                                           bool include_content) {
  try {
    auto conn = pool_->Borrow();
    v1::TrackedMessage message;
    {
      ReadTx tx{*conn, "get_message"};
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kMessageColumns, " FROM messages WHERE id = $1::uuid"),
          message_id, include_content);
      if (rows.empty()) {
        // Ended before the connection goes back: returned inside the transaction, another
        // query thread could borrow it while the ROLLBACK of `tx` was still to come (two
        // threads on one connection; one of them hung for good).
        tx.commit();
        pool_->Return(std::move(conn));
        return absl::NotFoundError(absl::StrCat("no events stored for message ", message_id));
      }
      ReadMessage(rows[0], &message);
      for (const auto& row :
           tx.exec_params(absl::StrCat("SELECT ", kEventSelect,
                                       " FROM events WHERE message_id = $1::uuid", kEventOrder),
                          message_id)) {
        ReadEvent(row, message.add_events());
      }
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return message;
  } catch (...) {
    return StatusFromCurrentException("reading message");
  }
}

absl::Status PgFlowStore::GetFlow(const std::string& message_id, bool include_content,
                                  size_t max_messages, v1::GetFlowResponse* flow) {
  constexpr const char* kContext = "reading flow";
  absl::StatusOr<RawConn> conn = pool_->BorrowRaw();
  if (!conn.ok()) {
    return absl::UnavailableError(absl::StrCat(kContext, ": ", conn.status().message()));
  }
  PGconn* pg = conn->get();
  auto lost = [pg, kContext] {
    return absl::UnavailableError(
        absl::StrCat(kContext, ": connection lost: ", PQerrorMessage(pg)));
  };
  // The transaction, both queries and the event fetches go in one pipeline (one round trip;
  // PostgreSQL produces the events while the messages and earlier chunks are decoded here).
  // A connection left mid-transaction or mid-pipeline by a failure is not returned to the pool.
  const std::string limit = absl::StrCat(static_cast<int64_t>(max_messages) + 1);
  auto send = [pg](const char* sql, std::initializer_list<const char*> params) {
    // Text parameters, binary columns.
    return PQsendQueryParams(pg, sql, static_cast<int>(params.size()), nullptr, params.begin(),
                             nullptr, nullptr, /*resultFormat=*/1) == 1;
  };
  auto send_prepared = [pg](const char* name, std::initializer_list<const char*> params) {
    return PQsendQueryPrepared(pg, name, static_cast<int>(params.size()), params.begin(),
                               nullptr, nullptr, /*resultFormat=*/1) == 1;
  };
  const std::string fetch_next = FetchEventsSql(kEventChunk);
  // Sent statements stay in libpq's buffer, and PostgreSQL keeps its results in its own,
  // until a flush; without one neither side would see the other's work before the end.
  auto flush = [pg] { return PQsendFlushRequest(pg) == 1 && PQflush(pg) == 0; };
  if (PQenterPipelineMode(pg) != 1 ||
      !send("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", {}) ||
      !send_prepared(kFlowMessagesStatement,
                     {message_id.c_str(), include_content ? "true" : "false", limit.c_str()}) ||
      !send(kFlowEventsCursorSql, {message_id.c_str()}) ||
      !send(FetchEventsSql(kFirstEventChunk).c_str(), {}) || !send(fetch_next.c_str(), {}) ||
      !flush()) {
    return lost();
  }
  // Sizes of the fetches in flight, oldest first.
  std::deque<int> fetches = {kFirstEventChunk, kEventChunk};
  // COMMIT and the sync that end the pipeline, sent once.
  bool ended = false;
  auto end = [&] {
    if (ended) return true;
    ended = true;
    return send("COMMIT", {}) && PQpipelineSync(pg) == 1;
  };
  // Each statement's result, then the null that ends it; the first failure is kept. Once
  // something failed, PostgreSQL skips the rest of the pipeline and what follows is only
  // drained.
  absl::Status status;
  auto next = [&](ExecStatusType want) {
    RawResult result(PQgetResult(pg));
    if (result == nullptr) {
      if (status.ok()) status = lost();
      return result;
    }
    const ExecStatusType got = PQresultStatus(result.get());
    if (got != want && status.ok()) {
      if (got == PGRES_FATAL_ERROR) {
        const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
        status = StatusFromSqlState(sqlstate ? sqlstate : "XX000",
                                    PQresultErrorMessage(result.get()), kContext);
      } else {
        status = absl::InternalError(
            absl::StrCat(kContext, ": unexpected result ", PQresStatus(got)));
      }
    }
    if (want != PGRES_PIPELINE_SYNC) RawResult(PQgetResult(pg));  // the null after it
    return got == want ? std::move(result) : nullptr;
  };
  // Keys view the messages' ids, which do not move once read.
  absl::flat_hash_map<absl::string_view, v1::TrackedMessage*> index;
  bool found = false;  // the flow has messages (it may be truncated to none)
  try {
    next(PGRES_COMMAND_OK);  // BEGIN
    if (RawResult messages = next(PGRES_TUPLES_OK)) {
      const int rows = PQntuples(messages.get());
      found = rows > 0;
      if (rows > 0) {
        char root[kUuidText];
        BinaryRow(messages.get(), 0).Uuid(3, root);
        flow->set_root_id(root, kUuidText);
      }
      index.reserve(static_cast<size_t>(rows));
      flow->mutable_messages()->Reserve(
          static_cast<int>(std::min(static_cast<size_t>(rows), max_messages)));
      for (int r = 0; r < rows; ++r) {
        if (static_cast<size_t>(flow->messages_size()) == max_messages) {
          flow->set_truncated(true);
          break;
        }
        v1::TrackedMessage* m = flow->add_messages();
        ReadBinaryMessage(BinaryRow(messages.get(), r), m);
        index.emplace(m->id(), m);
      }
    }
    next(PGRES_COMMAND_OK);  // DECLARE
    auto decode = [&index](const PGresult* events) {
      const int event_rows = events == nullptr ? 0 : PQntuples(events);
      for (int r = 0; r < event_rows; ++r) {
        const BinaryRow row(events, r);
        char id[kUuidText];
        if (!row.Uuid(1, id)) continue;
        auto it = index.find(absl::string_view(id, kUuidText));
        if (it != index.end()) {
          ReadBinaryEvent(row, it->second->add_events());
        }
      }
    };
    if (flow->truncated() && status.ok()) {
      // The kept messages' events by id instead; the fetches already in flight are drained
      // unread and the cursor is fetched no further.
      std::string ids = "{";
      for (const v1::TrackedMessage& m : flow->messages()) {
        absl::StrAppend(&ids, ids.size() > 1 ? "," : "", m.id());
      }
      ids += "}";
      if (!send(kKeptEventsSql, {ids.c_str()}) || !end() || !flush()) return lost();
      for (; !fetches.empty(); fetches.pop_front()) next(PGRES_TUPLES_OK);
      RawResult events = next(PGRES_TUPLES_OK);
      decode(events.get());
    }
    // A full chunk may have more behind it: another fetch goes out before this one is
    // decoded, so PostgreSQL always has the next one queued. A short (or failed) one ends it.
    // Once it ended, COMMIT and the sync go out at once, before the last rows are decoded.
    bool more = true;
    while (!fetches.empty() && status.ok()) {
      const int asked = fetches.front();
      fetches.pop_front();
      RawResult events = next(PGRES_TUPLES_OK);
      const int event_rows = events == nullptr ? 0 : PQntuples(events.get());
      more = more && events != nullptr && event_rows == asked;
      if (more) {
        if (!send(fetch_next.c_str(), {}) || !flush()) return lost();
        fetches.push_back(kEventChunk);
      } else if (!end()) {
        return lost();
      }
      decode(events.get());
    }
  } catch (const std::exception& e) {
    // The rows were unreadable; the connection is out of step with its pipeline.
    return absl::InternalError(absl::StrCat(kContext, ": ", e.what()));
  }
  // After a failure the end goes out now, and what the failure left in flight is drained
  // (PostgreSQL skips everything up to the sync once a statement failed).
  if (!end()) return lost();
  for (size_t i = 0; i < fetches.size(); ++i) next(PGRES_TUPLES_OK);
  next(PGRES_COMMAND_OK);  // COMMIT
  RawResult sync = next(PGRES_PIPELINE_SYNC);
  if (sync == nullptr || PQexitPipelineMode(pg) != 1) {
    // Out of step with the connection: it is not reused.
    return status.ok() ? lost() : status;
  }
  if (!status.ok()) return status;
  pool_->ReturnRaw(*std::move(conn));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("no events stored for message ", message_id));
  }
  for (v1::TrackedMessage& m : *flow->mutable_messages()) {
    std::sort(m.mutable_events()->pointer_begin(), m.mutable_events()->pointer_end(),
              EventBefore);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FlowStore::Listed>> PgFlowStore::ListMessages(const MessageQuery& q) {
  try {
    auto conn = pool_->Borrow();
    std::vector<Listed> out;
    {
      ReadTx tx{*conn, "list_messages"};
      // Only the filters given go into the SQL, so each is planned on its own: a filter on
      // events is a top-level EXISTS, which the planner turns into a semi-join (walk the
      // newest messages, probe each one's events by message id, stop at the page) instead of
      // the OR-guarded subplan it could only hash, reading every event of the service first.
      // Times travel as Unix microseconds and are rebuilt with integer arithmetic (exact).
      std::vector<std::string> params = {absl::StrCat(q.limit), "false"};
      std::string where;
      auto param = [&params](std::string value) {
        params.push_back(std::move(value));
        return absl::StrCat("$", params.size());
      };
      auto add = [&where](absl::string_view condition) {
        absl::StrAppend(&where, where.empty() ? " WHERE " : " AND ", condition);
      };
      auto at = [&param](int64_t micros) {
        return absl::StrCat("(timestamptz 'epoch' + ", param(absl::StrCat(micros)),
                            "::int8 * interval '1 microsecond')");
      };
      if (q.from_micros) add(absl::StrCat(kListingKey, " >= ", at(*q.from_micros)));
      if (q.to_micros) add(absl::StrCat(kListingKey, " < ", at(*q.to_micros)));
      if (q.after) {
        const std::string after_at = at(q.after->first);
        add(absl::StrCat("(", kListingKey, ", m.id) < (", after_at, ", ", param(q.after->second),
                         "::uuid)"));
      }
      auto exists = [&](absl::string_view condition) {
        add(absl::StrCat("EXISTS (SELECT 1 FROM events e WHERE e.message_id = m.id AND ",
                         condition, ")"));
      };
      if (!q.service.empty()) exists(absl::StrCat("e.service = ", param(q.service)));
      if (!q.destination.empty()) {
        exists(absl::StrCat("e.destination = ", param(q.destination)));
      }
      if (q.kind != v1::EVENT_KIND_UNSPECIFIED) {
        exists(absl::StrCat("e.kind = ", param(std::string(EventKindLabel(q.kind))),
                            "::event_kind"));
      }
      const pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kMessageColumns,
                       ", (extract(epoch FROM ", kListingKey, ") * 1000000)::int8 FROM messages m",
                       where, " ORDER BY ", kListingKey, " DESC, m.id DESC LIMIT $1::int8"),
          pqxx::prepare::make_dynamic_params(params));
      absl::flat_hash_map<absl::string_view, size_t> index;  // views into `rows`
      std::string ids = "{";
      out.reserve(rows.size());
      for (const auto& row : rows) {
        out.emplace_back();
        ReadMessage(row, &out.back().message);
        out.back().listed_micros = ReadInt<int64_t>(row[8]);
        index.emplace(View(row[0]), out.size() - 1);
        absl::StrAppend(&ids, out.size() > 1 ? "," : "", View(row[0]));
      }
      ids += "}";
      if (!out.empty()) {
        const pqxx::result events = tx.exec_params(
            absl::StrCat("SELECT ", kEventSelect,
                         " FROM events WHERE message_id = ANY($1::uuid[])", kEventOrder),
            ids);
        for (const auto& row : events) {
          auto it = index.find(View(row[1]));
          if (it != index.end()) ReadEvent(row, out[it->second].message.add_events());
        }
      }
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing messages");
  }
}

absl::StatusOr<std::vector<v1::ServiceInfo>> PgFlowStore::ListServices() {
  try {
    auto conn = pool_->Borrow();
    std::vector<v1::ServiceInfo> out;
    {
      ReadTx tx{*conn, "list_services"};
      for (const auto& row :
           tx.exec("SELECT service, (extract(epoch FROM min(first_seen_at)) * 1000000)::int8,"
                   " (extract(epoch FROM max(last_seen_at)) * 1000000)::int8,"
                   " json_agg(instance ORDER BY instance)::text"
                   " FROM services GROUP BY service ORDER BY service")) {
        v1::ServiceInfo s;
        s.set_name(row[0].as<std::string>());
        SetMicros(row[1].as<int64_t>(), s.mutable_first_seen_at());
        SetMicros(row[2].as<int64_t>(), s.mutable_last_seen_at());
        google::protobuf::ListValue instances;  // a JSON array of strings, made by us
        if (google::protobuf::util::JsonStringToMessage(row[3].as<std::string>(), &instances)
                .ok()) {
          for (const auto& v : instances.values()) {
            if (!v.string_value().empty()) s.add_instances(v.string_value());
          }
        }
        out.push_back(std::move(s));
      }
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing services");
  }
}

absl::StatusOr<v1::GetServiceGraphResponse> PgFlowStore::GetServiceGraph(int64_t from_micros,
                                                                         int64_t to_micros,
                                                                         int64_t stuck_before) {
  try {
    auto conn = pool_->Borrow();
    v1::GetServiceGraphResponse out;
    {
      ReadTx tx{*conn, "service_graph"};
      out = ReadServiceGraph(tx, from_micros, to_micros, stuck_before);
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading the service graph");
  }
}

}  // namespace utracker::server::storage
