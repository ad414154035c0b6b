#include "support/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace utracker::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

}  // namespace

int ListenOnLoopback(int backlog, int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, backlog) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

int ConnectToLoopback(int port, bool nonblocking) {
  const int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  const sockaddr_in addr = Loopback(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 && !nonblocking) {
    close(fd);
    return -1;
  }
  return fd;
}

BlackHole::BlackHole() {
  listener_ = ListenOnLoopback(0, &port_);
  if (listener_ < 0) ADD_FAILURE() << "cannot listen on loopback";
  for (int i = 0; i < 2; ++i) fillers_.push_back(ConnectToLoopback(port_, true));
  absl::SleepFor(absl::Milliseconds(100));
}

BlackHole::~BlackHole() {
  for (int fd : fillers_) close(fd);
  close(listener_);
}

std::string BlackHole::address() const { return absl::StrCat("127.0.0.1:", port_); }

bool BlackHole::Drops(absl::Duration wait) {
  const int fd = ConnectToLoopback(port_, true);
  pollfd p{fd, POLLOUT, 0};
  const int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait)));
  close(fd);
  return ready == 0;
}

}  // namespace utracker::testing
