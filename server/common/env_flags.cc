#include "common/env_flags.h"

#include <cstdlib>

#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace utracker::server {

absl::Status ApplyEnvFlagDefaults(const std::vector<std::string>& flag_names) {
  for (const std::string& name : flag_names) {
    const std::string var = absl::StrCat("UTRACKER_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) return absl::InternalError(absl::StrCat("no flag --", name));
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(var, "=", value, ": ", error));
    }
  }
  return absl::OkStatus();
}

}  // namespace utracker::server
