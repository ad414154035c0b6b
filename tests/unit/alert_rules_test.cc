// The alert rules without a database: expected receivers, the three signals, hysteresis.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "alerts/rules.h"

namespace utracker::server::alerts {
namespace {

using storage::ServiceInputs;
using storage::StuckInputs;

constexpr int64_t kMinute = 60'000'000;

// `anyone`: how many sends some receiver handled (all, old); by default as many as the
// busiest receiver handled.
StuckInputs::Destination Dest(int64_t sent, int64_t sent_old,
                              std::map<std::string, std::pair<int64_t, int64_t>> handled,
                              std::pair<int64_t, int64_t> anyone = {-1, -1}) {
  StuckInputs::Destination d;
  d.sent = sent;
  d.sent_old = sent_old;
  for (const auto& [r, counts] : handled) {
    d.handled_any = std::max(d.handled_any, counts.first);
    d.handled_any_old = std::max(d.handled_any_old, counts.second);
  }
  if (anyone.first >= 0) std::tie(d.handled_any, d.handled_any_old) = anyone;
  d.handled = std::move(handled);
  return d;
}

using Sets = std::vector<std::vector<std::string>>;

TEST(ExpectedReceivers, EachFullReceiverAnyOfThoseSharingAnyForANewDestination) {
  // Fan-out: both receive (nearly) every message.
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90, {{"bob", {100, 90}}, {"carl", {95, 85}}})),
            (Sets{{"bob"}, {"carl"}}));
  // carl lagging behind is still expected (alone, he handled over half).
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90, {{"bob", {100, 90}}, {"carl", {60, 50}}})),
            (Sets{{"bob"}, {"carl"}}));
  // A service that handled a few (e.g. an auditor sampling) is not expected for each one,
  // nor taken for bob's peer, however few (its messages are all handled twice).
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90, {{"bob", {100, 90}}, {"audit", {10, 9}}})),
            (Sets{{"bob"}}));
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90, {{"bob", {100, 90}}, {"audit", {4, 4}}})),
            (Sets{{"bob"}}));
  // Competing consumers with a few redeliveries (handled twice) still share.
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90, {{"w1", {60, 55}}, {"w2", {42, 38}}}, {100, 90})),
            (Sets{{"w1", "w2"}}));
  // Competing consumers share the messages: any one of them will do, however uneven.
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90, {{"w1", {52, 47}}, {"w2", {48, 43}}}, {100, 90})),
            (Sets{{"w1", "w2"}}));
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90, {{"w1", {80, 70}}, {"w2", {20, 20}}}, {100, 90})),
            (Sets{{"w1", "w2"}}));
  // A second worker added hours ago: the first still did 92 % over the window, but nothing
  // was handled twice — it is not a subscriber expected to take its peer's share.
  EXPECT_EQ(ExpectedReceivers(Dest(100, 100, {{"w1", {92, 92}}, {"w2", {8, 8}}}, {100, 100})),
            (Sets{{"w1", "w2"}}));
  // An observer that logs every message beside competing consumers: the observer for each
  // message, the workers as one set (before, each worker was expected to take every one).
  EXPECT_EQ(ExpectedReceivers(Dest(100, 90,
                                   {{"obs", {100, 90}}, {"w1", {50, 44}}, {"w2", {50, 46}}})),
            (Sets{{"obs"}, {"w1", "w2"}}));
  EXPECT_EQ(ExpectedReceivers(Dest(5, 5, {})), (Sets{{}}));
}

TEST(StuckSignals, CountsWhatAnExpectedReceiverDidNotHandleBeforeItsDeadline) {
  AlertConfig config;
  config.stuck_after_service["carl"] = 5 * kMinute;
  StuckInputs base;  // at the default deadline
  base.destinations["orders"] = Dest(100, 80, {{"bob", {95, 75}}, {"carl", {90, 70}}}, {98, 78});
  base.destinations["new"] = Dest(3, 3, {});
  StuckInputs carl;  // at carl's longer deadline fewer sends are old
  carl.destinations["orders"] = Dest(100, 60, {{"bob", {95, 58}}, {"carl", {90, 60}}}, {98, 60});
  const std::vector<Signal> s =
      StuckSignals(config, {{config.stuck_after, base}, {5 * kMinute, carl}});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].subject, "(any receiver) <- new");
  EXPECT_EQ(s[0].value, 3);
  EXPECT_TRUE(s[0].breach);
  EXPECT_EQ(s[1].subject, "bob <- orders");
  EXPECT_EQ(s[1].value, 5);
  EXPECT_EQ(s[2].subject, "carl <- orders");
  EXPECT_EQ(s[2].value, 0);  // within its own deadline
  EXPECT_TRUE(s[2].clear);
}

// Competing consumers (any one will do) next to an auditor that samples messages the workers
// also handle: the stuck count is of sends nobody handled, not sends minus the sum of
// everyone's handling (which counted the audited ones twice and hid the 3 nobody took).
TEST(StuckSignals, AnyOneReceiverCountsTheSendsNobodyHandled) {
  AlertConfig config;
  StuckInputs in;
  in.destinations["jobs"] =
      Dest(100, 90, {{"w1", {52, 47}}, {"w2", {45, 40}}, {"audit", {20, 18}}}, {97, 87});
  // Beside an observer, the workers' set counts what the workers handled.
  in.destinations["orders"] = Dest(
      100, 90, {{"obs", {100, 90}}, {"w1", {48, 44}}, {"w2", {48, 44}}}, {100, 90});
  const std::vector<Signal> s = StuckSignals(config, {{config.stuck_after, in}});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].subject, "(any receiver) <- jobs");
  EXPECT_EQ(s[0].value, 3);
  EXPECT_TRUE(s[0].breach);
  EXPECT_EQ(s[0].summary, "3 message(s) sent to jobs not handled by any of audit, w1, w2 within 1m");
  EXPECT_EQ(s[1].subject, "obs <- orders");
  EXPECT_EQ(s[1].value, 0);
  EXPECT_EQ(s[2].subject, "(any receiver) <- orders");
  EXPECT_EQ(s[2].value, 2);
}

// A set waits as long as its most patient member: with a service override for each worker,
// the set is judged at the longer deadline, as each worker alone would be.
TEST(StuckSignals, ASetUsesTheLongestDeadlineOfItsMembers) {
  AlertConfig config;
  config.stuck_after_service["w1"] = 30 * kMinute;
  config.stuck_after_service["w2"] = 20 * kMinute;
  StuckInputs base;  // at the default minute: 10 not handled yet
  base.destinations["jobs"] = Dest(100, 100, {{"w1", {45, 45}}, {"w2", {45, 45}}}, {90, 90});
  StuckInputs late;  // at 30 minutes: everything that old was handled
  late.destinations["jobs"] = Dest(100, 80, {{"w1", {45, 40}}, {"w2", {45, 40}}}, {90, 80});
  StuckInputs mid;
  mid.destinations["jobs"] = Dest(100, 85, {{"w1", {45, 40}}, {"w2", {45, 40}}}, {90, 80});
  const std::vector<Signal> s = StuckSignals(
      config, {{config.stuck_after, base}, {20 * kMinute, mid}, {30 * kMinute, late}});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].subject, "(any receiver) <- jobs");
  EXPECT_EQ(s[0].value, 0);
  EXPECT_TRUE(s[0].clear);

  // Shorter overrides than the default count too: both workers promise a minute.
  AlertConfig quick;
  quick.stuck_after = 30 * kMinute;
  quick.stuck_after_service["w1"] = kMinute;
  quick.stuck_after_service["w2"] = kMinute;
  const std::vector<Signal> q =
      StuckSignals(quick, {{30 * kMinute, late}, {kMinute, base}});
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].value, 10);  // at a minute, 10 not handled yet
}

TEST(FailureSignals, NeedEnoughFinishedMessagesAndResolveBelowHalf) {
  AlertConfig config;  // open at 0.2 with >= 10 finished, resolve below 0.1
  std::map<std::string, ServiceInputs> in;
  in["few"].processed = 2;
  in["few"].failed = 5;
  in["bad"].processed = 30;
  in["bad"].failed = 10;
  in["meh"].processed = 87;
  in["meh"].failed = 13;
  in["idle"] = ServiceInputs{};
  std::map<std::string, Signal> by;
  for (const Signal& s : FailureSignals(config, in)) by[s.subject] = s;
  EXPECT_FALSE(by["few"].breach);
  EXPECT_FALSE(by["few"].clear);  // too few to judge either way
  EXPECT_TRUE(by["bad"].breach);
  EXPECT_DOUBLE_EQ(by["bad"].value, 0.25);
  EXPECT_FALSE(by["meh"].breach);  // 0.13: between the thresholds
  EXPECT_FALSE(by["meh"].clear);
  EXPECT_TRUE(by["idle"].clear);
}

TEST(SilenceSignals, ComparesTheQuietWithTheUsualGap) {
  AlertConfig config;  // >= 10 active minutes; silence > max(2 min, 3 x longest gap)
  const int64_t now = 1800000000LL * 1000000;
  std::map<std::string, ServiceInputs> in;
  for (int i = 0; i < 12; ++i) in["steady"].active_minutes.push_back(now - (40 - i) * kMinute);
  in["steady"].last_seen = now - 29 * kMinute;  // gap 1 min usually: 29 min is silence
  for (int i = 0; i < 12; ++i) in["hourly"].active_minutes.push_back(now - (12 - i) * 60 * kMinute);
  in["hourly"].last_seen = now - 70 * kMinute;  // usual gap 1 h: 70 min is fine
  for (int i = 0; i < 3; ++i) in["rare"].active_minutes.push_back(now - (50 - i) * kMinute);
  in["rare"].last_seen = now - 48 * kMinute;  // too little history to judge
  const std::vector<Signal> s = SilenceSignals(config, now, in);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].subject, "hourly");
  EXPECT_FALSE(s[0].breach);
  EXPECT_EQ(s[0].threshold, 3 * 3600);
  EXPECT_EQ(s[1].subject, "steady");
  EXPECT_TRUE(s[1].breach);
  EXPECT_EQ(s[1].value, 29 * 60);
}

Signal Sig(double value, bool breach, bool clear) {
  Signal s;
  s.rule = v1::ALERT_RULE_FAILURE_RATIO;
  s.subject = s.service = "bob";
  s.value = value;
  s.breach = breach;
  s.clear = clear;
  return s;
}

TEST(Transitions, OpenOnceStayOpenBetweenThresholdsResolveWhenClear) {
  std::vector<v1::Alert> open;
  auto step = [&](const std::vector<Signal>& signals, int64_t now) {
    std::vector<v1::Alert> changed = Transitions(signals, open, now);
    open.clear();
    for (v1::Alert& a : changed) {
      if (a.id() == 0) a.set_id(7);  // as stored
      if (!a.has_resolved_at()) open.push_back(a);
    }
    return changed;
  };
  EXPECT_TRUE(step({Sig(0.15, false, false)}, 1).empty());  // between: nothing opens
  auto c = step({Sig(0.3, true, false)}, 2);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].state(), v1::ALERT_STATE_OPEN);
  EXPECT_EQ(c[0].evaluations(), 1);
  c = step({Sig(0.5, true, false)}, 3);  // still breaching: the same alert, seen again
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id(), 7);
  EXPECT_EQ(c[0].peak(), 0.5);
  c = step({Sig(0.15, false, false)}, 4);  // between: stays open
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].has_resolved_at());
  EXPECT_EQ(c[0].evaluations(), 3);
  EXPECT_EQ(c[0].value(), 0.15);
  c = step({Sig(0.05, false, true)}, 5);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].state(), v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ(c[0].peak(), 0.5);
  EXPECT_TRUE(open.empty());
  EXPECT_TRUE(step({Sig(0.15, false, false)}, 6).empty());
  c = step({Sig(0.4, true, false)}, 7);  // a new episode: a new alert
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].evaluations(), 1);
  c = step({}, 8);  // the subject is gone altogether: resolves
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].has_resolved_at());
}

TEST(Transitions, APausedRuleLeavesItsOpenAlertsAlone) {
  v1::Alert open;
  open.set_id(3);
  open.set_rule(v1::ALERT_RULE_STUCK);
  open.set_subject("bob <- orders");
  open.set_evaluations(4);
  // No stuck signal at all (the rule did not run): paused, nothing changes; not paused, the
  // alert would resolve.
  EXPECT_TRUE(Transitions({}, {open}, 10, {v1::ALERT_RULE_STUCK}).empty());
  const std::vector<v1::Alert> c = Transitions({}, {open}, 10);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].has_resolved_at());
}

TEST(StuckOverrides, ParseAndComplain) {
  AlertConfig config;
  ASSERT_TRUE(ParseStuckOverrides("destination:orders=30s, service:bob=5m", &config).ok());
  EXPECT_EQ(StuckAfter(config, "orders", "bob"), 30'000'000);  // destination first
  EXPECT_EQ(StuckAfter(config, "billing", "bob"), 5 * kMinute);
  EXPECT_EQ(StuckAfter(config, "billing", "carl"), config.stuck_after);
  EXPECT_FALSE(ParseStuckOverrides("orders=30s", &config).ok());
  EXPECT_FALSE(ParseStuckOverrides("queue:orders=30s", &config).ok());
  EXPECT_FALSE(ParseStuckOverrides("service:bob=soon", &config).ok());
  EXPECT_FALSE(ParseStuckOverrides("service:bob=-1s", &config).ok());
}

}  // namespace
}  // namespace utracker::server::alerts
