#ifndef UTRACKER_SERVER_COMMON_ENV_FLAGS_H_
#define UTRACKER_SERVER_COMMON_ENV_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace utracker::server {

// Sets each named Abseil flag from the environment variable UTRACKER_<NAME upper-cased>, if
// that variable is set. Call before absl::ParseCommandLine, so the command line still wins.
// Returns InvalidArgument naming the variable when a value does not parse.
absl::Status ApplyEnvFlagDefaults(const std::vector<std::string>& flag_names);

}  // namespace utracker::server

#endif  // UTRACKER_SERVER_COMMON_ENV_FLAGS_H_
