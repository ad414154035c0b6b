// The seed's example in C++: three services — alice, bob and carl — pass messages to each
// other through in-process queues. alice seeds requests; whoever receives a message logs it
// (hiding the payload, as the seed does), handles it, sometimes fails, and sometimes replies
// with a child message to the sender. Every event goes to utracker-server; look at the
// result with `utracker flow ID` or in psql.
//
//   alice_bob_carl --server 127.0.0.1:50051 --messages 20
//   alice_bob_carl --messages 0 --stop bob --stop_after 30s   (bob stops receiving: stuck alerts)
#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "utracker/utracker.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "utracker-server address");
ABSL_FLAG(int, messages, 20, "root messages alice seeds (0: forever)");
ABSL_FLAG(absl::Duration, interval, absl::Milliseconds(100), "pause between seeded messages");
ABSL_FLAG(double, fail_rate, 0.1, "share of messages a handler fails on");
ABSL_FLAG(double, reply_rate, 0.6, "share of messages answered with a child message");
ABSL_FLAG(std::string, stop, "",
          "a service that stops receiving after --stop_after (its messages pile up unreceived: "
          "micro-tracker reports them stuck)");
ABSL_FLAG(absl::Duration, stop_after, absl::Seconds(30), "when the --stop service stops");

namespace {

// A queue between two services (stands in for RabbitMQ & co). Thread-safe.
class Queue {
 public:
  void Push(std::string item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
  }
  // Empty string when closed and drained.
  std::string Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return "";
    std::string item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> items_;
  bool closed_ = false;
};

struct Bot {
  std::string name;
  std::shared_ptr<utracker::Client> client;
  Queue inbox;
};

std::map<std::string, Bot*> bots;
std::atomic<int> in_transit{0};
std::atomic<int> never_received{0};
absl::Time stop_at = absl::InfiniteFuture();

void Send(Bot& from, const utracker::Message& m, const std::string& to) {
  utracker::LogOptions sent;
  sent.destination = to;
  sent.with_payload = true;  // goes through the password filter
  m.Log(utracker::kSent, sent);
  ++in_transit;
  bots.at(to)->inbox.Push(m.ToJson());
}

void Handle(Bot& bot, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  for (;;) {
    const std::string raw = bot.inbox.Pop();
    if (raw.empty()) return;
    if (bot.name == absl::GetFlag(FLAGS_stop) && absl::Now() >= stop_at) {
      // Down: the message is never received (nothing logged) — it will show up as stuck.
      ++never_received;
      --in_transit;
      continue;
    }
    absl::StatusOr<utracker::Message> m = bot.client->Unpack(raw);
    if (!m.ok()) {
      std::cerr << bot.name << ": " << m.status() << "\n";
      --in_transit;
      continue;
    }
    utracker::LogOptions received;
    received.hide_payload = true;  // the seed's option: never log what we received
    m->Log(utracker::kReceived, received);
    m->Log("processing_content");
    absl::SleepFor(absl::Milliseconds(1 + static_cast<int>(unit(rng) * 20)));  // "work"
    if (unit(rng) < absl::GetFlag(FLAGS_fail_rate)) {
      utracker::LogOptions failed;
      failed.error = "could not reach the posts database";
      m->Log(utracker::kFailed, failed);
    } else {
      m->Log(utracker::kProcessed);
      if (m->depth() < 3 && unit(rng) < absl::GetFlag(FLAGS_reply_rate)) {
        utracker::Message reply = m->PackChildJson(absl::StrCat(
            R"({"reply_from":")", bot.name, R"(","posts":["hello"],"password":"hunter2"})"));
        Send(bot, reply, m->origin_service());
      }
    }
    --in_transit;
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<std::unique_ptr<Bot>> owned;
  for (const char* name : {"alice", "bob", "carl"}) {
    utracker::Config config;
    config.service = name;
    config.server = absl::GetFlag(FLAGS_server);
    config.filters.push_back(utracker::RedactJsonKeys({"password"}));
    auto client = utracker::Client::Create(config);
    if (!client.ok()) {
      std::cerr << client.status() << "\n";
      return 2;
    }
    owned.push_back(std::make_unique<Bot>());
    owned.back()->name = name;
    owned.back()->client = *client;
    bots[name] = owned.back().get();
  }
  std::vector<std::thread> threads;
  for (auto& b : owned) {
    threads.emplace_back([bot = b.get()] {
      std::mt19937 rng(std::hash<std::string>{}(bot->name));
      Handle(*bot, rng);
    });
  }

  if (!absl::GetFlag(FLAGS_stop).empty()) {
    stop_at = absl::Now() + absl::GetFlag(FLAGS_stop_after);
    std::cout << absl::GetFlag(FLAGS_stop) << " stops receiving in "
              << absl::FormatDuration(absl::GetFlag(FLAGS_stop_after)) << "\n";
  }
  Bot& alice = *bots.at("alice");
  const int n = absl::GetFlag(FLAGS_messages);
  for (int i = 0; n == 0 || i < n; ++i) {
    utracker::Message m = alice.client->PackJson(absl::StrCat(
        R"({"command":"list","target":"posts","page":)", i, R"(,"password":"hunter2"})"));
    Send(alice, m, i % 2 == 0 ? "bob" : "carl");
    if (i < 3) std::cout << "seeded " << m.id() << "  (try: utracker flow " << m.id() << ")\n";
    absl::SleepFor(absl::GetFlag(FLAGS_interval));
  }
  while (in_transit > 0) absl::SleepFor(absl::Milliseconds(10));
  for (auto& b : owned) b->inbox.Close();
  for (auto& t : threads) t.join();
  if (never_received > 0) {
    std::cout << absl::GetFlag(FLAGS_stop) << " never received " << never_received
              << " messages\n";
  }
  int failed = 0;
  for (auto& b : owned) {
    if (!b->client->Flush(absl::Seconds(10)).ok()) ++failed;
    const utracker::Stats s = b->client->stats();
    std::cout << b->name << ": " << s.acked << " events stored, " << s.dropped << " dropped, "
              << s.rejected << " rejected\n";
  }
  return failed == 0 ? 0 : 3;
}
