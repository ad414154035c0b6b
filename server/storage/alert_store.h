#ifndef UTRACKER_SERVER_STORAGE_ALERT_STORE_H_
#define UTRACKER_SERVER_STORAGE_ALERT_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "utracker/v1/alerts.pb.h"

namespace utracker::server::storage {

// Filters of an alert listing, already checked.
struct AlertFilter {
  v1::AlertState state = v1::ALERT_STATE_UNSPECIFIED;  // UNSPECIFIED: any
  v1::AlertRule rule = v1::ALERT_RULE_UNSPECIFIED;     // UNSPECIFIED: any
  std::string service;                                 // empty: any
  size_t limit = 100;
};

// An alert as of one version (every insert or update of an alert takes a new version).
struct AlertVersion {
  int64_t version = 0;
  v1::Alert alert;
};

// The read side of the alerts table, for the Alerts service of every replica. Thread-safe.
class AlertReader {
 public:
  virtual ~AlertReader() = default;

  // Newest first (opened_at, id).
  virtual absl::StatusOr<std::vector<v1::Alert>> ListAlerts(const AlertFilter& filter) = 0;

  // The latest version of every alert changed after `version`, in version order, at most
  // `limit`. Start with 0 for everything.
  virtual absl::StatusOr<std::vector<AlertVersion>> ChangedSince(int64_t version,
                                                                 size_t limit) = 0;

  // The highest version so far (0: no alert ever).
  virtual absl::StatusOr<int64_t> LatestVersion() = 0;
};

// What the evaluator reads from the rollups for the stuck rule, over a lookback window:
// messages sent to each destination (all of the window, and those sent before the deadline
// cut-off: "old"), and per (destination, receiver) how many of them the receiver handled.
struct StuckInputs {
  struct Destination {
    int64_t sent = 0, sent_old = 0;
    // Of the sends (all, old), those some receiver (any service but the sender) handled.
    int64_t handled_any = 0, handled_any_old = 0;
    std::map<std::string, std::pair<int64_t, int64_t>> handled;  // receiver -> (all, old)
  };
  std::map<std::string, Destination> destinations;
};

// Per service: what the failure and silence rules need.
struct ServiceInputs {
  int64_t processed = 0, failed = 0;  // events in the failure window
  // Unix µs the server last stored an event of it (any instance), by the server's clock; its
  // latest event time where no server of this version has stored one yet.
  int64_t last_seen = 0;
  std::vector<int64_t> active_minutes;  // minutes with events in the history window, ascending
};

// The alerts table as the evaluator sees it, plus the lead. Not thread-safe: one evaluator
// thread uses it.
class AlertStore {
 public:
  virtual ~AlertStore() = default;

  // As RollupStore::Lead, with the evaluator's own advisory lock.
  virtual absl::StatusOr<bool> Lead() = 0;
  virtual void Resign() = 0;

  // Rollups over [from, to) (Unix µs); "old" = sent in minutes that ended by `old_before`.
  virtual absl::StatusOr<StuckInputs> ReadStuckInputs(int64_t from, int64_t to,
                                                      int64_t old_before) = 0;
  // Failure counts over [failure_from, to), activity over [history_from, to).
  virtual absl::StatusOr<std::map<std::string, ServiceInputs>> ReadServiceInputs(
      int64_t failure_from, int64_t history_from, int64_t to) = 0;

  virtual absl::StatusOr<std::vector<v1::Alert>> OpenAlerts() = 0;

  // About how many stored events wait to be folded into the rollups (see RollupStore).
  virtual absl::StatusOr<int64_t> RollupBacklog() = 0;

  // In one transaction: inserts the alerts with id 0 (opened; their ids are filled in),
  // updates the others by id (seen again, or resolved when resolved_at is set).
  virtual absl::Status WriteAlerts(std::vector<v1::Alert>* changed) = 0;

  // Records the deadlines in stuck_deadlines (for the message_states view): scope '' name ''
  // is the default; ("destination", name) and ("service", name) override it.
  virtual absl::Status SaveDeadlines(
      const std::vector<std::pair<std::pair<std::string, std::string>, int64_t>>& micros) = 0;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_ALERT_STORE_H_
