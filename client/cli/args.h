#ifndef UTRACKER_CLIENT_CLI_ARGS_H_
#define UTRACKER_CLIENT_CLI_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace utracker::cli {

// A flag a command accepts: --name VALUE or --name=VALUE (or a bare --name for a switch).
struct FlagSpec {
  std::string name;
  std::string help;
  bool is_switch = false;
  bool repeated = false;
};

// Parsed command line of one command: flag values (repeated flags keep every value, in
// order) and positional arguments.
struct Args {
  std::map<std::string, std::vector<std::string>> flags;
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  // The last value of `name`, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
};

// Parses `argv` (without the program and command names) against `specs`. Unknown flags and
// missing values are InvalidArgument, with a message naming the flag.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv,
                               const std::vector<FlagSpec>& specs);

// "  --name VALUE   help" lines for a command's usage text.
std::string FlagHelp(const std::vector<FlagSpec>& specs);

}  // namespace utracker::cli

#endif  // UTRACKER_CLIENT_CLI_ARGS_H_
