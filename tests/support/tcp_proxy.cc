#include "support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/loopback.h"

namespace utracker::testing {

TcpProxy::TcpProxy(std::string target_host, int target_port)
    : host_(std::move(target_host)), target_port_(target_port) {}

TcpProxy::~TcpProxy() { Stop(); }

int TcpProxy::Start() {
  int port = 0;
  const int fd = ListenOnLoopback(64, &port);
  if (fd < 0) return 0;
  listener_ = fd;
  running_ = true;
  acceptor_ = std::thread([this, fd] { AcceptLoop(fd); });
  return port;
}

void TcpProxy::AcceptLoop(int listener) {
  while (running_) {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const int client = accept(listener, nullptr, nullptr);
    if (client < 0) continue;
    if (cut_) {  // the line is down: as if the database host were gone
      close(client);
      continue;
    }
    const int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
    if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(client);
      close(upstream);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    sockets_.push_back(client);
    sockets_.push_back(upstream);
    threads_.emplace_back([this, client, upstream] { Pump(client, upstream); });
    threads_.emplace_back([this, client, upstream] { Pump(upstream, client); });
  }
}

void TcpProxy::Pump(int from, int to) {
  char buf[65536];
  for (;;) {
    const ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      // MSG_NOSIGNAL: Cut() shuts sockets down under the pumps, and a write to one would
      // raise SIGPIPE and kill the whole test process (it did, in CI).
      const ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) return;
      off += w;
    }
  }
  shutdown(to, SHUT_RDWR);
}

void TcpProxy::Cut() {
  cut_ = true;
  CloseConnections();
}

void TcpProxy::Stop() {
  if (!running_.exchange(false)) return;
  if (acceptor_.joinable()) acceptor_.join();
  close(listener_);
  CloseConnections();
}

void TcpProxy::CloseConnections() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Cut every connection: both ends see it closed, as when a database host goes away.
    for (int fd : sockets_) shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : sockets_) close(fd);
  sockets_.clear();
}

}  // namespace utracker::testing
