#ifndef UTRACKER_CLIENT_CLI_COMMANDS_H_
#define UTRACKER_CLIENT_CLI_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace utracker::cli {

// Exit codes of the utracker CLI.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // not found, or the server rejected the event
inline constexpr int kExitUsage = 2;        // bad command line or argument
inline constexpr int kExitUnavailable = 3;  // server unreachable or no answer in time

// Runs `utracker <args...>` (args without the program name); returns the exit code.
int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace utracker::cli

#endif  // UTRACKER_CLIENT_CLI_COMMANDS_H_
