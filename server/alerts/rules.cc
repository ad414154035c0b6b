#include "alerts/rules.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "absl/time/time.h"

namespace utracker::server::alerts {
namespace {

using google::protobuf::util::TimeUtil;

std::string Ago(int64_t micros) { return absl::FormatDuration(absl::Seconds(micros / 1000000)); }

std::string Receiver(const std::string& r) { return r.empty() ? "(any receiver)" : r; }

}  // namespace

absl::Status ParseStuckOverrides(absl::string_view spec, AlertConfig* config) {
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, '=');
    const std::pair<absl::string_view, absl::string_view> scope = absl::StrSplit(kv.first, ':');
    absl::Duration d;
    if (scope.second.empty() || !absl::ParseDuration(kv.second, &d) || d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stuck deadline override \"", entry,
          "\": want destination:NAME=DURATION or service:NAME=DURATION (e.g. service:bob=5m)"));
    }
    if (scope.first == "destination") {
      config->stuck_after_destination[std::string(scope.second)] = absl::ToInt64Microseconds(d);
    } else if (scope.first == "service") {
      config->stuck_after_service[std::string(scope.second)] = absl::ToInt64Microseconds(d);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("stuck deadline override \"", entry,
                                                     "\": scope must be destination or service"));
    }
  }
  return absl::OkStatus();
}

int64_t StuckAfter(const AlertConfig& config, const std::string& destination,
                   const std::string& receiver) {
  auto d = config.stuck_after_destination.find(destination);
  if (d != config.stuck_after_destination.end()) return d->second;
  auto s = config.stuck_after_service.find(receiver);
  if (s != config.stuck_after_service.end()) return s->second;
  return config.stuck_after;
}

std::vector<std::vector<std::string>> ExpectedReceivers(
    const storage::StuckInputs::Destination& history) {
  const int64_t anyone = history.handled_any;
  if (anyone <= 0) return {{}};
  int64_t all = 0, smallest = -1;
  for (const auto& [receiver, counts] : history.handled) {
    all += counts.first;
    if (counts.first > 0 && (smallest < 0 || counts.first < smallest)) smallest = counts.first;
  }
  // Hardly a message handled twice — at most 5 % of them, and not most of any receiver's
  // share (a sampling auditor's messages are all handled twice) — the receivers share them:
  // competing consumers, however unevenly (a worker doing 92 % is still not expected to take
  // its peer's 8 %).
  const int64_t twice = all - anyone;
  if (twice * 20 <= anyone && twice * 2 <= std::max<int64_t>(smallest, 0)) {
    std::vector<std::string> everyone;
    for (const auto& [receiver, counts] : history.handled) everyone.push_back(receiver);
    return {everyone};
  }
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> sharing;
  int64_t shared = 0;
  for (const auto& [receiver, counts] : history.handled) {
    if (counts.first * 10 >= anyone * 9) {
      out.push_back({receiver});
    } else {
      sharing.push_back(receiver);
      shared += counts.first;
    }
  }
  if (!sharing.empty() && shared * 2 >= anyone) out.push_back(std::move(sharing));
  if (out.empty()) out.push_back({});
  return out;
}

std::vector<Signal> StuckSignals(const AlertConfig& config,
                                 const std::map<int64_t, storage::StuckInputs>& by_deadline) {
  std::vector<Signal> out;
  auto base = by_deadline.find(config.stuck_after);
  if (base == by_deadline.end()) return out;
  for (const auto& [destination, history] : base->second.destinations) {
    if (history.sent == 0) continue;
    const std::vector<std::vector<std::string>> expected = ExpectedReceivers(history);
    for (const std::vector<std::string>& receivers : expected) {
      // One receiver keeps its name (and its own deadline); a shared set, or any service at
      // all, is "(any receiver)": which of them was meant to take a message nobody took is
      // not knowable, and the set changes as workers come and go.
      const std::string receiver = receivers.size() == 1 ? receivers[0] : "";
      // A set waits as long as its most patient member may (a service override of each,
      // shorter or longer than the default); any service at all, the destination's deadline.
      int64_t deadline = receivers.empty() ? StuckAfter(config, destination, "") : 0;
      for (const std::string& r : receivers) {
        deadline = std::max(deadline, StuckAfter(config, destination, r));
      }
      auto inputs = by_deadline.find(deadline);
      if (inputs == by_deadline.end()) continue;
      auto d = inputs->second.destinations.find(destination);
      if (d == inputs->second.destinations.end()) continue;
      // What the expected handled: for one receiver its own count; for a set, when it is all
      // that is expected, the sends somebody handled (exact: a sum over receivers counts a
      // message twice when two handled it, and hides one nobody did); beside receivers that
      // handle everything, that count includes theirs, so the set's own sum (each message
      // taken by one of them).
      int64_t handled_old = 0;
      if (receivers.empty() || (receivers.size() > 1 && expected.size() == 1)) {
        handled_old = d->second.handled_any_old;
      } else {
        for (const std::string& r : receivers) {
          auto it = d->second.handled.find(r);
          if (it != d->second.handled.end()) handled_old += it->second.second;
        }
      }
      const int64_t stuck = std::max<int64_t>(0, d->second.sent_old - handled_old);
      Signal s;
      s.rule = v1::ALERT_RULE_STUCK;
      s.subject = absl::StrCat(Receiver(receiver), " <- ", destination);
      s.service = receiver;
      s.destination = destination;
      s.value = static_cast<double>(stuck);
      s.threshold = static_cast<double>(config.stuck_open);
      s.breach = stuck >= config.stuck_open;
      s.clear = stuck == 0;
      s.summary = absl::StrCat(stuck, " message(s) sent to ", destination, " not handled by ",
                               receivers.size() > 1
                                   ? absl::StrCat("any of ", absl::StrJoin(receivers, ", "))
                                   : Receiver(receiver),
                               " within ", Ago(inputs->first));
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<Signal> FailureSignals(const AlertConfig& config,
                                   const std::map<std::string, storage::ServiceInputs>& services) {
  std::vector<Signal> out;
  for (const auto& [service, in] : services) {
    const int64_t finished = in.processed + in.failed;
    Signal s;
    s.rule = v1::ALERT_RULE_FAILURE_RATIO;
    s.subject = s.service = service;
    s.threshold = config.failure_open;
    s.value = finished > 0 ? static_cast<double>(in.failed) / static_cast<double>(finished) : 0;
    // Too few to judge: neither opens nor resolves, unless nothing finished at all.
    const bool enough = finished >= config.failure_min_finished;
    s.breach = enough && s.value >= config.failure_open;
    s.clear = finished == 0 || (enough && s.value < config.failure_resolve);
    s.summary = absl::StrFormat("%s failed %d of %d messages it finished in the last %s (%.0f%%)",
                                service, in.failed, finished, Ago(config.failure_window),
                                s.value * 100);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Signal> SilenceSignals(const AlertConfig& config, int64_t now,
                                   const std::map<std::string, storage::ServiceInputs>& services) {
  std::vector<Signal> out;
  for (const auto& [service, in] : services) {
    if (static_cast<int64_t>(in.active_minutes.size()) < config.silence_min_active) continue;
    int64_t longest = 0;
    for (size_t i = 1; i < in.active_minutes.size(); ++i) {
      longest = std::max(longest, in.active_minutes[i] - in.active_minutes[i - 1]);
    }
    const int64_t threshold = std::max<int64_t>(
        config.silence_min, static_cast<int64_t>(config.silence_factor * static_cast<double>(longest)));
    const int64_t quiet = std::max<int64_t>(0, now - in.last_seen);
    Signal s;
    s.rule = v1::ALERT_RULE_SILENCE;
    s.subject = s.service = service;
    s.value = static_cast<double>(quiet) / 1e6;
    s.threshold = static_cast<double>(threshold) / 1e6;
    s.breach = quiet > threshold;
    s.clear = !s.breach;
    s.summary = absl::StrCat(service, " has logged nothing for ", Ago(quiet),
                             " (its longest usual gap: ", Ago(longest), ")");
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<v1::Alert> Transitions(const std::vector<Signal>& signals,
                                   const std::vector<v1::Alert>& open, int64_t now,
                                   const std::set<v1::AlertRule>& paused) {
  std::map<std::pair<int, std::string>, const Signal*> by_key;
  for (const Signal& s : signals) by_key[{s.rule, s.subject}] = &s;
  const google::protobuf::Timestamp at = TimeUtil::MicrosecondsToTimestamp(now);
  std::vector<v1::Alert> out;
  std::set<std::pair<int, std::string>> still_open;
  for (const v1::Alert& a : open) {
    if (paused.count(a.rule()) > 0) continue;
    auto it = by_key.find({a.rule(), a.subject()});
    v1::Alert next = a;
    still_open.insert({a.rule(), a.subject()});
    if (it == by_key.end() || it->second->clear) {
      next.set_state(v1::ALERT_STATE_RESOLVED);
      *next.mutable_resolved_at() = at;
      next.set_value(it == by_key.end() ? 0 : it->second->value);
      if (it != by_key.end()) next.set_summary(it->second->summary);
    } else {
      const Signal& s = *it->second;
      next.set_value(s.value);
      next.set_peak(std::max(a.peak(), s.value));
      next.set_summary(s.summary);
      *next.mutable_last_seen_at() = at;
      next.set_evaluations(a.evaluations() + 1);
    }
    out.push_back(std::move(next));
  }
  for (const Signal& s : signals) {
    if (!s.breach || still_open.count({s.rule, s.subject}) > 0) continue;
    v1::Alert a;
    a.set_rule(s.rule);
    a.set_subject(s.subject);
    a.set_service(s.service);
    a.set_destination(s.destination);
    a.set_state(v1::ALERT_STATE_OPEN);
    *a.mutable_opened_at() = at;
    *a.mutable_last_seen_at() = at;
    a.set_value(s.value);
    a.set_peak(s.value);
    a.set_threshold(s.threshold);
    a.set_evaluations(1);
    a.set_summary(s.summary);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace utracker::server::alerts
