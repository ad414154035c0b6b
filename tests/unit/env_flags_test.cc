#include "common/env_flags.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/flags/flag.h"

ABSL_FLAG(int, utracker_test_port, 1, "test flag");

namespace utracker::server {
namespace {

TEST(EnvFlags, EnvironmentSetsTheFlagAndBadValuesAreNamed) {
  setenv("UTRACKER_UTRACKER_TEST_PORT", "4242", 1);
  ASSERT_TRUE(ApplyEnvFlagDefaults({"utracker_test_port"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_utracker_test_port), 4242);

  setenv("UTRACKER_UTRACKER_TEST_PORT", "many", 1);
  absl::Status st = ApplyEnvFlagDefaults({"utracker_test_port"});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("UTRACKER_UTRACKER_TEST_PORT=many"), std::string::npos);
  unsetenv("UTRACKER_UTRACKER_TEST_PORT");
}

}  // namespace
}  // namespace utracker::server
