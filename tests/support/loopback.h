#ifndef UTRACKER_TESTS_SUPPORT_LOOPBACK_H_
#define UTRACKER_TESTS_SUPPORT_LOOPBACK_H_

namespace utracker::testing {

// A TCP listener on 127.0.0.1 at a free port, with `backlog`. Returns the socket (-1 on
// failure) and sets *port.
int ListenOnLoopback(int backlog, int* port);

// A TCP connection to 127.0.0.1:`port`: blocking, or started without waiting (`nonblocking`,
// then it may still be in progress). -1 if a blocking connect failed.
int ConnectToLoopback(int port, bool nonblocking = false);

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_LOOPBACK_H_
