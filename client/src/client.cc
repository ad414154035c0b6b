#include "utracker/client.h"

#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "client_core.h"
#include "grpc_event_sink.h"
#include "wire/event_validation.h"
#include "wire/text.h"

namespace utracker {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "unknown-host";
  return buf;
}

DiagnosticSink StderrDiagnostics(const std::string& service) {
  return [service](absl::string_view line) {
    std::fprintf(stderr, "utracker[%s]: %.*s\n", service.c_str(), static_cast<int>(line.size()),
                 line.data());
  };
}

absl::Status CheckConfig(Config& c) {
  if (c.service.empty()) return absl::InvalidArgumentError("Config.service is required");
  if (wire::SanitizeText(&c.service, wire::kMaxServiceBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Config.service must be UTF-8 without NUL bytes, at most ",
                     wire::kMaxServiceBytes, " bytes"));
  }
  if (c.instance.empty()) c.instance = HostName();
  wire::SanitizeText(&c.instance, wire::kMaxInstanceBytes);
  if (c.server.empty()) return absl::InvalidArgumentError("Config.server is required");
  if (c.max_buffered_events == 0 || c.max_buffered_bytes == 0 || c.max_batch_events == 0 ||
      c.max_unacked_batches == 0 || c.max_batch_bytes == 0) {
    return absl::InvalidArgumentError("Config buffer and batch limits must be positive");
  }
  // The server's limits: a request over them would be rejected whole, or refused and
  // resent forever.
  if (c.max_batch_events > wire::kMaxEventsPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat("Config.max_batch_events is at most ",
                                                   wire::kMaxEventsPerRequest,
                                                   " (the server's limit per request)"));
  }
  if (c.max_batch_bytes > wire::kMaxRequestBytes / 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Config.max_batch_bytes is at most ", wire::kMaxRequestBytes / 2,
        " (half the server's request size limit: the event that fills a batch may go over)"));
  }
  // Finite and bounded: the worker waits for these, and a wait for an infinite (or huge)
  // duration overflows the clock and returns at once, spinning.
  if (c.min_backoff <= absl::ZeroDuration() || c.max_backoff < c.min_backoff ||
      c.max_backoff > absl::Hours(1)) {
    return absl::InvalidArgumentError(
        "Config backoff: need 0 < min_backoff <= max_backoff <= 1h");
  }
  if (c.batch_delay < absl::ZeroDuration() || c.batch_delay > absl::Minutes(1)) {
    return absl::InvalidArgumentError("Config.batch_delay: need 0 <= batch_delay <= 1m");
  }
  if (c.report_interval <= absl::ZeroDuration() || c.report_interval > absl::Hours(24)) {
    return absl::InvalidArgumentError("Config.report_interval: need 0 < report_interval <= 24h");
  }
  if (!c.diagnostics) c.diagnostics = StderrDiagnostics(c.service);
  return absl::OkStatus();
}

std::mutex default_mu;
std::shared_ptr<Client> default_client;  // guarded by default_mu

}  // namespace

namespace internal {}  // namespace internal

absl::StatusOr<std::shared_ptr<Client>> Client::Create(Config config) {
  if (absl::Status st = CheckConfig(config); !st.ok()) return st;
  auto sink = std::make_unique<client::internal::GrpcEventSink>(config.server);
  auto core = std::make_shared<internal::ClientCore>(std::move(config), std::move(sink));
  return std::shared_ptr<Client>(new Client(std::move(core)));
}

Client::Client(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}

Client::~Client() { Shutdown(absl::Seconds(5)); }

Message Client::Pack(absl::string_view content, absl::string_view content_type) {
  return Message(core_->NewEnvelope(nullptr, std::string(content), content_type), core_);
}

Message Client::Pack(const google::protobuf::Message& content) {
  Message m = Message::Pack(content);  // computes the content type once, in one place
  return Message(core_->NewEnvelope(nullptr, m.content(), m.content_type()), core_);
}

Message Client::PackJson(absl::string_view json) { return Pack(json, kJson); }

absl::StatusOr<Message> Client::Unpack(absl::string_view serialized) {
  absl::StatusOr<Message> m = Message::Unpack(serialized);
  if (!m.ok()) return m.status();
  return Message(m->envelope_, core_);
}

absl::StatusOr<Message> Client::FromHeaders(const std::map<std::string, std::string>& headers,
                                            std::string content, absl::string_view content_type) {
  absl::StatusOr<Message> m = Message::FromHeaders(headers, std::move(content), content_type);
  if (!m.ok()) return m.status();
  return Message(m->envelope_, core_);
}

absl::Status Client::Flush(absl::Duration timeout) { return core_->streamer()->Flush(timeout); }

void Client::Shutdown(absl::Duration timeout) { core_->streamer()->Shutdown(timeout); }

Stats Client::stats() const {
  Stats s = core_->streamer()->stats();
  s.payloads_dropped = core_->payloads_dropped();
  return s;
}

const Config& Client::config() const { return core_->config(); }

std::shared_ptr<internal::ClientCore> internal::DefaultCore() {
  {
    std::lock_guard<std::mutex> lock(default_mu);
    if (default_client) return default_client->core_;
  }
  // No Configure yet: messages still work; their events are dropped (reported once).
  static const auto disabled = [] {
    Config c;
    c.diagnostics = StderrDiagnostics("unconfigured");
    return std::make_shared<ClientCore>(std::move(c), nullptr);
  }();
  return disabled;
}

absl::Status Configure(Config config) {
  absl::StatusOr<std::shared_ptr<Client>> client = Client::Create(std::move(config));
  if (!client.ok()) return client.status();
  std::shared_ptr<Client> old;
  {
    std::lock_guard<std::mutex> lock(default_mu);
    old = std::move(default_client);
    default_client = *std::move(client);
  }
  if (old) old->Shutdown(absl::Seconds(5));
  return absl::OkStatus();
}

std::shared_ptr<Client> DefaultClient() {
  std::lock_guard<std::mutex> lock(default_mu);
  return default_client;
}

absl::Status Flush(absl::Duration timeout) {
  auto client = DefaultClient();
  return client ? client->Flush(timeout) : absl::OkStatus();
}

void Shutdown(absl::Duration timeout) {
  if (auto client = DefaultClient()) client->Shutdown(timeout);
}

}  // namespace utracker
