#ifndef UTRACKER_SERVER_ALERTS_ALERT_NOTIFIER_H_
#define UTRACKER_SERVER_ALERTS_ALERT_NOTIFIER_H_

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "utracker/v1/alerts.pb.h"

namespace utracker::server::alerts {

// Where alert webhooks go: one URL for every rule, and per-rule URLs that replace it.
struct WebhookConfig {
  std::string all;
  std::map<v1::AlertRule, std::string> by_rule;
  bool empty() const { return all.empty() && by_rule.empty(); }
};

// Parses --alert_webhook (a URL, or empty) and --alert_webhook_for
// ("stuck=URL,silence=URL"). URLs are http://HOST[:PORT][/PATH].
absl::Status ParseWebhooks(absl::string_view all, absl::string_view per_rule,
                           WebhookConfig* config);

// Sends each alert's opening and resolution as an HTTP POST of JSON (the AlertChange, as
// grpcurl prints it) to its rule's webhook. Notify never blocks the evaluator: changes go
// into a bounded queue that one thread drains; a delivery is tried three times (2 s to
// connect, 5 s to answer, a 2xx counts), and what still fails, or finds the queue full, is
// dropped and counted (alerts stay readable through ListAlerts/WatchAlerts). Thread-safe.
class AlertNotifier {
 public:
  explicit AlertNotifier(WebhookConfig config, MetricsRegistry* metrics = nullptr,
                         size_t max_queued = 1000, absl::Duration retry_pause = absl::Seconds(1));
  ~AlertNotifier();  // Stop()s

  void Notify(const v1::AlertChange& change);
  // Ends the thread after the delivery in progress; what is still queued is dropped.
  void Stop();

 private:
  void Run();
  bool Deliver(const std::string& url, const std::string& body);

  const WebhookConfig config_;
  const size_t max_queued_;
  const absl::Duration retry_pause_;
  Counter* sent_ = nullptr;
  Counter* failed_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, std::string>> queue_;  // (url, body); guarded by mu_
  bool stop_ = false;                                       // guarded by mu_
  std::thread thread_;
};

}  // namespace utracker::server::alerts

#endif  // UTRACKER_SERVER_ALERTS_ALERT_NOTIFIER_H_
