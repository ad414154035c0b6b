#include "app/server_app.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "alerts/alert_evaluator.h"
#include "alerts/alert_feed.h"
#include "alerts/alerts_service.h"
#include "grpc/health/v1/health.pb.h"
#include "ingest/batch_writer.h"
#include "ingest/tracker_service.h"
#include "query/flows_service.h"
#include "query/query_executor.h"
#include "rollup/rollup_worker.h"
#include "storage/pg_alert_reader.h"
#include "storage/pg_alert_store.h"
#include "storage/pg_event_store.h"
#include "storage/pg_flow_store.h"
#include "storage/pg_rollup_store.h"
#include "storage/ping.h"

namespace utracker::server {
namespace {

constexpr const char* kServiceNames[] = {"", "utracker.v1.Tracker", "utracker.v1.Flows",
                                         "utracker.v1.Alerts"};
constexpr size_t kMaxQueuedQueries = 256;

}  // namespace

ServerApp::ServerApp(ServerOptions options) : options_(std::move(options)) {}

ServerApp::~ServerApp() {
  if (server_) Shutdown(absl::ZeroDuration());
}

absl::StatusOr<int> ServerApp::Start() {
  flow_store_ = std::make_unique<storage::PgFlowStore>(options_.database_url);
  executor_ = std::make_unique<query::QueryExecutor>(options_.query_threads, kMaxQueuedQueries);
  std::vector<std::unique_ptr<storage::EventStore>> sinks;
  auto cache = std::make_shared<storage::MessageCache>(options_.message_cache_entries);
  for (int i = 0; i < std::max(1, options_.writers); ++i) {
    sinks.push_back(std::make_unique<storage::PgEventStore>(options_.database_url, cache));
  }
  ingest::BatchWriter::Options writer_options;
  writer_options.max_events_per_commit = options_.max_events_per_commit;
  writer_options.metrics = &metrics_;
  writer_ = std::make_unique<ingest::BatchWriter>(std::move(sinks), writer_options,
                                                  [this](bool up) { SetServing(up); });
  ingest::TrackerService::Options tracker_options;
  tracker_options.max_inflight_bytes = options_.max_inflight_bytes;
  tracker_options.metrics = &metrics_;
  tracker_ = std::make_unique<ingest::TrackerService>(writer_.get(), tracker_options);
  if (!options_.metrics_listen.empty()) {
    auto http = MetricsHttpServer::Start(options_.metrics_listen, &registry_);
    if (!http.ok()) return http.status();
    metrics_http_ = *std::move(http);
  }
  query::StuckDeadlines deadlines;
  deadlines.after = options_.stuck_after;
  for (const auto& [destination, micros] : options_.alert.stuck_after_destination) {
    deadlines.by_destination[destination] = absl::Microseconds(micros);
  }
  flows_ = std::make_unique<query::FlowsService>(flow_store_.get(), executor_.get(), deadlines);
  alert_reader_ = std::make_unique<storage::PgAlertReader>(options_.database_url);
  alert_feed_ =
      std::make_unique<alerts::AlertFeed>(alert_reader_.get(), options_.alert_poll_interval);
  alert_feed_->Start();
  alerts_ = std::make_unique<alerts::AlertsService>(alert_reader_.get(), executor_.get(),
                                                    alert_feed_.get());
  rollup::RollupWorkerOptions rollup_options;
  rollup_options.interval = options_.rollup_interval;
  rollup_options.ingest_busy = [this] { return metrics_.inflight_bytes->value() > 0; };
  rollup_ = std::make_unique<rollup::RollupWorker>(
      std::make_unique<storage::PgRollupStore>(options_.database_url), rollup_options, &registry_);
  rollup_->Start();
  alerts::AlertConfig alert_config = options_.alert;
  alert_config.stuck_after = absl::ToInt64Microseconds(options_.stuck_after);
  if (!options_.webhooks.empty()) {
    notifier_ = std::make_unique<alerts::AlertNotifier>(options_.webhooks, &registry_);
  }
  evaluator_ = std::make_unique<alerts::AlertEvaluator>(
      std::make_unique<storage::PgAlertStore>(options_.database_url), alert_config,
      options_.alert_interval, &registry_, absl::Now, notifier_.get());
  evaluator_->Start();

  // Debian links with --as-needed: without this call the reflection library is dropped.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Referencing the descriptor links protos/grpc/health/v1/health.proto in, so reflection
  // can describe grpc.health.v1.Health (served by gRPC's DefaultHealthCheckService).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  // gRPC sets SO_REUSEPORT by default: a second server on the same port would then start
  // "successfully" and steal half the connections. Fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(tracker_.get());
  builder.RegisterService(flows_.get());
  builder.RegisterService(alerts_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  // Health is known before the port is announced, so the first Check already answers.
  SetServing(storage::Ping(options_.database_url).ok());
  health_thread_ = std::thread([this] { HealthLoop(); });
  return port;
}

int ServerApp::metrics_port() const { return metrics_http_ ? metrics_http_->port() : 0; }

void ServerApp::SetServing(bool serving) {
  metrics_.postgres_up->Set(serving);
  std::lock_guard<std::mutex> lock(health_mu_);
  if (stopping_ || serving_ == static_cast<int>(serving) || !server_) return;
  if (serving_ != -1) {
    if (serving) {
      spdlog::info("PostgreSQL reachable again: SERVING");
    } else {
      spdlog::warn("PostgreSQL unreachable: NOT_SERVING (streams end with UNAVAILABLE)");
    }
  }
  serving_ = serving;
  for (const char* name : kServiceNames) {
    server_->GetHealthCheckService()->SetServingStatus(name, serving);
  }
}

void ServerApp::HealthLoop() {
  // The writer reports health after every commit; this covers idle periods.
  std::unique_lock<std::mutex> lock(health_mu_);
  for (;;) {
    health_wake_.wait_for(lock, absl::ToChronoMilliseconds(options_.health_check_interval),
                          [this] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    const absl::Status st = storage::Ping(options_.database_url);
    if (!st.ok()) spdlog::debug("health ping: {}", st.ToString());
    SetServing(st.ok());
    lock.lock();
  }
}

void ServerApp::Shutdown(absl::Duration grace) {
  if (!server_) return;
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    stopping_ = true;
    server_->GetHealthCheckService()->Shutdown();  // everything NOT_SERVING from now on
  }
  health_wake_.notify_all();
  if (health_thread_.joinable()) health_thread_.join();
  // Streams end (UNAVAILABLE) as soon as their in-flight batches are acked. Only then is
  // the gRPC server shut down: its Shutdown waits for every client connection to close,
  // which idle clients do late, so it gets a short deadline after which it cuts them.
  const absl::Time deadline = absl::Now() + grace;
  tracker_->Drain();
  if (!tracker_->AwaitNoStreams(deadline)) {
    spdlog::warn("{} LogEvents streams still open after the grace period; cancelling them",
                 tracker_->ActiveStreams());
  }
  // WatchAlerts streams end (UNAVAILABLE) now rather than be cut at the deadline.
  alert_feed_->Stop();
  server_->Shutdown(absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(1))));
  // A store still running at the deadline (a blocked database) is cancelled, unacked.
  writer_->Stop(deadline);
  rollup_->Stop();
  evaluator_->Stop();
  if (notifier_) notifier_->Stop();
  server_->Wait();
  server_.reset();
  executor_.reset();
  metrics_http_.reset();
}

}  // namespace utracker::server
