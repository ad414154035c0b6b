// The client's background streamer against a fake server that fails and stalls on demand.
#include "streamer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "support/event_factory.h"
#include "support/fake_event_sink.h"
#include "wire/uuid.h"

namespace utracker::client::internal {
namespace {

using testing::FakeEventSink;

Config TestConfig() {
  Config c;
  c.service = "alice";
  c.max_buffered_events = 1000;
  c.max_batch_events = 100;
  c.max_unacked_batches = 4;
  c.batch_delay = absl::Milliseconds(1);
  c.min_backoff = absl::Milliseconds(1);
  c.max_backoff = absl::Milliseconds(20);
  c.report_interval = absl::Milliseconds(50);
  return c;
}

// A pending event whose built event_id is its envelope's id, so tests can follow it.
PendingEvent NewEvent(const std::string& name = "") {
  auto env = std::make_shared<v1::Envelope>();
  env->set_id(wire::NewUuidV7());
  PendingEvent p;
  p.envelope = env;
  p.kind = v1::EVENT_KIND_SENT;
  p.at = absl::Now();
  p.options.name = name;
  return p;
}

void Build(PendingEvent& p, v1::Event* e) {
  e->set_event_id(p.envelope->id());
  e->set_message_id(p.envelope->id());
  e->set_kind(p.kind);
  e->set_name(p.options.name);
}

class StreamerTest : public ::testing::Test {
 protected:
  void Start(Config c = TestConfig(), EventBuilder builder = Build) {
    c.diagnostics = [this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      diagnostics_.emplace_back(line);
    };
    streamer_ = std::make_unique<Streamer>(std::unique_ptr<FakeEventSink>(sink_), c,
                                           std::move(builder));
  }
  std::vector<std::string> Diagnostics() {
    std::lock_guard<std::mutex> lock(mu_);
    return diagnostics_;
  }

  FakeEventSink* sink_ = new FakeEventSink;
  // Before streamer_, so destroyed after it: a streamer destroyed with events undelivered
  // says so through the diagnostics callback, which uses these (found by LeakSanitizer).
  std::mutex mu_;
  std::vector<std::string> diagnostics_;
  std::unique_ptr<Streamer> streamer_;
};

TEST_F(StreamerTest, DeliversEverythingAndFlushSaysSo) {
  Config c = TestConfig();
  c.max_buffered_events = 10000;
  Start(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 2500; ++i) {
    PendingEvent e = NewEvent();
    ids.push_back(e.envelope->id());
    ASSERT_TRUE(streamer_->Enqueue(std::move(e)));
  }
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(10)).ok());
  EXPECT_EQ(sink_->stored(), 2500u);
  for (const auto& id : ids) ASSERT_TRUE(sink_->HasStored(id));
  Stats s = streamer_->stats();
  EXPECT_EQ(s.logged, 2500u);
  EXPECT_EQ(s.acked, 2500u);
  EXPECT_EQ(s.unacked, 0u);
  EXPECT_EQ(s.dropped, 0u);
}

// Requests are cut by bytes as well as by events: none is over max_batch_bytes (an event
// that does not fit starts the next request), every event goes exactly once, in order.
TEST_F(StreamerTest, RequestsAreCutByBytesAndKeepEveryEventInOrder) {
  Config c = TestConfig();
  c.max_buffered_events = 10000;
  c.max_batch_bytes = 4000;
  c.batch_delay = absl::Milliseconds(50);  // let the buffer fill so batches are big
  Start(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 600; ++i) {
    PendingEvent e = NewEvent(std::string(100 + (i * 37) % 400, 'x'));
    ids.push_back(e.envelope->id());
    ASSERT_TRUE(streamer_->Enqueue(std::move(e)));
  }
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(10)).ok());
  EXPECT_EQ(sink_->order(), ids);
  EXPECT_EQ(sink_->duplicates(), 0u);
  const std::vector<size_t> bytes = sink_->request_bytes();
  ASSERT_GT(bytes.size(), 600u * 300 / 4000);  // cut by bytes, not only by 100 events
  for (size_t b : bytes) {
    EXPECT_LE(b, 4000u + 64) << "a request's events must fit max_batch_bytes (+ its seq)";
  }
}

// Big requests (~800 kB) of varying event sizes, so that the byte reservation guesses both
// over and under: every event arrives once, in order (the fake parses each request).
TEST_F(StreamerTest, BigRequestsOfVaryingEventSizesArriveWhole) {
  Config c = TestConfig();
  c.max_buffered_events = 10000;
  c.max_batch_events = 2000;
  c.batch_delay = absl::Milliseconds(200);  // let the buffer fill: requests of ~800 kB
  Start(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 6000; ++i) {
    // Sizes change from one request to the next, and within one.
    PendingEvent e = NewEvent(std::string(i / 2000 == 1 ? 50 : 300 + i % 200, 'x'));
    ids.push_back(e.envelope->id());
    ASSERT_TRUE(streamer_->Enqueue(std::move(e)));
  }
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(10)).ok());
  EXPECT_EQ(sink_->order(), ids);
  EXPECT_EQ(sink_->duplicates(), 0u);
  // The point is big requests: had the batching split them small, this would test nothing.
  const std::vector<size_t> bytes = sink_->request_bytes();
  ASSERT_FALSE(bytes.empty());
  EXPECT_GT(*std::max_element(bytes.begin(), bytes.end()), 200000u);
}

// Every event is built in the same reused message: one that sets fewer fields than the one
// before it must not carry any of that one's over.
TEST_F(StreamerTest, EventsBuiltInOneMessageCarryNothingOver) {
  auto build = [](PendingEvent& p, v1::Event* e) {
    Build(p, e);
    if (p.options.name == "full") {
      e->set_destination("bob");
      e->set_error("boom");
      e->set_content("payload");
      e->set_parent_id(p.envelope->id());
      e->set_depth(3);
      (*e->mutable_attributes())["k"] = "v";
      e->mutable_occurred_at()->set_seconds(42);
    }
  };
  Start(TestConfig(), build);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(streamer_->Enqueue(NewEvent(i % 2 ? "bare" : "full")));
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(10)).ok());
  const std::vector<v1::Event> events = sink_->events();
  ASSERT_EQ(events.size(), 200u);
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::Event& e = events[i];
    EXPECT_EQ(e.name(), i % 2 ? "bare" : "full");
    if (i % 2 == 0) {
      EXPECT_EQ(e.destination(), "bob");
      EXPECT_EQ(e.attributes().size(), 1u);
      continue;
    }
    EXPECT_TRUE(e.destination().empty() && e.error().empty() && e.content().empty() &&
                e.parent_id().empty() && e.depth() == 0 && e.attributes().empty() &&
                !e.has_occurred_at())
        << "event " << i << " carries over: " << e.ShortDebugString();
  }
}

TEST_F(StreamerTest, NothingAckedIsLostWhenStreamsBreakBeforeAndAfterCommitting) {
  FakeEventSink::Knobs k;
  k.break_every = 3;
  k.commit_before_break = true;  // committed, ack lost: must be resent and deduplicated
  k.fail_opens = 2;
  sink_->Set(k);
  Config c = TestConfig();
  c.max_buffered_events = 10000;
  Start(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) {
    PendingEvent e = NewEvent();
    ids.push_back(e.envelope->id());
    ASSERT_TRUE(streamer_->Enqueue(std::move(e)));
  }
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(20)).ok());
  k.commit_before_break = false;  // now break without committing
  sink_->Set(k);
  for (int i = 0; i < 1000; ++i) {
    PendingEvent e = NewEvent();
    ids.push_back(e.envelope->id());
    ASSERT_TRUE(streamer_->Enqueue(std::move(e)));
  }
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(20)).ok());
  EXPECT_EQ(sink_->stored(), ids.size());
  for (const auto& id : ids) ASSERT_TRUE(sink_->HasStored(id)) << id;
  EXPECT_GT(sink_->duplicates(), 0u) << "resends after a lost ack must have happened";
  EXPECT_GT(streamer_->stats().reconnects, 2u);
}

TEST_F(StreamerTest, EnqueueNeverBlocksAndTheDropCounterIsExact) {
  FakeEventSink::Knobs k;
  k.stall = true;
  sink_->Set(k);
  Config c = TestConfig();
  Start(c);
  ASSERT_TRUE(streamer_->Enqueue(NewEvent()));
  sink_->AwaitSends(1);  // the worker holds that one event, stuck in Send
  const absl::Time start = absl::Now();
  int accepted = 0;
  for (size_t i = 0; i < c.max_buffered_events + 250; ++i)
    accepted += streamer_->Enqueue(NewEvent());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "Enqueue must not wait for the server";
  EXPECT_EQ(accepted, static_cast<int>(c.max_buffered_events));
  EXPECT_EQ(streamer_->stats().dropped, 250u);
  EXPECT_EQ(streamer_->Flush(absl::Milliseconds(50)).code(), absl::StatusCode::kDeadlineExceeded);

  k.stall = false;  // the server catches up: what was buffered is delivered
  sink_->Set(k);
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(10)).ok());
  EXPECT_EQ(sink_->stored(), c.max_buffered_events + 1);
  streamer_->Shutdown(absl::Seconds(1));
  bool reported = false;
  for (const auto& line : Diagnostics())
    reported |= line.find("dropped 250 events") != std::string::npos;
  EXPECT_TRUE(reported) << "drops are reported";
}

TEST_F(StreamerTest, EnqueueDropsBeyondTheByteBudgetAndTakingFreesIt) {
  FakeEventSink::Knobs k;
  k.fail_opens = 1 << 30;  // nothing leaves the buffer
  sink_->Set(k);
  Config c = TestConfig();
  c.max_buffered_bytes = 1000;
  Start(c);
  auto sized = [](size_t bytes) {
    PendingEvent e = NewEvent();
    e.bytes = bytes;
    return e;
  };
  EXPECT_TRUE(streamer_->Enqueue(sized(300)));
  EXPECT_TRUE(streamer_->Enqueue(sized(300)));
  EXPECT_TRUE(streamer_->Enqueue(sized(300)));
  EXPECT_FALSE(streamer_->Enqueue(sized(300))) << "1 200 bytes would be over 1 000";
  EXPECT_TRUE(streamer_->Enqueue(sized(100)));
  EXPECT_EQ(streamer_->stats().dropped, 1u);
  // Once the server answers, the buffer empties and takes events again.
  k.fail_opens = 0;
  sink_->Set(k);
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(10)).ok());
  EXPECT_TRUE(streamer_->Enqueue(sized(900)));
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(10)).ok());
  EXPECT_EQ(sink_->stored(), 5u);
}

TEST_F(StreamerTest, ShutdownReturnsPromptlyWhenTheServerStallsForever) {
  FakeEventSink::Knobs k;
  k.stall = true;
  sink_->Set(k);
  Start();
  for (int i = 0; i < 10; ++i) streamer_->Enqueue(NewEvent());
  sink_->AwaitSends(1);
  const absl::Time start = absl::Now();
  streamer_->Shutdown(absl::Milliseconds(100));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(streamer_->Enqueue(NewEvent())) << "no logging after shutdown";
  bool reported = false;
  for (const auto& line : Diagnostics())
    reported |= line.find("not delivered") != std::string::npos;
  EXPECT_TRUE(reported);
}

// The server acks out of order (its writers commit in parallel): Flush waits for the events
// logged before it, not for as many acks as there were such events.
TEST_F(StreamerTest, FlushWaitsForItsOwnEventsWhenLaterOnesAreAckedFirst) {
  FakeEventSink::Knobs k;
  k.hold_first_ack = true;
  sink_->Set(k);
  Start();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(streamer_->Enqueue(NewEvent()));
  sink_->AwaitSends(1);  // the first 10: stored, their ack held back
  auto flushed = std::async(std::launch::async, [&] { return streamer_->Flush(absl::Seconds(20)); });
  absl::SleepFor(absl::Milliseconds(100));  // Flush has taken its target (10 events)
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(streamer_->Enqueue(NewEvent()));
  for (int i = 0; i < 500 && streamer_->stats().acked < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(streamer_->stats().acked, 10u) << "the later 10 are acked";
  EXPECT_EQ(flushed.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "Flush returned while the events logged before it were not acked";
  sink_->ReleaseHeldAck();
  ASSERT_EQ(flushed.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(flushed.get().ok());
  EXPECT_EQ(streamer_->stats().acked, 20u);
}

TEST_F(StreamerTest, UnackedBatchesAreBoundedWhileTheServerDoesNotAck) {
  FakeEventSink::Knobs k;
  k.ack = false;
  sink_->Set(k);
  Config c = TestConfig();
  c.batch_delay = absl::Seconds(30);  // only full batches go out
  Start(c);
  for (int i = 0; i < 900; ++i) streamer_->Enqueue(NewEvent());
  sink_->AwaitSends(static_cast<int>(c.max_unacked_batches));
  EXPECT_EQ(streamer_->Flush(absl::Milliseconds(100)).code(), absl::StatusCode::kDeadlineExceeded);
  Stats s = streamer_->stats();
  EXPECT_EQ(s.unacked, c.max_unacked_batches * c.max_batch_events);
  EXPECT_EQ(s.buffered, 900 - c.max_unacked_batches * c.max_batch_events);
}

TEST_F(StreamerTest, RejectedEventsAreCountedReportedAndNotResent) {
  Start();
  streamer_->Enqueue(NewEvent("reject-me"));
  streamer_->Enqueue(NewEvent());
  ASSERT_TRUE(streamer_->Flush(absl::Seconds(5)).ok());
  Stats s = streamer_->stats();
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.acked, 1u);
  EXPECT_EQ(s.last_rejection, "fake: rejected");
  EXPECT_EQ(sink_->stored(), 1u);
  streamer_->Shutdown(absl::Seconds(1));
  bool reported = false;
  for (const auto& line : Diagnostics())
    reported |= line.find("rejected 1 events") != std::string::npos;
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace utracker::client::internal
