#ifndef UTRACKER_TESTS_SUPPORT_PROCESS_H_
#define UTRACKER_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace utracker::testing {

// A child process running a built binary, its stdout readable line by line (stderr is
// inherited, so its logs land in the test output). Kills the child (SIGKILL) if still
// running at destruction.
class ChildProcess {
 public:
  ChildProcess(const std::string& path, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Next stdout line, or nullopt on EOF/timeout.
  std::optional<std::string> ReadLine(absl::Duration timeout);
  // Sends `sig` and waits for exit; returns the exit code (128+signal if killed), or
  // nullopt if it did not exit within `timeout`.
  std::optional<int> Signal(int sig, absl::Duration timeout);
  // Waits for exit (no signal).
  std::optional<int> Wait(absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

// Runs a command to completion; returns (exit code, stdout).
std::pair<int, std::string> RunCommand(const std::vector<std::string>& argv);

// Reads utracker-server's "listening on HOST:PORT" line from its stdout; the port, or 0
// (with a test failure) if the server did not get that far.
int AwaitListening(ChildProcess& server);

// Command-line flags for a test server on `database_url`, on 127.0.0.1:`port` (0: any); its
// graph rollups fold every 100 ms.
std::vector<std::string> ServerArgs(const std::string& database_url, int port = 0);

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_PROCESS_H_
