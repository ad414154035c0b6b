#ifndef UTRACKER_SERVER_APP_SERVER_APP_H_
#define UTRACKER_SERVER_APP_SERVER_APP_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "alerts/alert_notifier.h"
#include "alerts/rules.h"
#include "common/metrics_http.h"
#include "wire/event_validation.h"

namespace utracker::server {

namespace alerts {
class AlertEvaluator;
class AlertFeed;
class AlertsService;
}  // namespace alerts
namespace ingest {
class BatchWriter;
class TrackerService;
}  // namespace ingest
namespace query {
class FlowsService;
class QueryExecutor;
}  // namespace query
namespace rollup {
class RollupWorker;
}  // namespace rollup
namespace storage {
class PgAlertReader;
class PgFlowStore;
}  // namespace storage

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  std::string database_url;
  int query_threads = 2;
  // Writer threads, each with its own PostgreSQL connection (see README: measured).
  int writers = 2;
  size_t max_events_per_commit = 5000;
  // Prometheus text metrics at http://<metrics_listen>/metrics; empty: off.
  std::string metrics_listen;
  // Requests read and not yet acked, over all streams, before streams stop reading.
  size_t max_inflight_bytes = 256 << 20;
  // Recently written messages remembered per generation (two generations; ~50 bytes each).
  size_t message_cache_entries = 200000;
  absl::Duration health_check_interval = absl::Seconds(5);
  // The rollup job's period (graph freshness) and the deadline after which a sent message
  // nobody handled counts as stuck on the graph.
  absl::Duration rollup_interval = absl::Seconds(1);
  absl::Duration stuck_after = absl::Minutes(1);
  // The alert rules (alert.stuck_after follows stuck_after) and how often they are evaluated.
  alerts::AlertConfig alert;
  absl::Duration alert_interval = absl::Seconds(10);
  // Where alert openings and resolutions are POSTed (none by default).
  alerts::WebhookConfig webhooks;
  // How often WatchAlerts' feed reads the alerts table for changes.
  absl::Duration alert_poll_interval = absl::Milliseconds(500);
  int max_receive_message_bytes = wire::kMaxRequestBytes;
};

// The wired server: storage, ingest writer, Tracker and Flows services, health and
// reflection, on one grpc::Server. Owned by main (or a test); Start once, Shutdown once.
class ServerApp {
 public:
  explicit ServerApp(ServerOptions options);
  ~ServerApp();

  // Binds and starts serving. Returns the bound port (useful with a ":0" listen address).
  absl::StatusOr<int> Start();
  // The bound metrics port (0 when metrics are off).
  int metrics_port() const;

  // Graceful shutdown: reports NOT_SERVING, refuses new streams, lets in-flight batches
  // commit and be acked (up to `grace`), then stops the server and the writer.
  void Shutdown(absl::Duration grace);

 private:
  void SetServing(bool serving);
  void HealthLoop();

  const ServerOptions options_;
  MetricsRegistry registry_;
  IngestMetrics metrics_{&registry_};
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  std::unique_ptr<storage::PgFlowStore> flow_store_;
  std::unique_ptr<query::QueryExecutor> executor_;
  std::unique_ptr<ingest::BatchWriter> writer_;
  std::unique_ptr<rollup::RollupWorker> rollup_;
  std::unique_ptr<alerts::AlertNotifier> notifier_;
  std::unique_ptr<alerts::AlertEvaluator> evaluator_;
  std::unique_ptr<ingest::TrackerService> tracker_;
  std::unique_ptr<query::FlowsService> flows_;
  std::unique_ptr<storage::PgAlertReader> alert_reader_;
  std::unique_ptr<alerts::AlertFeed> alert_feed_;
  std::unique_ptr<alerts::AlertsService> alerts_;
  std::unique_ptr<grpc::Server> server_;

  std::mutex health_mu_;
  std::condition_variable health_wake_;
  bool stopping_ = false;  // guarded by health_mu_
  int serving_ = -1;       // guarded by health_mu_: -1 unknown, 0 no, 1 yes
  std::thread health_thread_;
};

}  // namespace utracker::server

#endif  // UTRACKER_SERVER_APP_SERVER_APP_H_
