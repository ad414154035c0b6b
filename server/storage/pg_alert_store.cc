#include "storage/pg_alert_store.h"

#include <google/protobuf/util/time_util.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "storage/pg_alert_rows.h"
#include "storage/pg_arrays.h"
#include "storage/pg_errors.h"
#include "storage/pg_rollup_store.h"
#include "storage/pg_service_graph.h"
#include "wire/alert_rule.h"

namespace utracker::server::storage {
namespace {

using google::protobuf::util::TimeUtil;

// "utrkalr" in ASCII: the session advisory lock of the alert evaluator.
constexpr long long kAlertLockKey = 0x7574726b616c72;

int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

}  // namespace

PgAlertStore::PgAlertStore(std::string database_url)
    : lead_(std::make_unique<LeaderConnection>(std::move(database_url), kAlertLockKey,
                                               "alert evaluator")) {}

PgAlertStore::~PgAlertStore() = default;

void PgAlertStore::Resign() { lead_->Reset(); }

absl::StatusOr<bool> PgAlertStore::Lead() { return lead_->Lead(); }

absl::StatusOr<StuckInputs> PgAlertStore::ReadStuckInputs(int64_t from, int64_t to,
                                                          int64_t old_before) {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("alert evaluator not leading");
  try {
    pqxx::read_transaction tx{*conn};
    const RollupWindow window(from, to, old_before);
    StuckInputs in;
    for (const auto& row :
         window.Exec(tx, absl::StrCat("SELECT destination, sum(messages)::int8,"
                                      " coalesce(sum(messages) FILTER (WHERE old), 0)::int8,"
                                      " sum(handled)::int8,"
                                      " coalesce(sum(handled) FILTER (WHERE old), 0)::int8 FROM (",
                                      window.Rows("send", "destination, messages, handled"),
                                      ") r GROUP BY destination"))) {
      StuckInputs::Destination& d = in.destinations[row[0].as<std::string>()];
      d.sent = row[1].as<int64_t>();
      d.sent_old = row[2].as<int64_t>();
      d.handled_any = row[3].as<int64_t>();
      d.handled_any_old = row[4].as<int64_t>();
    }
    for (const auto& row :
         window.Exec(tx, absl::StrCat("SELECT destination, handler, sum(messages)::int8,"
                                      " coalesce(sum(messages) FILTER (WHERE old), 0)::int8 FROM (",
                                      window.Rows("edge", "destination, handler, messages"),
                                      ") r GROUP BY destination, handler"))) {
      in.destinations[row[0].as<std::string>()].handled[row[1].as<std::string>()] = {
          row[2].as<int64_t>(), row[3].as<int64_t>()};
    }
    return in;
  } catch (...) {
    lead_->CheckAfterFailure();
    return StatusFromCurrentException("reading stuck counts");
  }
}

absl::StatusOr<std::map<std::string, ServiceInputs>> PgAlertStore::ReadServiceInputs(
    int64_t failure_from, int64_t history_from, int64_t to) {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("alert evaluator not leading");
  try {
    pqxx::read_transaction tx{*conn};
    std::map<std::string, ServiceInputs> out;
    for (const auto& row :
         tx.exec_params(absl::StrCat("SELECT service, sum(processed)::int8, sum(failed)::int8"
                                     " FROM service_minutes WHERE minute >= ",
                                     SqlTimestamp("$1"), " AND minute < ", SqlTimestamp("$2"),
                                     " GROUP BY service"),
                        failure_from, to)) {
      ServiceInputs& s = out[row[0].as<std::string>()];
      s.processed = row[1].as<int64_t>();
      s.failed = row[2].as<int64_t>();
    }
    for (const auto& row : tx.exec_params(
             absl::StrCat("SELECT service, array_agg(", SqlMicros("minute"),
                          " ORDER BY minute)::text FROM service_minutes WHERE minute >= ",
                          SqlTimestamp("$1"), " AND minute < ", SqlTimestamp("$2"),
                          " AND events > 0 GROUP BY service"),
             history_from, to)) {
      out[row[0].as<std::string>()].active_minutes = ParseIntArray(row[1].c_str());
    }
    // When it was last heard of: the server's clock when it stored its last event (migration
    // 0014), or that event's own time if later. A slow clock thus no longer looks silent; a
    // fast one still delays the verdict by its lead; and a row a server of the previous
    // version updates (during a rolling upgrade, without last_logged_at) still counts.
    for (const auto& row : tx.exec(absl::StrCat(
             "SELECT service, ", SqlMicros("max(GREATEST(last_logged_at, last_seen_at))"),
             " FROM services GROUP BY service"))) {
      auto it = out.find(row[0].as<std::string>());
      if (it != out.end()) it->second.last_seen = row[1].as<int64_t>();
    }
    return out;
  } catch (...) {
    lead_->CheckAfterFailure();
    return StatusFromCurrentException("reading service activity");
  }
}

absl::StatusOr<std::vector<v1::Alert>> PgAlertStore::OpenAlerts() {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("alert evaluator not leading");
  try {
    pqxx::read_transaction tx{*conn};
    std::vector<v1::Alert> out;
    for (const auto& row : tx.exec(absl::StrCat(
             "SELECT ", kAlertColumns, " FROM alerts WHERE resolved_at IS NULL ORDER BY id"))) {
      out.push_back(ReadAlert(row));
    }
    return out;
  } catch (...) {
    lead_->CheckAfterFailure();
    return StatusFromCurrentException("reading open alerts");
  }
}

absl::StatusOr<int64_t> PgAlertStore::RollupBacklog() {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("alert evaluator not leading");
  try {
    pqxx::nontransaction tx{*conn};
    return tx.exec(kRollupBacklogSql)[0][0].as<int64_t>();
  } catch (...) {
    lead_->CheckAfterFailure();
    return StatusFromCurrentException("measuring the rollup backlog");
  }
}

absl::Status PgAlertStore::WriteAlerts(std::vector<v1::Alert>* changed) {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("alert evaluator not leading");
  if (changed->empty()) return absl::OkStatus();
  try {
    pqxx::work tx{*conn, "write_alerts"};
    for (v1::Alert& a : *changed) {
      if (a.id() == 0) {
        pqxx::result id = tx.exec_params(
            absl::StrCat("INSERT INTO alerts (rule, subject, service, destination,"
                         " opened_at, last_seen_at, value, peak, threshold, evaluations,"
                         " summary) VALUES ($1, $2, $3, $4, ",
                         SqlTimestamp("$5"), ", ", SqlTimestamp("$5"),
                         ", $6, $7, $8, $9, $10) RETURNING id"),
            std::string(wire::AlertRuleName(a.rule())), a.subject(), a.service(), a.destination(),
            ToMicros(a.opened_at()), a.value(), a.peak(), a.threshold(), a.evaluations(),
            a.summary());
        a.set_id(id[0][0].as<int64_t>());
        continue;
      }
      // A new version only for what a watcher would want to see: another value or summary, or
      // the resolution — not every "seen again".
      const bool resolved = a.has_resolved_at();
      tx.exec_params(
          absl::StrCat("UPDATE alerts SET last_seen_at = ", SqlTimestamp("$2"),
                       ", resolved_at = CASE WHEN $3"
                       " THEN ",
                       SqlTimestamp("$4"),
                       " END, version = CASE WHEN $3 OR value <> $5"
                       " OR summary <> $8 THEN nextval('alert_versions') ELSE version END,"
                       " value = $5, peak = $6, evaluations = $7, summary = $8"
                       " WHERE id = $1 AND resolved_at IS NULL"),
          a.id(), ToMicros(a.last_seen_at()), resolved, resolved ? ToMicros(a.resolved_at()) : 0,
          a.value(), a.peak(), a.evaluations(), a.summary());
    }
    tx.commit();
    return absl::OkStatus();
  } catch (...) {
    lead_->CheckAfterFailure();
    return StatusFromCurrentException("writing alerts");
  }
}

absl::Status PgAlertStore::SaveDeadlines(
    const std::vector<std::pair<std::pair<std::string, std::string>, int64_t>>& micros) {
  pqxx::connection* conn = lead_->conn();
  if (conn == nullptr) return absl::FailedPreconditionError("alert evaluator not leading");
  try {
    pqxx::work tx{*conn, "save_deadlines"};
    tx.exec("DELETE FROM stuck_deadlines");
    for (const auto& [key, after] : micros) {
      tx.exec_params(
          "INSERT INTO stuck_deadlines (scope, name, after)"
          " VALUES ($1, $2, $3::int8 * interval '1 microsecond')",
          key.first, key.second, after);
    }
    tx.commit();
    return absl::OkStatus();
  } catch (...) {
    lead_->CheckAfterFailure();
    return StatusFromCurrentException("saving stuck deadlines");
  }
}

}  // namespace utracker::server::storage
