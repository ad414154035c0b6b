// How PostgreSQL's errors become statuses: UNAVAILABLE is what stops acks, reports the
// store down (health NOT_SERVING) and makes clients resend later.
#include "storage/pg_errors.h"
#include "storage/pg_url.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>
#include <string>

namespace utracker::server::storage {
namespace {

TEST(PgErrors, TheDatabaseNotDoingTheWorkNowIsUnavailable) {
  for (const char* sqlstate : {"", "08006", "57P01", "53100", "57014", "25006", "55P03", "40003",
                               "58030"}) {
    const absl::Status st = StatusFromSqlState(sqlstate, "boom\n", "storing");
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << sqlstate;
    EXPECT_EQ(st.message(), std::string("storing: boom") +
                                (*sqlstate ? std::string(" (SQLSTATE ") + sqlstate + ")" : ""));
  }
}

TEST(PgErrors, DataErrorsAreTheEventsFaultAndRacesAreRetried) {
  for (const char* sqlstate : {"22021", "22P02", "23502", "54000"}) {
    EXPECT_EQ(StatusFromSqlState(sqlstate, "x", "c").code(), absl::StatusCode::kInvalidArgument)
        << sqlstate;
  }
  EXPECT_EQ(StatusFromSqlState("23505", "x", "c").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromSqlState("40001", "x", "c").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("40P01", "x", "c").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("42P01", "x", "c").code(), absl::StatusCode::kInternal);
}

// The options libpq reads from a connection string.
std::map<std::string, std::string> Options(const std::string& conninfo) {
  std::map<std::string, std::string> out;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    ADD_FAILURE() << "libpq cannot parse " << conninfo << ": " << (error ? error : "");
    PQfreemem(error);
    return out;
  }
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return out;
}

// Every connection the server makes gives up after 5 s unless the URL says otherwise; the
// URL's own settings come through unchanged, whatever characters they hold.
TEST(PgUrl, AConnectTimeoutUnlessTheUrlSetsOne) {
  using Map = std::map<std::string, std::string>;
  EXPECT_EQ(Options(WithConnectTimeout("postgresql://u@h:5/db")),
            (Map{{"user", "u"}, {"host", "h"}, {"port", "5"}, {"dbname", "db"},
                 {"connect_timeout", "5"}}));
  EXPECT_EQ(Options(WithConnectTimeout("postgresql://h/db?")),
            (Map{{"host", "h"}, {"dbname", "db"}, {"connect_timeout", "5"}}));
  EXPECT_EQ(Options(WithConnectTimeout("postgres://u:pa%3Fs%27s%5Cconnect_timeout@h/db?sslmode=disable")),
            (Map{{"user", "u"}, {"password", "pa?s's\\connect_timeout"}, {"host", "h"},
                 {"dbname", "db"}, {"sslmode", "disable"}, {"connect_timeout", "5"}}));
  EXPECT_EQ(Options(WithConnectTimeout("host=h dbname='my db'")),
            (Map{{"host", "h"}, {"dbname", "my db"}, {"connect_timeout", "5"}}));
  EXPECT_EQ(WithConnectTimeout("postgresql://h/db?connect_timeout=30"),
            "postgresql://h/db?connect_timeout=30");
  EXPECT_EQ(WithConnectTimeout("service=prod"), "service=prod");
  EXPECT_EQ(WithConnectTimeout("not a = conninfo '"), "not a = conninfo '");
}

}  // namespace
}  // namespace utracker::server::storage
