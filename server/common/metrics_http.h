#ifndef UTRACKER_SERVER_COMMON_METRICS_HTTP_H_
#define UTRACKER_SERVER_COMMON_METRICS_HTTP_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/metrics.h"

namespace httplib {
class Server;
}

namespace utracker::server {

// GET /metrics (Prometheus text format) on its own thread, with cpp-httplib. Owned by the
// ServerApp; stops in the destructor.
class MetricsHttpServer {
 public:
  // `listen` is host:port (port 0 picks one). Returns the bound port.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& listen,
                                                                  const MetricsRegistry* registry);
  ~MetricsHttpServer();
  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace utracker::server

#endif  // UTRACKER_SERVER_COMMON_METRICS_HTTP_H_
