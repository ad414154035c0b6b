// Alert webhooks against a local HTTP receiver: routing per rule, the JSON body, retries of a
// failing receiver, and a dead one never blocking Notify.
#include "alerts/alert_notifier.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "support/http_receiver.h"

namespace utracker::server::alerts {
namespace {

// Debian's libcpp-httplib is built with CPPHTTPLIB_OPENSSL_SUPPORT (and zlib, brotli), which
// adds a member to httplib::Client. Compiled without the same defines, our code sized the
// object smaller than the library's constructor writes it, and a stack Client was overrun.
// The build takes the defines from pkg-config; this checks the library writes only inside
// the object as we size it.
TEST(HttpLib, TheLibraryAndOurCodeAgreeOnTheClientsSize) {
  alignas(std::max_align_t) unsigned char room[sizeof(httplib::Client) + 64];
  std::memset(room, 0xAB, sizeof(room));
  auto* client = new (room) httplib::Client("http://127.0.0.1:1");
  client->~Client();
  for (size_t i = sizeof(httplib::Client); i < sizeof(room); ++i) {
    ASSERT_EQ(room[i], 0xAB) << "the library wrote byte " << i << " of an object of "
                             << sizeof(httplib::Client) << " bytes";
  }
}

using testing::HttpReceiver;

v1::AlertChange Change(v1::AlertRule rule, const std::string& subject,
                       v1::AlertChange::Kind kind) {
  v1::AlertChange c;
  c.set_kind(kind);
  c.mutable_alert()->set_id(7);
  c.mutable_alert()->set_rule(rule);
  c.mutable_alert()->set_subject(subject);
  return c;
}

TEST(AlertNotifier, PostsEachRulesChangesToItsWebhookAsJson) {
  HttpReceiver receiver;
  WebhookConfig config;
  ASSERT_TRUE(ParseWebhooks(receiver.Url("/all"),
                            absl::StrCat("silence=", receiver.Url("/quiet")), &config)
                  .ok());
  MetricsRegistry metrics;
  AlertNotifier notifier(config, &metrics);
  notifier.Notify(Change(v1::ALERT_RULE_STUCK, "bob <- orders", v1::AlertChange::KIND_OPENED));
  notifier.Notify(Change(v1::ALERT_RULE_SILENCE, "carl", v1::AlertChange::KIND_RESOLVED));
  const std::vector<std::string> posts = receiver.Await(2);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(posts[0], "/all {\"kind\":\"KIND_OPENED\"")) << posts[0];
  // protobuf's JSON escapes '<' (valid JSON: a receiver decodes "bob <- orders").
  EXPECT_TRUE(absl::StrContains(posts[0], "\"subject\":\"bob \\u003c- orders\"")) << posts[0];
  EXPECT_TRUE(absl::StartsWith(posts[1], "/quiet {\"kind\":\"KIND_RESOLVED\"")) << posts[1];
  notifier.Stop();
  EXPECT_TRUE(absl::StrContains(metrics.Render(), "utracker_alert_webhooks_sent_total 2"));
}

TEST(AlertNotifier, RetriesAFailingReceiverAndNeverBlocksOnADeadOne) {
  HttpReceiver flaky(/*fail_first=*/2);
  WebhookConfig config;
  ASSERT_TRUE(ParseWebhooks(flaky.Url("/hook"), "", &config).ok());
  AlertNotifier notifier(config, nullptr, 1000, absl::Milliseconds(10));
  notifier.Notify(Change(v1::ALERT_RULE_STUCK, "bob <- orders", v1::AlertChange::KIND_OPENED));
  EXPECT_EQ(flaky.Await(3).size(), 3u) << "two 500s, then delivered on the third try";

  WebhookConfig dead;  // nothing listens on port 9 of localhost
  ASSERT_TRUE(ParseWebhooks("http://127.0.0.1:9/", "", &dead).ok());
  MetricsRegistry metrics;
  AlertNotifier to_nowhere(dead, &metrics, 2, absl::Milliseconds(10));
  const absl::Time start = absl::Now();
  for (int i = 0; i < 50; ++i) {
    to_nowhere.Notify(Change(v1::ALERT_RULE_SILENCE, "carl", v1::AlertChange::KIND_OPENED));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "Notify queues, it never waits";
  to_nowhere.Stop();
  // 50 changes, a queue of 2: at least 48 dropped on arrival, counted as failed.
  const std::string rendered = metrics.Render();
  const std::string name = "\nutracker_alert_webhooks_failed_total ";  // the sample line
  const size_t at = rendered.find(name);
  ASSERT_NE(at, std::string::npos) << rendered;
  int failed = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      rendered.substr(at + name.size(), rendered.find('\n', at) - at - name.size()), &failed));
  EXPECT_GE(failed, 48) << rendered;
  EXPECT_TRUE(absl::StrContains(rendered, "\nutracker_alert_webhooks_sent_total 0")) << rendered;
}

TEST(AlertNotifier, RejectsWhatItCannotDeliver) {
  WebhookConfig config;
  EXPECT_FALSE(ParseWebhooks("https://hooks.example.com/x", "", &config).ok());
  EXPECT_FALSE(ParseWebhooks("", "stuck=ftp://x", &config).ok());
  EXPECT_FALSE(ParseWebhooks("", "lost=http://x/", &config).ok());
  EXPECT_TRUE(ParseWebhooks("", "stuck=http://x:8080/alerts", &config).ok());
  EXPECT_EQ(config.by_rule.at(v1::ALERT_RULE_STUCK), "http://x:8080/alerts");
}

}  // namespace
}  // namespace utracker::server::alerts
