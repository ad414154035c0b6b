// Tests of the test support itself: an outage test must fail with its reason, never die
// silently or hang the run.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "support/loopback.h"
#include "support/process.h"
#include "support/tcp_proxy.h"

namespace utracker::testing {
namespace {

// A listener on 127.0.0.1 that sends bytes to whoever connects until the line breaks.
class Blaster {
 public:
  Blaster() {
    fd_ = ListenOnLoopback(4, &port_);
    thread_ = std::thread([this] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[16384] = {};
      // MSG_NOSIGNAL here too: this end also sees the cut.
      while (send(c, buf, sizeof(buf), MSG_NOSIGNAL) > 0) {
      }
      close(c);
    });
  }
  ~Blaster() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};


// Cut() shuts the sockets down while the pumps write to them. A plain write() there raised
// SIGPIPE and killed the whole test binary (seen in CI: the outage test died without a word).
TEST(TcpProxy, CuttingTheLineWhileDataFlowsLeavesTheProcessAlive) {
  Blaster upstream;
  TcpProxy proxy("127.0.0.1", upstream.port());
  const int port = proxy.Start();
  ASSERT_GT(port, 0);
  const int client = ConnectToLoopback(port);
  ASSERT_GE(client, 0);
  char buf[4096];
  ASSERT_GT(read(client, buf, sizeof(buf)), 0) << "nothing came through the proxy";
  // The client stops reading: the pump towards it blocks in a write, which the cut breaks.
  absl::SleepFor(absl::Milliseconds(50));
  proxy.Cut();
  // Still here; the client sees the line closed.
  long got = 0;
  for (ssize_t n; (n = read(client, buf, sizeof(buf))) > 0;) got += n;
  SUCCEED() << got << " bytes drained after the cut";
  close(client);
  proxy.Stop();
}

// A test process that dies without running destructors (a crash, a signal) takes its
// children with it; left running, a child kept ctest's output pipe open until the 600 s
// timeout, and the crash showed nothing.
TEST(ChildProcess, DiesWithTheTestProcess) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t middle = fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {  // stands in for a test binary that crashes
    close(fds[0]);
    auto* child = new ChildProcess("/bin/sleep", {"30"});
    const pid_t pid = child->pid();
    if (write(fds[1], &pid, sizeof(pid)) != sizeof(pid)) _exit(1);
    _exit(0);  // no destructor: the child is not killed by ChildProcess
  }
  close(fds[1]);
  pid_t grandchild = -1;
  ASSERT_EQ(read(fds[0], &grandchild, sizeof(grandchild)), static_cast<ssize_t>(sizeof(grandchild)));
  close(fds[0]);
  waitpid(middle, nullptr, 0);
  ASSERT_GT(grandchild, 0);
  // Dead means gone, or a zombie waiting for whoever adopted it to reap it.
  auto dead = [grandchild] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    if (!(stat >> pid >> comm >> state)) return true;
    return state == "Z" || state == "X";
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!dead() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  const bool died = dead();
  if (!died) kill(grandchild, SIGKILL);
  EXPECT_TRUE(died) << "the child outlived the process that started it";
}

}  // namespace
}  // namespace utracker::testing
