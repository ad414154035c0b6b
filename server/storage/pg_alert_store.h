#ifndef UTRACKER_SERVER_STORAGE_PG_ALERT_STORE_H_
#define UTRACKER_SERVER_STORAGE_PG_ALERT_STORE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/alert_store.h"
#include "storage/pg_leader_connection.h"

namespace utracker::server::storage {

// AlertStore on one libpqxx connection; the lead is a session advisory lock on it (see
// PgRollupStore: it ends with the connection).
class PgAlertStore : public AlertStore {
 public:
  explicit PgAlertStore(std::string database_url);
  ~PgAlertStore() override;

  absl::StatusOr<bool> Lead() override;
  void Resign() override;
  absl::StatusOr<StuckInputs> ReadStuckInputs(int64_t from, int64_t to,
                                              int64_t old_before) override;
  absl::StatusOr<std::map<std::string, ServiceInputs>> ReadServiceInputs(
      int64_t failure_from, int64_t history_from, int64_t to) override;
  absl::StatusOr<std::vector<v1::Alert>> OpenAlerts() override;
  absl::StatusOr<int64_t> RollupBacklog() override;
  absl::Status WriteAlerts(std::vector<v1::Alert>* changed) override;
  absl::Status SaveDeadlines(
      const std::vector<std::pair<std::pair<std::string, std::string>, int64_t>>& micros) override;

 private:
  std::unique_ptr<LeaderConnection> lead_;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ALERT_STORE_H_
