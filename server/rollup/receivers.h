#ifndef UTRACKER_SERVER_ROLLUP_RECEIVERS_H_
#define UTRACKER_SERVER_ROLLUP_RECEIVERS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace utracker::server::rollup {

// Who a destination's messages are expected to reach.
struct Receivers {
  // Each of these is expected to handle every message — or, when `any_of`, one of them will
  // do (and when `names` is empty too, any receiver at all).
  std::vector<std::string> names;
  bool any_of = false;
};

// Judged from who handled how many of the `sent` messages: each receiver that handled at
// least half as many as the busiest one (fewer: sampling, an auditor) — unless those
// receivers share the messages (competing consumers: together they handled at most 1.2× the
// messages sent), then any one of them will do; or none handled any (a new destination), then
// any receiver will do. One rule for the stuck alert and the service graph, so they agree.
Receivers ExpectedReceivers(const std::map<std::string, int64_t>& handled, int64_t sent);

}  // namespace utracker::server::rollup

#endif  // UTRACKER_SERVER_ROLLUP_RECEIVERS_H_
