#include "support/test_database.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"

namespace utracker::testing {
namespace {

// Runs one statement on `url`; returns rows or records a test failure.
std::vector<std::vector<std::string>> RunSql(const std::string& url, const std::string& sql,
                                             bool* ok) {
  std::vector<std::vector<std::string>> rows;
  *ok = false;
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to the test PostgreSQL (" << PQerrorMessage(conn)
                  << "); run the suite through deploy/local/test.sh";
    PQfinish(conn);
    return rows;
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    ADD_FAILURE() << "SQL failed: " << sql << "\n" << PQresultErrorMessage(res);
  } else {
    *ok = true;
    for (int r = 0; r < PQntuples(res); ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(res); ++c) row.emplace_back(PQgetvalue(res, r, c));
      rows.push_back(std::move(row));
    }
  }
  PQclear(res);
  PQfinish(conn);
  return rows;
}

}  // namespace

std::string WithDatabase(const std::string& url, const std::string& database) {
  // postgresql://user:pw@host:port/db[?params]
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const size_t query = url.find('?', slash == std::string::npos ? 0 : slash);
  std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  std::string params = query == std::string::npos ? "" : url.substr(query);
  return absl::StrCat(base, "/", database, params);
}

TestDatabase::TestDatabase() {
  const char* admin = std::getenv("UTRACKER_TEST_DATABASE_URL");
  if (admin == nullptr || *admin == '\0') {
    ADD_FAILURE() << "UTRACKER_TEST_DATABASE_URL is not set: database tests run through "
                     "deploy/local/test.sh, which starts a throwaway PostgreSQL";
    return;
  }
  admin_url_ = admin;
  std::random_device rd;
  name_ = absl::StrCat("utracker_test_", rd(), "_", rd() % 100000);
  bool ok = false;
  RunSql(admin_url_, absl::StrCat("CREATE DATABASE ", name_), &ok);
  if (ok) url_ = WithDatabase(admin_url_, name_);
}

TestDatabase::~TestDatabase() {
  if (url_.empty()) return;
  bool ok = false;
  RunSql(admin_url_, absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"), &ok);
}

std::vector<std::vector<std::string>> TestDatabase::Query(const std::string& sql) const {
  bool ok = false;
  return RunSql(url_, sql, &ok);
}

std::string TestDatabase::Scalar(const std::string& sql) const {
  auto rows = Query(sql);
  if (rows.size() != 1 || rows[0].size() != 1) {
    ADD_FAILURE() << "expected one value from: " << sql << " (got " << rows.size() << " rows)";
    return "";
  }
  return rows[0][0];
}

}  // namespace utracker::testing
