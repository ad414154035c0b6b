// How PostgreSQL's errors become statuses: UNAVAILABLE is what stops acks, reports the
// store down (health NOT_SERVING) and makes clients resend later.
#include "storage/pg_errors.h"
#include "storage/pg_url.h"

#include <gtest/gtest.h>

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

// Every connection the server makes gives up after 5 s unless the URL says otherwise.
TEST(PgUrl, AConnectTimeoutUnlessTheUrlSetsOne) {
  EXPECT_EQ(WithConnectTimeout("postgresql://u@h:5/db"), "postgresql://u@h:5/db?connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable&connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("host=h dbname=db"), "host=h dbname=db connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("postgresql://h/db?connect_timeout=30"),
            "postgresql://h/db?connect_timeout=30");
}

}  // namespace
}  // namespace utracker::server::storage
