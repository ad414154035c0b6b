#include "storage/pg_alert_reader.h"

#include <google/protobuf/util/time_util.h>

#include <mutex>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/pg_errors.h"

namespace utracker::server::storage {
namespace {

using ReadTx = pqxx::transaction<pqxx::read_committed, pqxx::read_only>;

// Times travel as Unix microseconds (exact integer arithmetic in SQL).
constexpr const char* kAlertColumns =
    "id, rule, subject, service, destination,"
    " (extract(epoch FROM opened_at) * 1000000)::int8,"
    " (extract(epoch FROM last_seen_at) * 1000000)::int8,"
    " (extract(epoch FROM resolved_at) * 1000000)::int8,"
    " value, peak, threshold, evaluations, summary, version";

void SetMicros(int64_t micros, google::protobuf::Timestamp* ts) {
  *ts = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
}

v1::Alert ReadAlert(const pqxx::row& row) {
  v1::Alert a;
  a.set_id(row[0].as<int64_t>());
  a.set_rule(AlertRuleFromName(row[1].as<std::string>()));
  a.set_subject(row[2].as<std::string>());
  a.set_service(row[3].as<std::string>());
  a.set_destination(row[4].as<std::string>());
  SetMicros(row[5].as<int64_t>(), a.mutable_opened_at());
  SetMicros(row[6].as<int64_t>(), a.mutable_last_seen_at());
  if (row[7].is_null()) {
    a.set_state(v1::ALERT_STATE_OPEN);
  } else {
    a.set_state(v1::ALERT_STATE_RESOLVED);
    SetMicros(row[7].as<int64_t>(), a.mutable_resolved_at());
  }
  a.set_value(row[8].as<double>());
  a.set_peak(row[9].as<double>());
  a.set_threshold(row[10].as<double>());
  a.set_evaluations(row[11].as<int64_t>());
  a.set_summary(row[12].as<std::string>());
  return a;
}

}  // namespace

const char* AlertRuleName(v1::AlertRule rule) {
  switch (rule) {
    case v1::ALERT_RULE_STUCK:
      return "stuck";
    case v1::ALERT_RULE_FAILURE_RATIO:
      return "failure_ratio";
    case v1::ALERT_RULE_SILENCE:
      return "silence";
    default:
      return "";
  }
}

v1::AlertRule AlertRuleFromName(const std::string& name) {
  for (v1::AlertRule rule :
       {v1::ALERT_RULE_STUCK, v1::ALERT_RULE_FAILURE_RATIO, v1::ALERT_RULE_SILENCE}) {
    if (name == AlertRuleName(rule)) return rule;
  }
  return v1::ALERT_RULE_UNSPECIFIED;
}

// The connection pool of PgFlowStore, kept apart so the two stores evolve independently.
struct PgAlertReader::Pool {
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

PgAlertReader::PgAlertReader(std::string database_url)
    : pool_(std::make_unique<Pool>(std::move(database_url))) {}

PgAlertReader::~PgAlertReader() = default;

absl::StatusOr<std::vector<v1::Alert>> PgAlertReader::ListAlerts(const AlertFilter& filter) {
  try {
    auto conn = pool_->Borrow();
    std::vector<v1::Alert> out;
    {
      // Only the filters given go into the SQL; their values are parameters.
      std::vector<std::string> params = {absl::StrCat(filter.limit)};
      std::string where;
      auto add = [&where](absl::string_view condition) {
        absl::StrAppend(&where, where.empty() ? " WHERE " : " AND ", condition);
      };
      if (filter.state == v1::ALERT_STATE_OPEN) add("resolved_at IS NULL");
      if (filter.state == v1::ALERT_STATE_RESOLVED) add("resolved_at IS NOT NULL");
      if (filter.rule != v1::ALERT_RULE_UNSPECIFIED) {
        params.push_back(AlertRuleName(filter.rule));
        add(absl::StrCat("rule = $", params.size()));
      }
      if (!filter.service.empty()) {
        params.push_back(filter.service);
        add(absl::StrCat("service = $", params.size()));
      }
      ReadTx tx{*conn, "list_alerts"};
      const pqxx::result rows =
          tx.exec_params(absl::StrCat("SELECT ", kAlertColumns, " FROM alerts", where,
                                      " ORDER BY opened_at DESC, id DESC LIMIT $1::int8"),
                         pqxx::prepare::make_dynamic_params(params));
      out.reserve(rows.size());
      for (const auto& row : rows) out.push_back(ReadAlert(row));
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing alerts");
  }
}

absl::StatusOr<std::vector<AlertVersion>> PgAlertReader::ChangedSince(int64_t version,
                                                                      size_t limit) {
  try {
    auto conn = pool_->Borrow();
    std::vector<AlertVersion> out;
    {
      // A row holds only its latest version, so this is each changed alert's latest.
      // Versions are taken in commit order because one evaluator at a time writes (under
      // its advisory lock), each pass in one transaction.
      ReadTx tx{*conn, "alerts_changed_since"};
      const pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kAlertColumns,
                       " FROM alerts WHERE version > $1 ORDER BY version LIMIT $2::int8"),
          version, static_cast<int64_t>(limit));
      out.reserve(rows.size());
      for (const auto& row : rows) {
        AlertVersion v;
        v.alert = ReadAlert(row);
        v.version = row[13].as<int64_t>();
        out.push_back(std::move(v));
      }
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading changed alerts");
  }
}

absl::StatusOr<int64_t> PgAlertReader::LatestVersion() {
  try {
    auto conn = pool_->Borrow();
    int64_t latest = 0;
    {
      // max(version), not the sequence: a version taken by a transaction that rolled back
      // is no change.
      ReadTx tx{*conn, "alerts_latest_version"};
      latest = tx.exec1("SELECT coalesce(max(version), 0) FROM alerts")[0].as<int64_t>();
      tx.commit();
    }
    pool_->Return(std::move(conn));
    return latest;
  } catch (...) {
    return StatusFromCurrentException("reading the latest alert version");
  }
}

}  // namespace utracker::server::storage
