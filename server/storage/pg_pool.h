#ifndef UTRACKER_SERVER_STORAGE_PG_POOL_H_
#define UTRACKER_SERVER_STORAGE_PG_POOL_H_

#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

namespace utracker::server::storage {

// A small pool of idle libpqxx connections for stores whose queries run on several threads:
// one connection is borrowed per query and returned only after the query succeeded on it; a
// connection that threw is dropped, and a new one is made on the next Borrow. Thread-safe.
class PgPool {
 public:
  explicit PgPool(std::string database_url) : database_url_(std::move(database_url)) {}

  std::unique_ptr<pqxx::connection> Borrow() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
    }
    return std::make_unique<pqxx::connection>(database_url_);  // throws broken_connection
  }

  void Return(std::unique_ptr<pqxx::connection> conn) {
    if (!conn || !conn->is_open()) return;
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
  }

 private:
  const std::string database_url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mu_
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_POOL_H_
