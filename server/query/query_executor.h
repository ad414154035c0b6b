#ifndef UTRACKER_SERVER_QUERY_QUERY_EXECUTOR_H_
#define UTRACKER_SERVER_QUERY_QUERY_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace utracker::server::query {

// A few threads that run blocking queries, so no gRPC callback thread ever waits on
// PostgreSQL. Bounded: Post refuses work when `max_queued` tasks already wait, and the
// caller answers RESOURCE_EXHAUSTED. Thread-safe; the destructor runs what is queued.
class QueryExecutor {
 public:
  QueryExecutor(int threads, size_t max_queued);
  ~QueryExecutor();

  QueryExecutor(const QueryExecutor&) = delete;
  QueryExecutor& operator=(const QueryExecutor&) = delete;

  // Returns false (and drops `task`) if the queue is full or the executor is stopping.
  bool Post(std::function<void()> task);

 private:
  void Run();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace utracker::server::query

#endif  // UTRACKER_SERVER_QUERY_QUERY_EXECUTOR_H_
