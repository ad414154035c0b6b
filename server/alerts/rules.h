#ifndef UTRACKER_SERVER_ALERTS_RULES_H_
#define UTRACKER_SERVER_ALERTS_RULES_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "storage/alert_store.h"
#include "utracker/v1/alerts.pb.h"

namespace utracker::server::alerts {

// Thresholds and windows of the three rules (README "Alerts"). Times in microseconds.
struct AlertConfig {
  // Stuck: a message sent to a destination that an expected receiver has not handled
  // `stuck_after` after its send (per destination, else per receiving service, else the
  // default). Messages sent within the history window count.
  int64_t stuck_after = 60'000'000;
  std::map<std::string, int64_t> stuck_after_destination, stuck_after_service;
  int64_t stuck_open = 1;  // open at this many stuck messages; resolve at 0
  // Expected receivers are learned over this window (also the stuck lookback and the
  // silence rule's history).
  int64_t history = 24LL * 3600 * 1'000'000;
  // Failure ratio: FAILED / (PROCESSED + FAILED) events of a service over the window; opens at
  // `failure_open` with at least `failure_min_finished` finished, resolves below
  // `failure_resolve` (or when the service finished nothing in the window).
  int64_t failure_window = 5LL * 60 * 1'000'000;
  double failure_open = 0.2, failure_resolve = 0.1;
  int64_t failure_min_finished = 10;
  // Silence: a service with at least `silence_min_active` active minutes in the history
  // window that has logged nothing for longer than max(silence_min, silence_factor x its
  // longest gap between active minutes in that window).
  int64_t silence_min = 2LL * 60 * 1'000'000;
  double silence_factor = 3;
  int64_t silence_min_active = 10;
  // While more events than this wait to be folded into the rollups, the stuck rule pauses:
  // handling events still in the inbox would make sent messages look unhandled.
  int64_t max_rollup_backlog = 100000;
};

// Parses "destination:orders=30s,service:bob=5m" into the config's overrides.
absl::Status ParseStuckOverrides(absl::string_view spec, AlertConfig* config);

// The deadline for messages to `destination` awaited by `receiver` ("" when unknown).
int64_t StuckAfter(const AlertConfig& config, const std::string& destination,
                   const std::string& receiver);

// One rule's reading for one subject at one evaluation.
struct Signal {
  v1::AlertRule rule = v1::ALERT_RULE_UNSPECIFIED;
  std::string subject, service, destination;
  double value = 0, threshold = 0;
  bool breach = false;  // at or past the open threshold
  bool clear = false;   // at or below the resolve threshold
  std::string summary;
};

// Who is expected to handle a destination's messages, learned from the history window. Each
// entry is a set of receivers any one of which will do:
// - when the receivers' counts add up to about the messages somebody handled (at most 5 %
//   handled twice, and not most of any one receiver's share, as a sampler's would be), they
//   share them (competing consumers, however unevenly): one entry of them all;
// - else a receiver that handled nearly every message someone handled (>= 90 %) is expected to
//   handle each one (fan-out subscribers, an observer that logs everything): one entry each;
//   and the others, when together they handled at least half of those messages, share them
//   (workers beside an observer; or one subscriber that lags): one entry holding them all.
//   When they handled fewer (an auditor sampling a few), nobody expects them to;
// - nothing handled in the window (a new destination, or all receivers down all along): one
//   empty entry, meaning any service at all.
std::vector<std::vector<std::string>> ExpectedReceivers(
    const storage::StuckInputs::Destination& history);

// Stuck signals per (expected receiver, destination). `by_deadline` holds the rollup
// counts for each distinct deadline in use (keyed by the deadline, see StuckAfter).
std::vector<Signal> StuckSignals(const AlertConfig& config,
                                 const std::map<int64_t, storage::StuckInputs>& by_deadline);
std::vector<Signal> FailureSignals(const AlertConfig& config,
                                   const std::map<std::string, storage::ServiceInputs>& services);
std::vector<Signal> SilenceSignals(const AlertConfig& config, int64_t now,
                                   const std::map<std::string, storage::ServiceInputs>& services);

// The alerts to write after one evaluation: a breaching signal without an open alert opens
// one; an open alert whose signal is not clear is seen again (value, peak, last seen,
// evaluations); an open alert whose signal is clear or gone resolves. Between the open and
// resolve thresholds nothing opens and nothing resolves (hysteresis).
// Rules in `paused` were not evaluated this time: their open alerts stay as they are.
std::vector<v1::Alert> Transitions(const std::vector<Signal>& signals,
                                   const std::vector<v1::Alert>& open, int64_t now,
                                   const std::set<v1::AlertRule>& paused = {});

}  // namespace utracker::server::alerts

#endif  // UTRACKER_SERVER_ALERTS_RULES_H_
