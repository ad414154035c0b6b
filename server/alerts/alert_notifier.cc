#include "alerts/alert_notifier.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "wire/alert_rule.h"

namespace utracker::server::alerts {
namespace {

// "http://host:port/path" -> ("http://host:port", "/path"); false if not plain http.
bool SplitUrl(absl::string_view url, std::string* origin, std::string* path) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://") || rest.empty()) return false;
  const size_t slash = rest.find('/');
  const absl::string_view host = rest.substr(0, slash);
  if (host.empty()) return false;
  *origin = absl::StrCat("http://", host);
  *path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  return true;
}

absl::Status CheckUrl(absl::string_view url) {
  std::string origin, path;
  if (!SplitUrl(url, &origin, &path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "webhook \"", url, "\": want http://HOST[:PORT][/PATH] (for https, put a TLS proxy in front)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseWebhooks(absl::string_view all, absl::string_view per_rule,
                           WebhookConfig* config) {
  all = absl::StripAsciiWhitespace(all);
  if (!all.empty()) {
    if (absl::Status st = CheckUrl(all); !st.ok()) return st;
    config->all = std::string(all);
  }
  for (absl::string_view entry : absl::StrSplit(per_rule, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, '=');
    const v1::AlertRule rule = wire::AlertRuleFromName(kv.first);
    if (rule == v1::ALERT_RULE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(
          "webhook \"", entry, "\": want RULE=URL, RULE one of stuck, failure_ratio, silence"));
    }
    if (absl::Status st = CheckUrl(kv.second); !st.ok()) return st;
    config->by_rule[rule] = std::string(kv.second);
  }
  return absl::OkStatus();
}

AlertNotifier::AlertNotifier(WebhookConfig config, MetricsRegistry* metrics, size_t max_queued,
                             absl::Duration retry_pause)
    : config_(std::move(config)), max_queued_(max_queued), retry_pause_(retry_pause) {
  if (metrics != nullptr) {
    sent_ = metrics->AddCounter("utracker_alert_webhooks_sent_total",
                                "Alert webhooks delivered (2xx).");
    failed_ = metrics->AddCounter("utracker_alert_webhooks_failed_total",
                                  "Alert webhooks given up after retries or dropped (queue full).");
  }
  thread_ = std::thread([this] { Run(); });
}

AlertNotifier::~AlertNotifier() { Stop(); }

void AlertNotifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertNotifier::Notify(const v1::AlertChange& change) {
  auto it = config_.by_rule.find(change.alert().rule());
  const std::string& url = it != config_.by_rule.end() ? it->second : config_.all;
  if (url.empty()) return;
  std::string body;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(change, &body, options).ok()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= max_queued_ || stop_) {
      if (failed_ != nullptr) failed_->Add();
      return;
    }
    queue_.emplace_back(url, std::move(body));
  }
  wake_.notify_one();
}

void AlertNotifier::Run() {
  for (;;) {
    std::pair<std::string, std::string> next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    const bool ok = Deliver(next.first, next.second);
    Counter* count = ok ? sent_ : failed_;
    if (count != nullptr) count->Add();
  }
}

bool AlertNotifier::Deliver(const std::string& url, const std::string& body) {
  std::string origin, path;
  if (!SplitUrl(url, &origin, &path)) return false;
  httplib::Client client(origin);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) {
      std::unique_lock<std::mutex> lock(mu_);
      if (wake_.wait_for(lock, absl::ToChronoMilliseconds(retry_pause_ * attempt),
                         [this] { return stop_; })) {
        return false;
      }
    }
    httplib::Result res = client.Post(path, body, "application/json");
    if (res && res->status >= 200 && res->status < 300) return true;
    spdlog::warn("alert webhook {}: {}", url,
                 res ? absl::StrCat("HTTP ", res->status) : httplib::to_string(res.error()));
  }
  return false;
}

}  // namespace utracker::server::alerts
