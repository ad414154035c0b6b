#include "storage/pg_rollup_store.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "rollup/hop_fold.h"
#include "storage/copy_encoder.h"
#include "storage/inbox_batch.h"
#include "storage/pg_arrays.h"
#include "storage/pg_errors.h"

namespace utracker::server::storage {
namespace {

using rollup::EdgeBucket;
using rollup::EdgeKey;
using rollup::InboxEvent;
using rollup::MessageHops;

// "utrkrol" in ASCII: the session advisory lock of the rollup lead.
constexpr long long kRollupLockKey = 0x7574726b726f6c;

// One granularity of the rollup tables.
struct Tier {
  const char* nodes;
  const char* sends;
  const char* edges;
  const char* time;  // the bucket column
  int64_t width;     // microseconds
};
constexpr Tier kMinutes{"service_minutes", "send_minutes", "edge_minutes", "minute",
                        rollup::kMinuteMicros};
constexpr Tier kHours{"service_hours", "send_hours", "edge_hours", "hour", rollup::kHourMicros};

// Takes about `limit` events: whole batches (rollup_inbox_batches, what ingest writes) while
// fewer than `limit` events were taken, then single rows (rollup_inbox, what reached the inbox
// through SQL). Folding is order-free, so which table comes first does not matter.
std::vector<InboxEvent> TakeInbox(pqxx::work& tx, size_t limit) {
  std::vector<InboxEvent> events;
  for (const auto& row : tx.exec_params(
           // Every batch holds at least one event, so the first `limit` batches are enough.
           "DELETE FROM rollup_inbox_batches WHERE id <= (SELECT max(id) FROM"
           " (SELECT id, sum(events) OVER (ORDER BY id) - events AS before"
           "  FROM (SELECT id, events FROM rollup_inbox_batches ORDER BY id LIMIT $1) b) f"
           " WHERE before < $1)"
           " RETURNING id, events, payload",
           static_cast<int64_t>(limit))) {
    const pqxx::binarystring payload(row[2]);
    const absl::Status decoded = DecodeInboxBatch(
        absl::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()),
        row[1].as<size_t>(), &events);
    // Only this process writes batches, so this is not expected; but one unreadable batch
    // must not stop every later one from being folded.
    if (!decoded.ok()) {
      spdlog::error("rollup inbox batch {} skipped: {}", row[0].c_str(), decoded.ToString());
    }
  }
  if (events.size() >= limit) return events;
  for (const auto& row : tx.exec_params(
           // A range by the primary key: half the time of `id IN (...)` (measured). Rows
           // below the bound that commit later stay for the next pass.
           absl::StrCat(
               "DELETE FROM rollup_inbox WHERE id <="
               " (SELECT max(id) FROM (SELECT id FROM rollup_inbox ORDER BY id LIMIT $1) f)"
               " RETURNING message_id::text, service, kind::text, ",
               SqlMicros("occurred_at"), ", coalesce(destination, '')"),
           static_cast<int64_t>(limit - events.size()))) {
    InboxEvent e;
    e.message_id = row[0].as<std::string>();
    e.service = row[1].as<std::string>();
    e.kind = EventKindFromLabel(row[2].as<std::string>());
    e.at = row[3].as<int64_t>();
    e.destination = row[4].as<std::string>();
    events.push_back(std::move(e));
  }
  return events;
}

std::map<std::string, MessageHops> LoadHops(pqxx::work& tx, const std::vector<InboxEvent>& events) {
  ArrayLiteral ids;
  std::set<absl::string_view> seen;
  for (const InboxEvent& e : events) {
    if (seen.insert(e.message_id).second) ids.Add(e.message_id);
  }
  std::map<std::string, MessageHops> state;
  for (const auto& row : tx.exec_params(
           absl::StrCat("SELECT message_id::text, sender, destination, ", SqlMicros("sent_at"),
                        " FROM hop_sends WHERE message_id = ANY($1::uuid[])"),
           ids.Done())) {
    state[row[0].as<std::string>()].send =
        rollup::Send{row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<int64_t>()};
  }
  for (const auto& row :
       tx.exec_params(absl::StrCat("SELECT message_id::text, handler, ", SqlMicros("handled_at"),
                                   ", failed FROM hop_handlers WHERE message_id = ANY($1::uuid[])"),
                      ids.Done())) {
    state[row[0].as<std::string>()].handlers[row[1].as<std::string>()] =
        rollup::Handling{row[2].as<int64_t>(), row[3].as<bool>()};
  }
  return state;
}

// Writes the changed hop state. Rows `loaded` did not have are plain INSERTs: only the
// leading replica folds, and it read the state in this transaction, so nobody else can have
// written them — and a plain insert costs PostgreSQL about half of INSERT ... ON CONFLICT
// (measured on the messages table: 1.2–1.7 s against 2.4 s for 200 000 rows). The rest are
// upserts. (Were a row there after all, the pass would fail, and the next one, reading it,
// would update it.)
void SaveHops(pqxx::work& tx, const std::map<std::string, MessageHops>& changed,
              const std::map<std::string, MessageHops>& loaded) {
  // [0]: rows new to the table, [1]: rows to update.
  struct Sends {
    ArrayLiteral ids, senders, dests, sent_at;
    size_t n = 0;
  } sends[2];
  struct Hops {
    ArrayLiteral ids, handlers, handled_at, failed;
    size_t n = 0;
  } hops[2];
  for (const auto& [id, m] : changed) {
    const auto was = loaded.find(id);
    const MessageHops* before = was == loaded.end() ? nullptr : &was->second;
    if (m.send) {
      Sends& out = sends[before != nullptr && before->send ? 1 : 0];
      out.ids.Add(id);
      out.senders.Add(m.send->sender);
      out.dests.Add(m.send->destination);
      out.sent_at.Add(m.send->sent_at);
      ++out.n;
    }
    for (const auto& [handler, h] : m.handlers) {
      Hops& out = hops[before != nullptr && before->handlers.count(handler) > 0 ? 1 : 0];
      out.ids.Add(id);
      out.handlers.Add(handler);
      out.handled_at.Add(h.handled_at);
      out.failed.Add(h.failed ? "t" : "f");
      ++out.n;
    }
  }
  for (int update = 0; update < 2; ++update) {
    Sends& s = sends[update];
    if (s.n == 0) continue;
    tx.exec_params(absl::StrCat("INSERT INTO hop_sends (message_id, sender, destination, sent_at)"
                                " SELECT m, s, d, ",
                                SqlTimestamp("t"),
                                " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int8[])"
                                " AS u(m, s, d, t) ORDER BY m",
                                update ? " ON CONFLICT (message_id) DO UPDATE SET"
                                         " sender = EXCLUDED.sender,"
                                         " destination = EXCLUDED.destination,"
                                         " sent_at = EXCLUDED.sent_at"
                                       : ""),
                   s.ids.Done(), s.senders.Done(), s.dests.Done(), s.sent_at.Done());
  }
  for (int update = 0; update < 2; ++update) {
    Hops& h = hops[update];
    if (h.n == 0) continue;
    tx.exec_params(absl::StrCat("INSERT INTO hop_handlers (message_id, handler, handled_at, failed)"
                                " SELECT m, h, ",
                                SqlTimestamp("t"), ", f",
                                " FROM unnest($1::uuid[], $2::text[], $3::int8[], $4::bool[])"
                                " AS u(m, h, t, f) ORDER BY m, h",
                                update ? " ON CONFLICT (message_id, handler) DO UPDATE SET"
                                         " handled_at = EXCLUDED.handled_at,"
                                         " failed = EXCLUDED.failed"
                                         " WHERE (hop_handlers.handled_at, hop_handlers.failed)"
                                         "  IS DISTINCT FROM (EXCLUDED.handled_at, EXCLUDED.failed)"
                                       : ""),
                   h.ids.Done(), h.handlers.Done(), h.handled_at.Done(), h.failed.Done());
  }
}

void AddNodes(pqxx::work& tx, const Tier& tier,
              const std::map<rollup::NodeKey, rollup::NodeDelta>& nodes) {
  if (nodes.empty()) return;
  ArrayLiteral minutes, services, events, sent, processed, failed;
  for (const auto& [key, d] : nodes) {
    minutes.Add(key.minute);
    services.Add(key.service);
    events.Add(d.events);
    sent.Add(d.sent);
    processed.Add(d.processed);
    failed.Add(d.failed);
  }
  tx.exec_params(
      absl::StrCat("INSERT INTO ", tier.nodes, " AS n (", tier.time,
                   ", service, events, sent, processed, failed) SELECT ", SqlTimestamp("m"),
                   ", s, e, se, p, f FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[],"
                   " $5::int8[], $6::int8[]) AS u(m, s, e, se, p, f)"
                   " ON CONFLICT (",
                   tier.time,
                   ", service) DO UPDATE SET"
                   " events = n.events + EXCLUDED.events, sent = n.sent + EXCLUDED.sent,"
                   " processed = n.processed + EXCLUDED.processed,"
                   " failed = n.failed + EXCLUDED.failed"),
      minutes.Done(), services.Done(), events.Done(), sent.Done(), processed.Done(), failed.Done());
}

void AddSends(pqxx::work& tx, const Tier& tier,
              const std::map<rollup::SendKey, rollup::SendDelta>& sends) {
  if (sends.empty()) return;
  ArrayLiteral minutes, senders, dests, counts, handled;
  bool any_negative = false;
  for (const auto& [key, n] : sends) {
    minutes.Add(key.minute);
    senders.Add(key.sender);
    dests.Add(key.destination);
    counts.Add(n.messages);
    handled.Add(n.handled);
    any_negative |= n.messages < 0;
  }
  tx.exec_params(
      absl::StrCat("INSERT INTO ", tier.sends, " AS s (", tier.time,
                   ", sender, destination, messages, handled) SELECT ", SqlTimestamp("m"),
                   ", se, d, n, h"
                   " FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::int8[])"
                   " AS u(m, se, d, n, h)"
                   " ON CONFLICT (",
                   tier.time,
                   ", sender, destination) DO UPDATE"
                   " SET messages = s.messages + EXCLUDED.messages,"
                   " handled = s.handled + EXCLUDED.handled"),
      minutes.Done(), senders.Done(), dests.Done(), counts.Done(), handled.Done());
  if (any_negative) {  // a send moved out of a minute: drop the buckets left empty
    tx.exec_params(absl::StrCat("DELETE FROM ", tier.sends,
                                " s USING"
                                " unnest($1::int8[], $2::text[], $3::text[]) AS u(m, se, d)"
                                " WHERE s.",
                                tier.time, " = ", SqlTimestamp("u.m"),
                                " AND s.sender = u.se AND s.destination = u.d AND s.messages <= 0"),
                   minutes.Done(), senders.Done(), dests.Done());
  }
}

// The largest latency of a bucket's hops, from the hop state (after it was saved).
int64_t RecomputeMax(pqxx::work& tx, const Tier& tier, const EdgeKey& key) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT max(", SqlMicros("h.handled_at"), " - ", SqlMicros("s.sent_at"),
                   ")"
                   " FROM hop_sends s JOIN hop_handlers h ON h.message_id = s.message_id"
                   "  AND h.handler = $4"
                   " WHERE s.sent_at >= ",
                   SqlTimestamp("$1::int8"), " AND s.sent_at < ",
                   SqlTimestamp(absl::StrCat("($1::int8 + ", tier.width, ")")),
                   " AND s.sender = $2 AND s.destination = $3"),
      key.minute, key.sender, key.destination, key.handler);
  return r.empty() || r[0][0].is_null() ? 0 : r[0][0].as<int64_t>();
}

void ApplyEdges(pqxx::work& tx, const Tier& tier,
                const std::map<EdgeKey, rollup::EdgeDelta>& edges) {
  if (edges.empty()) return;
  ArrayLiteral minutes, senders, dests, handlers;
  for (const auto& [key, d] : edges) {
    minutes.Add(key.minute);
    senders.Add(key.sender);
    dests.Add(key.destination);
    handlers.Add(key.handler);
  }
  std::map<EdgeKey, EdgeBucket> buckets;
  for (const auto& row : tx.exec_params(
           absl::StrCat("SELECT u.m, e.sender, e.destination, e.handler, e.messages, e.failures,"
                        " e.max_latency_us, e.latency_bins::text, e.latency_counts::text"
                        " FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[])"
                        "  AS u(m, s, d, h)"
                        " JOIN ",
                        tier.edges, " e ON e.", tier.time, " = ", SqlTimestamp("u.m"),
                        "  AND e.sender = u.s AND e.destination = u.d AND e.handler = u.h"),
           minutes.Done(), senders.Done(), dests.Done(), handlers.Done())) {
    EdgeBucket b;
    b.messages = row[4].as<int64_t>();
    b.failures = row[5].as<int64_t>();
    b.max_latency = row[6].as<int64_t>();
    const std::vector<int64_t> bins = ParseIntArray(row[7].c_str());
    const std::vector<int64_t> counts = ParseIntArray(row[8].c_str());
    for (size_t i = 0; i < bins.size() && i < counts.size(); ++i) {
      b.latency.AddToBin(static_cast<int>(bins[i]), counts[i]);
    }
    buckets.emplace(EdgeKey{row[0].as<int64_t>(), row[1].as<std::string>(),
                            row[2].as<std::string>(), row[3].as<std::string>()},
                    std::move(b));
  }
  ArrayLiteral w_min, w_sender, w_dest, w_handler, w_messages, w_failures, w_max, w_bins, w_counts;
  ArrayLiteral d_min, d_sender, d_dest, d_handler;
  size_t writes = 0, deletes = 0;
  for (const auto& [key, delta] : edges) {
    EdgeBucket& b = buckets[key];
    if (!rollup::ApplyEdgeDelta(delta, &b) && b.messages > 0)
      b.max_latency = RecomputeMax(tx, tier, key);
    if (b.messages <= 0) {
      d_min.Add(key.minute);
      d_sender.Add(key.sender);
      d_dest.Add(key.destination);
      d_handler.Add(key.handler);
      ++deletes;
      continue;
    }
    w_min.Add(key.minute);
    w_sender.Add(key.sender);
    w_dest.Add(key.destination);
    w_handler.Add(key.handler);
    w_messages.Add(b.messages);
    w_failures.Add(b.failures);
    w_max.Add(b.max_latency);
    std::string bins = "{", counts = "{";
    for (const auto& [bin, count] : b.latency.bins()) {
      absl::StrAppend(&bins, bins.size() > 1 ? "," : "", bin);
      absl::StrAppend(&counts, counts.size() > 1 ? "," : "", count);
    }
    w_bins.Add(bins + "}");
    w_counts.Add(counts + "}");
    ++writes;
  }
  if (writes > 0) {
    tx.exec_params(
        absl::StrCat(
            "INSERT INTO ", tier.edges, " (", tier.time,
            ", sender, destination, handler, messages,"
            " failures, max_latency_us, latency_bins, latency_counts)"
            " SELECT ",
            SqlTimestamp("m"),
            ", s, d, h, n, f, x, b::integer[], c::bigint[]"
            " FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[],"
            "  $6::int8[], $7::int8[], $8::text[], $9::text[]) AS u(m, s, d, h, n, f, x, b, c)"
            " ON CONFLICT (",
            tier.time,
            ", sender, destination, handler) DO UPDATE SET"
            " messages = EXCLUDED.messages, failures = EXCLUDED.failures,"
            " max_latency_us = EXCLUDED.max_latency_us,"
            " latency_bins = EXCLUDED.latency_bins, latency_counts = EXCLUDED.latency_counts"),
        w_min.Done(), w_sender.Done(), w_dest.Done(), w_handler.Done(), w_messages.Done(),
        w_failures.Done(), w_max.Done(), w_bins.Done(), w_counts.Done());
  }
  if (deletes > 0) {
    tx.exec_params(absl::StrCat("DELETE FROM ", tier.edges,
                                " e USING"
                                " unnest($1::int8[], $2::text[], $3::text[], $4::text[])"
                                " AS u(m, s, d, h) WHERE e.",
                                tier.time, " = ", SqlTimestamp("u.m"),
                                " AND e.sender = u.s AND e.destination = u.d AND e.handler = u.h"),
                   d_min.Done(), d_sender.Done(), d_dest.Done(), d_handler.Done());
  }
}

}  // namespace

PgRollupStore::PgRollupStore(std::string database_url)
    : lead_(std::make_unique<LeaderConnection>(std::move(database_url), kRollupLockKey,
                                               "rollup job")) {}

PgRollupStore::~PgRollupStore() = default;

void PgRollupStore::Resign() { lead_->Reset(); }

absl::StatusOr<bool> PgRollupStore::Lead() { return lead_->Lead(); }

absl::StatusOr<int64_t> PgRollupStore::Backlog() {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("rollup backlog without the lead");
  try {
    pqxx::nontransaction tx{*conn};
    return tx.exec(kRollupBacklogSql)[0][0].as<int64_t>();
  } catch (...) {
    lead_->CheckAfterFailure();
    return StatusFromCurrentException("measuring the rollup backlog");
  }
}

absl::StatusOr<size_t> PgRollupStore::RunPass(size_t limit) {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("rollup pass without the lead");
  try {
    pqxx::work tx{*conn, "rollup_pass"};
    absl::Time t = absl::Now();
    std::string timings;
    auto lap = [&](const char* step) {
      const absl::Time now = absl::Now();
      absl::StrAppend(&timings, " ", step, "=", absl::ToInt64Milliseconds(now - t), "ms");
      t = now;
    };
    const std::vector<InboxEvent> events = TakeInbox(tx, limit);
    if (events.empty()) {
      tx.commit();
      return 0;
    }
    lap("take");
    const std::map<std::string, MessageHops> state = LoadHops(tx, events);
    lap("load");
    const rollup::FoldResult fold = rollup::Fold(events, state);
    lap("fold");
    SaveHops(tx, fold.changed, state);
    lap("save");
    AddNodes(tx, kMinutes, fold.nodes);
    AddSends(tx, kMinutes, fold.sends);
    ApplyEdges(tx, kMinutes, fold.edges);
    const rollup::FoldResult hours = rollup::Coarsen(fold, kHours.width);
    AddNodes(tx, kHours, hours.nodes);
    AddSends(tx, kHours, hours.sends);
    ApplyEdges(tx, kHours, hours.edges);
    lap("buckets");
    tx.commit();
    lap("commit");
    spdlog::debug("rollup pass: {} events, {} messages changed;{}", events.size(),
                  fold.changed.size(), timings);
    return events.size();
  } catch (...) {
    absl::Status st = StatusFromCurrentException("folding the rollup inbox");
    lead_->CheckAfterFailure();
    return st;
  }
}

}  // namespace utracker::server::storage
