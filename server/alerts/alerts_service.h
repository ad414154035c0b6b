#ifndef UTRACKER_SERVER_ALERTS_ALERTS_SERVICE_H_
#define UTRACKER_SERVER_ALERTS_ALERTS_SERVICE_H_

#include "alerts/alert_feed.h"
#include "query/query_executor.h"
#include "storage/alert_store.h"
#include "utracker/v1/alerts.grpc.pb.h"

namespace utracker::server::alerts {

// utracker.v1.Alerts on the callback API. ListAlerts checks the request at once
// (INVALID_ARGUMENT) and runs on the QueryExecutor. WatchAlerts is one write reactor per
// stream: it reads the open alerts (on the executor), sends them as KIND_OPEN_AT_START, then
// the changes the shared AlertFeed hands it, keeping at most one pending version per alert
// (PendingChanges) and writing one message at a time. Thread-safe; the reader, executor
// and feed must outlive it.
class AlertsService final : public v1::Alerts::CallbackService {
 public:
  static constexpr int32_t kDefaultLimit = 100;
  static constexpr int32_t kMaxLimit = 1000;
  // Open alerts a watch starts with, at most (one open alert per rule and subject).
  static constexpr size_t kMaxOpenAtStart = 100000;

  AlertsService(storage::AlertReader* reader, query::QueryExecutor* executor, AlertFeed* feed);

  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* context,
                                       const v1::ListAlertsRequest* request,
                                       v1::ListAlertsResponse* response) override;
  grpc::ServerWriteReactor<v1::AlertChange>* WatchAlerts(
      grpc::CallbackServerContext* context, const v1::WatchAlertsRequest* request) override;

 private:
  storage::AlertReader* const reader_;
  query::QueryExecutor* const executor_;
  AlertFeed* const feed_;
};

}  // namespace utracker::server::alerts

#endif  // UTRACKER_SERVER_ALERTS_ALERTS_SERVICE_H_
