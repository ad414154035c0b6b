#ifndef UTRACKER_CLIENT_CLI_ALERT_TEXT_H_
#define UTRACKER_CLIENT_CLI_ALERT_TEXT_H_

#include <string>

#include "utracker/v1/alerts.pb.h"

namespace utracker::cli {

// One line per alert, times in UTC (RFC 3339):
//   #17  OPEN      stuck  bob <- orders  value 12 (peak 15, threshold 1)  since
//   2026-11-28T04:31:00Z  last seen 2026-11-28T04:35:10Z  5 evaluations  | <summary>
// A resolved alert says "resolved <time>" instead of "last seen <time>".
std::string AlertLine(const v1::Alert& alert);

// A WatchAlerts change: the kind (open-at-start, opened, updated, resolved) padded to one
// width, then AlertLine.
std::string AlertChangeLine(const v1::AlertChange& change);

}  // namespace utracker::cli

#endif  // UTRACKER_CLIENT_CLI_ALERT_TEXT_H_
