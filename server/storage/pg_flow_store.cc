#include "storage/pg_flow_store.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <cmath>
#include <mutex>
#include <pqxx/pqxx>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/copy_encoder.h"
#include "storage/pg_errors.h"

namespace utracker::server::storage {
namespace {

// Repeatable read so the messages and events of one answer come from one snapshot.
using ReadTx = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

constexpr const char* kMessageColumns =
    "id::text, coalesce(parent_id::text, ''), root_id::text, depth, origin_service,"
    " (extract(epoch FROM first_seen_at) * 1000000)::int8,"
    " coalesce(content_type, ''), CASE WHEN $2 THEN content END";

constexpr const char* kEventSelect =
    "event_id::text, message_id::text, coalesce(parent_id::text, ''), root_id::text, depth,"
    " service, coalesce(instance, ''), kind::text, coalesce(name, ''),"
    " (extract(epoch FROM occurred_at) * 1000000)::int8, coalesce(destination, ''),"
    " (SELECT array_agg(x ORDER BY t.k, o) FROM jsonb_each_text(attributes) AS t(k, v),"
    "   unnest(ARRAY[t.k, t.v]) WITH ORDINALITY AS u(x, o)),"
    " coalesce(error, '')";

void SetMicros(int64_t micros, google::protobuf::Timestamp* ts) {
  *ts = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
}

// The event_kind label of a kind for a query parameter; "" (NULL) for UNSPECIFIED.
absl::string_view EventKindLabelForQuery(v1::EventKind k) {
  return k == v1::EVENT_KIND_UNSPECIFIED ? "" : EventKindLabel(k);
}

v1::EventKind KindFromLabel(const std::string& label) {
  if (label == "sent") return v1::EVENT_KIND_SENT;
  if (label == "received") return v1::EVENT_KIND_RECEIVED;
  if (label == "processed") return v1::EVENT_KIND_PROCESSED;
  if (label == "failed") return v1::EVENT_KIND_FAILED;
  if (label == "note") return v1::EVENT_KIND_NOTE;
  if (label == "replayed") return v1::EVENT_KIND_REPLAYED;
  return v1::EVENT_KIND_UNSPECIFIED;
}

void ReadMessage(const pqxx::row& row, v1::TrackedMessage* m) {
  m->set_id(row[0].as<std::string>());
  m->set_parent_id(row[1].as<std::string>());
  m->set_root_id(row[2].as<std::string>());
  m->set_depth(row[3].as<uint32_t>());
  m->set_origin_service(row[4].as<std::string>());
  SetMicros(row[5].as<int64_t>(), m->mutable_first_seen_at());
  if (!row[7].is_null()) {
    m->set_content_type(row[6].as<std::string>());
    m->set_content(pqxx::binarystring(row[7]).str());
  }
}

// Attributes come as a flat text[] {k1, v1, k2, v2, ...} (see kEventSelect): parsing
// jsonb text with protobuf's JSON parser cost ~20 µs per event, most of a big GetFlow.
void ReadAttributes(const pqxx::field& field, v1::Event* e) {
  if (field.is_null()) return;
  pqxx::array_parser parser = field.as_array();
  std::string key;
  bool have_key = false;
  for (;;) {
    auto [juncture, value] = parser.get_next();
    if (juncture == pqxx::array_parser::done) break;
    if (juncture != pqxx::array_parser::string_value) continue;
    if (!have_key) {
      key = std::move(value);
      have_key = true;
    } else {
      (*e->mutable_attributes())[key] = std::move(value);
      have_key = false;
    }
  }
}

void ReadEvent(const pqxx::row& row, v1::Event* e) {
  e->set_event_id(row[0].as<std::string>());
  e->set_message_id(row[1].as<std::string>());
  e->set_parent_id(row[2].as<std::string>());
  e->set_root_id(row[3].as<std::string>());
  e->set_depth(row[4].as<uint32_t>());
  e->set_service(row[5].as<std::string>());
  e->set_instance(row[6].as<std::string>());
  e->set_kind(KindFromLabel(row[7].as<std::string>()));
  e->set_name(row[8].as<std::string>());
  SetMicros(row[9].as<int64_t>(), e->mutable_occurred_at());
  e->set_destination(row[10].as<std::string>());
  ReadAttributes(row[11], e);
  e->set_error(row[12].as<std::string>());
}

}  // namespace

struct PgFlowStore::Pool {
  explicit Pool(std::string url) : database_url(std::move(url)) {}

  std::unique_ptr<pqxx::connection> Borrow() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!idle.empty()) {
        auto conn = std::move(idle.back());
        idle.pop_back();
        return conn;
      }
    }
    return std::make_unique<pqxx::connection>(database_url);  // throws broken_connection
  }

  // A connection is returned only after a query succeeded on it; one that threw is dropped.
  void Return(std::unique_ptr<pqxx::connection> conn) {
    if (!conn || !conn->is_open()) return;
    std::lock_guard<std::mutex> lock(mu);
    idle.push_back(std::move(conn));
  }

  const std::string database_url;
  std::mutex mu;
  std::vector<std::unique_ptr<pqxx::connection>> idle;  // guarded by mu
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
        pool_->Return(std::move(conn));
        return absl::NotFoundError(absl::StrCat("no events stored for message ", message_id));
      }
      ReadMessage(rows[0], &message);
      for (const auto& row : tx.exec_params(absl::StrCat("SELECT ", kEventSelect,
                                                         " FROM events WHERE message_id = $1::uuid"
                                                         " ORDER BY occurred_at, event_id"),
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

absl::StatusOr<StoredFlow> PgFlowStore::GetFlow(const std::string& message_id, bool include_content,
                                                size_t max_messages) {
  try {
    auto conn = pool_->Borrow();
    StoredFlow flow;
    {
      ReadTx tx{*conn, "get_flow"};
      pqxx::result root =
          tx.exec_params("SELECT root_id::text FROM messages WHERE id = $1::uuid", message_id);
      if (root.empty()) {
        pool_->Return(std::move(conn));
        return absl::NotFoundError(absl::StrCat("no events stored for message ", message_id));
      }
      flow.root_id = root[0][0].as<std::string>();
      pqxx::result rows =
          tx.exec_params(absl::StrCat("SELECT ", kMessageColumns,
                                      " FROM messages WHERE root_id = $1::uuid"
                                      " ORDER BY depth, first_seen_at, id LIMIT $3"),
                         flow.root_id, include_content, static_cast<int64_t>(max_messages) + 1);
      std::unordered_map<std::string, size_t> index;
      for (const auto& row : rows) {
        if (flow.messages.size() == max_messages) {
          flow.truncated = true;
          break;
        }
        flow.messages.emplace_back();
        ReadMessage(row, &flow.messages.back());
        index.emplace(flow.messages.back().id(), flow.messages.size() - 1);
      }
      for (const auto& row : tx.exec_params(absl::StrCat("SELECT ", kEventSelect,
                                                         " FROM events WHERE root_id = $1::uuid"
                                                         " ORDER BY occurred_at, event_id"),
                                            flow.root_id)) {
        auto it = index.find(row[1].as<std::string>());
        if (it != index.end()) ReadEvent(row, flow.messages[it->second].add_events());
      }
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return flow;
  } catch (...) {
    return StatusFromCurrentException("reading flow");
  }
}

absl::StatusOr<std::vector<v1::TrackedMessage>> PgFlowStore::ListMessages(const MessageQuery& q) {
  try {
    auto conn = pool_->Borrow();
    std::vector<v1::TrackedMessage> out;
    {
      ReadTx tx{*conn, "list_messages"};
      auto opt_text = [](const std::string& v) -> const char* {
        return v.empty() ? nullptr : v.c_str();
      };
      const std::string kind(EventKindLabelForQuery(q.kind));
      const std::string from = q.from_micros ? absl::StrCat(*q.from_micros) : "";
      const std::string to = q.to_micros ? absl::StrCat(*q.to_micros) : "";
      const std::string after_at = q.after ? absl::StrCat(q.after->first) : "";
      const std::string after_id = q.after ? q.after->second : "";
      // Times travel as Unix microseconds and are rebuilt with integer arithmetic (exact).
      pqxx::result rows = tx.exec_params(
          absl::StrCat(
              "SELECT ", kMessageColumns,
              " FROM messages m WHERE"
              " ($3::int8 IS NULL OR m.first_seen_at >= timestamptz 'epoch' + $3::int8 * interval "
              "'1 microsecond')"
              " AND ($4::int8 IS NULL OR m.first_seen_at < timestamptz 'epoch' + $4::int8 * "
              "interval '1 microsecond')"
              " AND ($5::int8 IS NULL OR (m.first_seen_at, m.id) <"
              "      (timestamptz 'epoch' + $5::int8 * interval '1 microsecond', $6::uuid))"
              " AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM events e"
              "      WHERE e.message_id = m.id AND e.service = $7))"
              " AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM events e"
              "      WHERE e.message_id = m.id AND e.destination = $8))"
              " AND ($9::event_kind IS NULL OR EXISTS (SELECT 1 FROM events e"
              "      WHERE e.message_id = m.id AND e.kind = $9::event_kind))"
              " ORDER BY m.first_seen_at DESC, m.id DESC LIMIT $1"),
          static_cast<int64_t>(q.limit), false, opt_text(from), opt_text(to), opt_text(after_at),
          opt_text(after_id), opt_text(q.service), opt_text(q.destination), opt_text(kind));
      std::unordered_map<std::string, size_t> index;
      std::string ids = "{";
      for (const auto& row : rows) {
        out.emplace_back();
        ReadMessage(row, &out.back());
        index.emplace(out.back().id(), out.size() - 1);
        absl::StrAppend(&ids, out.size() > 1 ? "," : "", out.back().id());
      }
      ids += "}";
      if (!out.empty()) {
        for (const auto& row :
             tx.exec_params(absl::StrCat("SELECT ", kEventSelect,
                                         " FROM events WHERE message_id = ANY($1::uuid[])"
                                         " ORDER BY occurred_at, event_id"),
                            ids)) {
          auto it = index.find(row[1].as<std::string>());
          if (it != index.end()) ReadEvent(row, out[it->second].add_events());
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
                                                                         int64_t to_micros) {
  try {
    auto conn = pool_->Borrow();
    v1::GetServiceGraphResponse out;
    {
      ReadTx tx{*conn, "service_graph"};
      const std::string from = absl::StrCat(from_micros), to = absl::StrCat(to_micros);
      constexpr const char* kWindow =
          " occurred_at >= timestamptz 'epoch' + $1::int8 * interval '1 microsecond'"
          " AND occurred_at < timestamptz 'epoch' + $2::int8 * interval '1 microsecond'";
      for (const auto& row : tx.exec_params(
               absl::StrCat("SELECT service, count(*), count(*) FILTER (WHERE kind = 'sent'),"
                            " count(*) FILTER (WHERE kind = 'failed') FROM events WHERE",
                            kWindow, " GROUP BY service ORDER BY service"),
               from, to)) {
        v1::ServiceNode* n = out.add_nodes();
        n->set_name(row[0].as<std::string>());
        n->set_events(row[1].as<uint64_t>());
        n->set_sent(row[2].as<uint64_t>());
        n->set_failed(row[3].as<uint64_t>());
      }
      // One hop per (message, handler): the SENT in the window, the handler's first event.
      for (const auto& row : tx.exec_params(
               absl::StrCat(
                   "WITH sent AS (SELECT message_id, service, coalesce(destination, '') AS dest,"
                   "   min(occurred_at) AS at FROM events WHERE kind = 'sent' AND",
                   kWindow,
                   "   GROUP BY message_id, service, coalesce(destination, '')),"
                   " hops AS (SELECT s.service AS sender, h.service AS handler, s.dest,"
                   "   extract(epoch FROM min(h.occurred_at) - s.at) AS latency,"
                   "   bool_or(h.kind = 'failed') AS failed"
                   "   FROM sent s JOIN events h ON h.message_id = s.message_id"
                   "    AND h.service <> s.service"
                   "    AND h.kind IN ('received', 'processed', 'failed', 'note')"
                   "   GROUP BY s.message_id, s.service, h.service, s.dest, s.at)"
                   " SELECT sender, handler, dest, count(*), count(*) FILTER (WHERE failed),"
                   "  percentile_cont(0.5) WITHIN GROUP (ORDER BY latency),"
                   "  percentile_cont(0.95) WITHIN GROUP (ORDER BY latency), max(latency)"
                   " FROM hops GROUP BY sender, handler, dest ORDER BY sender, handler, dest"),
               from, to)) {
        v1::ServiceEdge* e = out.add_edges();
        e->set_sender(row[0].as<std::string>());
        e->set_handler(row[1].as<std::string>());
        e->set_destination(row[2].as<std::string>());
        e->set_messages(row[3].as<uint64_t>());
        e->set_failures(row[4].as<uint64_t>());
        auto set = [](double secs, google::protobuf::Duration* d) {
          *d = google::protobuf::util::TimeUtil::NanosecondsToDuration(std::llround(secs * 1e9));
        };
        set(row[5].as<double>(), e->mutable_p50());
        set(row[6].as<double>(), e->mutable_p95());
        set(row[7].as<double>(), e->mutable_max());
      }
      tx.commit();
    }
    SetMicros(from_micros, out.mutable_from());
    SetMicros(to_micros, out.mutable_to());
    pool_->Return(std::move(conn));
    return out;
  } catch (...) {
    return StatusFromCurrentException("computing the service graph");
  }
}

}  // namespace utracker::server::storage
