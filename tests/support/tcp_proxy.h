#ifndef UTRACKER_TESTS_SUPPORT_TCP_PROXY_H_
#define UTRACKER_TESTS_SUPPORT_TCP_PROXY_H_

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace utracker::testing {

// A TCP forwarder on 127.0.0.1 for outage tests: the server talks to PostgreSQL through it,
// and the test cuts the line (Cut: every connection closed, new ones closed at once) and
// restores it (Restore). PostgreSQL itself stays real.
class TcpProxy {
 public:
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();

  // Listens on a free port and forwards. Returns the port or 0.
  int Start();
  void Cut();
  void Restore() { cut_ = false; }
  void Stop();

 private:
  void AcceptLoop(int listener);
  void CloseConnections();
  void Pump(int from, int to);

  const std::string host_;
  const int target_port_;
  std::atomic<bool> running_{false};
  std::atomic<bool> cut_{false};
  int listener_ = -1;
  std::mutex mu_;
  std::vector<int> sockets_;          // guarded by mu_
  std::vector<std::thread> threads_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_TCP_PROXY_H_
