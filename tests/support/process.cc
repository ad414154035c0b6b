#include "support/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace utracker::testing {
namespace {

std::vector<char*> Argv(const std::string& path, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(const std::string& path, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  auto argv = Argv(path, args);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // If the test process dies without its destructors (a crash, a signal), the child goes
    // with it: left running, it would keep ctest's output pipe open and turn the crash into a
    // 600 s timeout that shows nothing. (Children are made on the tests' main threads; this
    // fires when the thread that forked exits.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    dup2(fds[1], STDOUT_FILENO);
    execv(path.c_str(), argv.data());
    std::perror("execv");
    _exit(127);
  }
  close(fds[1]);
  stdout_fd_ = fds[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::optional<std::string> ChildProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return std::nullopt;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return ExitCode(status);
    }
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));  // polling a child's exit; nothing to await
  }
}

std::optional<int> ChildProcess::Signal(int sig, absl::Duration timeout) {
  if (pid_ <= 0) return std::nullopt;
  kill(pid_, sig);
  return Wait(timeout);
}

std::pair<int, std::string> RunCommand(const std::vector<std::string>& argv) {
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  ChildProcess p(argv[0], rest);
  std::string out;
  while (auto line = p.ReadLine(absl::Seconds(60))) out += *line + "\n";
  auto code = p.Wait(absl::Seconds(60));
  return {code.value_or(-1), out};
}

int AwaitListening(ChildProcess& server) {
  auto line = server.ReadLine(absl::Seconds(30));
  int port = 0;
  const size_t colon = line ? line->rfind(':') : std::string::npos;
  if (!line || line->find("listening on") == std::string::npos || colon == std::string::npos ||
      !absl::SimpleAtoi(line->substr(colon + 1), &port)) {
    ADD_FAILURE() << "utracker-server did not report listening; first line: "
                  << line.value_or("<none>");
    return 0;
  }
  return port;
}

std::vector<std::string> ServerArgs(const std::string& database_url, int port) {
  return {"--listen=127.0.0.1:" + std::to_string(port), "--database_url=" + database_url,
          "--migrate", "--shutdown_grace=5s", "--rollup_interval=100ms"};
}

}  // namespace utracker::testing
