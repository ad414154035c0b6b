#include "storage/pg_alert_reader.h"

#include <google/protobuf/util/time_util.h>

#include <mutex>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/pg_alert_rows.h"
#include "storage/pg_errors.h"
#include "storage/pg_pool.h"
#include "wire/alert_rule.h"

namespace utracker::server::storage {
namespace {

using ReadTx = pqxx::transaction<pqxx::read_committed, pqxx::read_only>;

}  // namespace


struct PgAlertReader::Pool : PgPool {
  using PgPool::PgPool;
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
        params.push_back(std::string(wire::AlertRuleName(filter.rule)));
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
