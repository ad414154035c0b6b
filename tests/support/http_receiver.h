#ifndef UTRACKER_TESTS_SUPPORT_HTTP_RECEIVER_H_
#define UTRACKER_TESTS_SUPPORT_HTTP_RECEIVER_H_

#include <httplib.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace utracker::testing {

// A local HTTP server on 127.0.0.1 (any free port) that records every POST (a webhook
// receiver for tests); it answers 500 to the first `fail_first` of them, 204 after.
class HttpReceiver {
 public:
  explicit HttpReceiver(int fail_first = 0) : fail_first_(fail_first) {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      posts_.push_back(req.path + " " + req.body);
      res.status = static_cast<int>(posts_.size()) <= fail_first_ ? 500 : 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(1));
  }
  ~HttpReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  // The first `n` requests ("PATH BODY"), waiting up to `timeout` for them; fewer if they
  // never came.
  std::vector<std::string> Await(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    for (const absl::Time end = absl::Now() + timeout; absl::Now() < end;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (posts_.size() >= n) return posts_;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }

 private:
  const int fail_first_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> posts_;  // guarded by mu_
};

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_HTTP_RECEIVER_H_
