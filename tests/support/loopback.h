#ifndef UTRACKER_TESTS_SUPPORT_LOOPBACK_H_
#define UTRACKER_TESTS_SUPPORT_LOOPBACK_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace utracker::testing {

// A TCP listener on 127.0.0.1 at a free port, with `backlog`. Returns the socket (-1 on
// failure) and sets *port.
int ListenOnLoopback(int backlog, int* port);

// A TCP connection to 127.0.0.1:`port`: blocking, or started without waiting (`nonblocking`,
// then it may still be in progress). -1 if a blocking connect failed.
int ConnectToLoopback(int port, bool nonblocking = false);

// A local address that drops connection attempts, as a firewalled host does: a listener
// nobody accepts from, with its queue full.
class BlackHole {
 public:
  BlackHole();
  ~BlackHole();
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  int port() const { return port_; }
  std::string address() const;
  // Whether a new connection attempt is still unanswered after `wait`.
  bool Drops(absl::Duration wait);

 private:
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_LOOPBACK_H_
