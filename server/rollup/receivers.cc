#include "rollup/receivers.h"

#include <algorithm>

namespace utracker::server::rollup {

Receivers ExpectedReceivers(const std::map<std::string, int64_t>& handled, int64_t sent) {
  Receivers out;
  int64_t busiest = 0;
  for (const auto& [receiver, count] : handled) busiest = std::max(busiest, count);
  if (busiest == 0) {
    out.any_of = true;
    return out;
  }
  int64_t together = 0;
  for (const auto& [receiver, count] : handled) {
    if (count * 2 < busiest) continue;
    out.names.push_back(receiver);
    together += count;
  }
  out.any_of = out.names.size() >= 2 && together * 10 <= sent * 12;
  return out;
}

}  // namespace utracker::server::rollup
