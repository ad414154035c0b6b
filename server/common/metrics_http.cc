#include "common/metrics_http.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace utracker::server {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, const MetricsRegistry* registry) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen wants host:port, got ", listen));
  }
  const std::string host = listen.substr(0, colon);
  std::unique_ptr<MetricsHttpServer> s(new MetricsHttpServer);
  s->http_ = std::make_unique<httplib::Server>();
  s->http_->Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry->Render(), "text/plain; version=0.0.4");
  });
  s->port_ = port == 0 ? s->http_->bind_to_any_port(host)
                       : (s->http_->bind_to_port(host, port) ? port : -1);
  if (s->port_ <= 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  s->thread_ = std::thread([srv = s->http_.get()] { srv->listen_after_bind(); });
  return s;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace utracker::server
