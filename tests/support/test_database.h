#ifndef UTRACKER_TESTS_SUPPORT_TEST_DATABASE_H_
#define UTRACKER_TESTS_SUPPORT_TEST_DATABASE_H_

#include <string>
#include <vector>

namespace utracker::testing {

// A fresh, empty PostgreSQL database for one test, created through the admin URL in
// UTRACKER_TEST_DATABASE_URL (set by deploy/local/test.sh) and dropped afterwards.
// Construct it inside a test (or SetUp): when the variable is missing or the server cannot
// be reached, the test FAILS — database tests never skip silently.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool ok() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // Runs SQL on the test database and returns the rows, each cell as text ("" for NULL).
  // Fails the current test on an SQL error.
  std::vector<std::vector<std::string>> Query(const std::string& sql) const;
  // The single value of a one-row, one-column query.
  std::string Scalar(const std::string& sql) const;

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// `url` with its database name replaced by `database`.
std::string WithDatabase(const std::string& url, const std::string& database);

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_TEST_DATABASE_H_
