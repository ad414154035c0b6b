// utracker-server: parses flags and wires the ServerApp; nothing else lives here.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "app/server_app.h"
#include "common/env_flags.h"
#include "common/malloc_tuning.h"
#include "storage/migrations.h"
#include "storage/pg_url.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC listen address (host:port; port 0 picks one)");
ABSL_FLAG(std::string, database_url, "",
          "PostgreSQL URL, e.g. postgresql://user:pw@127.0.0.1:5432/utracker");
ABSL_FLAG(bool, migrate, false, "apply migrations at start (under an advisory lock)");
ABSL_FLAG(bool, migrate_only, false, "apply migrations and exit");
ABSL_FLAG(int, query_threads, 2, "threads (and PostgreSQL connections) answering flow queries");
ABSL_FLAG(std::string, metrics_listen, "", "serve Prometheus metrics at http://HOST:PORT/metrics");
ABSL_FLAG(int64_t, max_inflight_bytes, 256 << 20,
          "bytes of requests read and not yet acked, over all streams, before streams pause");
ABSL_FLAG(int, writers, 2, "ingest writer threads, each with its own PostgreSQL connection");
ABSL_FLAG(int, max_events_per_commit, 5000, "events one ingest transaction takes at most");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "on SIGTERM/SIGINT, how long in-flight batches get to commit and be acked");
ABSL_FLAG(absl::Duration, rollup_interval, absl::Seconds(1),
          "how often the graph rollups fold new events (one replica at a time does it)");
ABSL_FLAG(absl::Duration, stuck_after, absl::Minutes(1),
          "a sent message not handled this long after it was sent counts as stuck");
ABSL_FLAG(std::string, stuck_after_for, "",
          "deadline overrides, comma-separated: destination:NAME=DURATION (messages sent to that"
          " destination) or service:NAME=DURATION (messages that receiving service awaits)");
ABSL_FLAG(absl::Duration, alert_interval, absl::Seconds(10),
          "how often the alert rules are evaluated (one replica at a time does it)");
ABSL_FLAG(absl::Duration, alert_history, absl::Hours(24),
          "window for learning expected receivers and usual gaps; stuck messages older are dropped");
ABSL_FLAG(int64_t, alert_stuck_min, 1, "stuck messages (per receiver and destination) that open an alert");
ABSL_FLAG(double, alert_failure_ratio, 0.2,
          "FAILED/(PROCESSED+FAILED) of a service that opens an alert (resolves below half of it)");
ABSL_FLAG(absl::Duration, alert_failure_window, absl::Minutes(5), "window of the failure ratio");
ABSL_FLAG(int64_t, alert_failure_min, 10, "finished messages in the window before the ratio counts");
ABSL_FLAG(absl::Duration, alert_silence_min, absl::Minutes(2),
          "shortest silence that opens a silence alert");
ABSL_FLAG(double, alert_silence_factor, 3,
          "silence alert after this many times a service's longest gap in the history window");
ABSL_FLAG(std::string, alert_webhook, "",
          "POST each alert's opening and resolution as JSON to this http:// URL");
ABSL_FLAG(std::string, alert_webhook_for, "",
          "per-rule webhooks replacing --alert_webhook: stuck=URL,failure_ratio=URL,silence=URL");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "micro-tracker server. Every flag may also be set by the environment variable "
      "UTRACKER_<FLAG> (e.g. UTRACKER_DATABASE_URL); the command line wins.");
  if (absl::Status st = utracker::server::ApplyEnvFlagDefaults(
          {"listen", "database_url", "migrate", "migrate_only", "query_threads", "writers",
           "metrics_listen", "max_inflight_bytes", "max_events_per_commit", "shutdown_grace",
           "rollup_interval", "stuck_after", "stuck_after_for", "alert_interval", "alert_history",
           "alert_stuck_min", "alert_failure_ratio", "alert_failure_window", "alert_failure_min",
           "alert_silence_min", "alert_silence_factor", "alert_webhook", "alert_webhook_for",
           "log_level"});
      !st.ok()) {
    std::cerr << "utracker-server: " << st.message() << "\n";
    return 2;
  }
  absl::ParseCommandLine(argc, argv);
  // Before any thread (see malloc_tuning.h); reported once logging is set up.
  const bool malloc_tuned = utracker::server::KeepFreedMemoryForReuse();
  // Logs go to stderr; stdout carries only the "listening on" line scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("utracker-server"));
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
  if (!malloc_tuned) spdlog::warn("could not set malloc's mmap and trim thresholds");

  if (absl::GetFlag(FLAGS_database_url).empty()) {
    std::cerr << "utracker-server: set --database_url or UTRACKER_DATABASE_URL\n";
    return 2;
  }
  // Every connection the server makes (migrations, stores, health, leads) gets a connect
  // timeout from here, unless the URL sets its own.
  const std::string database_url =
      utracker::server::storage::WithConnectTimeout(absl::GetFlag(FLAGS_database_url));

  if (absl::GetFlag(FLAGS_migrate) || absl::GetFlag(FLAGS_migrate_only)) {
    auto report = utracker::server::storage::ApplyMigrations(
        database_url, utracker::server::storage::EmbeddedMigrations());
    if (!report.ok()) {
      spdlog::error("migrations failed: {}", report.status().ToString());
      return 1;
    }
    spdlog::info("schema at version {}; applied now: [{}]", report->schema_version,
                 absl::StrJoin(report->applied, ", "));
    if (absl::GetFlag(FLAGS_migrate_only)) return 0;
  } else {
    // A binary newer than its schema would fail every batch on a missing column: refuse to
    // start. An unreachable database is not a reason to refuse (the server waits for it).
    const auto& migrations = utracker::server::storage::EmbeddedMigrations();
    const int needed = migrations.empty() ? 0 : migrations.back().version;
    absl::StatusOr<int> version = utracker::server::storage::ReadSchemaVersion(database_url);
    if (!version.ok()) {
      spdlog::warn("could not check the schema version: {}", version.status().ToString());
    } else if (*version < needed) {
      std::cerr << "utracker-server: the database schema is at version " << *version
                << ", this server needs " << needed
                << ": start it once with --migrate (or run --migrate_only)\n";
      return 1;
    }
  }

  // Block the signals in every thread; this one waits for them below. A shell may have
  // started us with SIGINT ignored (background job): restore it so sigwait sees it.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  utracker::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.database_url = database_url;
  options.query_threads = absl::GetFlag(FLAGS_query_threads);
  options.writers = absl::GetFlag(FLAGS_writers);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.max_inflight_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_inflight_bytes));
  options.max_events_per_commit = static_cast<size_t>(absl::GetFlag(FLAGS_max_events_per_commit));
  options.rollup_interval = absl::GetFlag(FLAGS_rollup_interval);
  options.stuck_after = absl::GetFlag(FLAGS_stuck_after);
  options.alert_interval = absl::GetFlag(FLAGS_alert_interval);
  if (absl::Status st = utracker::server::alerts::ParseStuckOverrides(
          absl::GetFlag(FLAGS_stuck_after_for), &options.alert);
      !st.ok()) {
    std::cerr << "utracker-server: --stuck_after_for: " << st.message() << "\n";
    return 2;
  }
  options.alert.history = absl::ToInt64Microseconds(absl::GetFlag(FLAGS_alert_history));
  options.alert.stuck_open = std::max<int64_t>(1, absl::GetFlag(FLAGS_alert_stuck_min));
  options.alert.failure_open = absl::GetFlag(FLAGS_alert_failure_ratio);
  options.alert.failure_resolve = options.alert.failure_open / 2;
  options.alert.failure_window =
      absl::ToInt64Microseconds(absl::GetFlag(FLAGS_alert_failure_window));
  options.alert.failure_min_finished = absl::GetFlag(FLAGS_alert_failure_min);
  options.alert.silence_min = absl::ToInt64Microseconds(absl::GetFlag(FLAGS_alert_silence_min));
  options.alert.silence_factor = absl::GetFlag(FLAGS_alert_silence_factor);
  if (absl::Status st = utracker::server::alerts::ParseWebhooks(
          absl::GetFlag(FLAGS_alert_webhook), absl::GetFlag(FLAGS_alert_webhook_for),
          &options.webhooks);
      !st.ok()) {
    std::cerr << "utracker-server: " << st.message() << "\n";
    return 2;
  }
  utracker::server::ServerApp app(options);
  auto port = app.Start();
  if (!port.ok()) {
    spdlog::error("{}", port.status().ToString());
    return 1;
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  // Tests and scripts read this line to learn the port.
  std::printf("utracker-server listening on %s:%d\n", host.c_str(), *port);
  if (app.metrics_port() > 0) {
    std::printf("utracker-server metrics on http://%s/metrics\n",
                absl::StrCat(options.metrics_listen.substr(0, options.metrics_listen.rfind(':')),
                             ":", app.metrics_port())
                    .c_str());
  }
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  app.Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  spdlog::info("stopped");
  return 0;
}
