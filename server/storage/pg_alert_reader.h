#ifndef UTRACKER_SERVER_STORAGE_PG_ALERT_READER_H_
#define UTRACKER_SERVER_STORAGE_PG_ALERT_READER_H_

#include <memory>
#include <string>

#include "storage/alert_store.h"

namespace utracker::server::storage {

// AlertReader on libpqxx with a small pool of connections, one borrowed per query (the
// Alerts service's query threads and the alert feed's poller share it); a connection that
// broke is dropped and a new one made on the next query. Thread-safe.
class PgAlertReader : public AlertReader {
 public:
  explicit PgAlertReader(std::string database_url);
  ~PgAlertReader() override;

  absl::StatusOr<std::vector<v1::Alert>> ListAlerts(const AlertFilter& filter) override;
  absl::StatusOr<std::vector<AlertVersion>> ChangedSince(int64_t version, size_t limit) override;
  absl::StatusOr<int64_t> LatestVersion() override;

 private:
  struct Pool;  // idle pqxx connections; defined where pqxx is included
  const std::unique_ptr<Pool> pool_;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_ALERT_READER_H_
