// The client library's envelope API, payload filters, configuration and shutdown.
#include <google/protobuf/timestamp.pb.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/match.h"
#include "client_core.h"
#include "support/fake_event_sink.h"
#include "support/loopback.h"
#include "utracker/utracker.h"
#include "wire/event_validation.h"
#include "wire/uuid.h"

namespace utracker {
namespace {

TEST(Message, PackGivesAUuidV7RootWithContentType) {
  Message m = Message::PackJson(R"({"command":"list","target":"posts"})");
  EXPECT_TRUE(wire::ParseUuid(m.id()).has_value());
  EXPECT_EQ(m.id()[14], '7');
  EXPECT_TRUE(m.is_root());
  EXPECT_EQ(m.root_id(), m.id());
  EXPECT_EQ(m.depth(), 0u);
  EXPECT_EQ(m.content(), R"({"command":"list","target":"posts"})");
  EXPECT_EQ(m.content_type(), "application/json");
  EXPECT_LT(absl::Now() - m.created_at(), absl::Seconds(5));
  EXPECT_NE(Message::Pack("x").id(), Message::Pack("x").id());
}

TEST(Message, IdAndContentSurviveBinaryJsonAndHeaderRoundTrips) {
  Message m = Message::Pack(std::string("bin\0\xff", 5), "application/octet-stream");
  for (const std::string& wire : {m.ToBytes(), m.ToJson()}) {
    absl::StatusOr<Message> back = Message::Unpack(wire);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->id(), m.id());
    EXPECT_EQ(back->root_id(), m.root_id());
    EXPECT_EQ(back->content(), m.content());
    EXPECT_EQ(back->content_type(), m.content_type());
    EXPECT_EQ(back->created_at(), m.created_at());
  }
  EXPECT_TRUE(absl::StrContains(m.ToJson(), m.id()));

  Message child = m.PackChild("reply");
  std::map<std::string, std::string> headers = child.ToHeaders();
  EXPECT_EQ(headers.at("utracker-id"), child.id());
  EXPECT_EQ(headers.at("utracker-parent-id"), m.id());
  absl::StatusOr<Message> back = Message::FromHeaders(headers, "reply", "text/plain");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id(), child.id());
  EXPECT_EQ(back->parent_id(), m.id());
  EXPECT_EQ(back->root_id(), m.id());
  EXPECT_EQ(back->depth(), 1u);
  EXPECT_EQ(back->content(), "reply");
  EXPECT_EQ(back->created_at(), child.created_at());
}

TEST(Message, LineageOverThreeGenerations) {
  Message root = Message::Pack("a");
  Message child = root.PackChild("b");
  Message grandchild = Message::Unpack(child.ToBytes())->PackChildJson("{}");
  EXPECT_EQ(child.parent_id(), root.id());
  EXPECT_EQ(child.root_id(), root.id());
  EXPECT_EQ(child.depth(), 1u);
  EXPECT_EQ(grandchild.parent_id(), child.id());
  EXPECT_EQ(grandchild.root_id(), root.id());
  EXPECT_EQ(grandchild.depth(), 2u);
  EXPECT_FALSE(grandchild.is_root());
}

// A chain longer than the server takes (depth 1..10 000) saturates: the child of a message at
// the limit is at the limit (at 10 001 the server would refuse its events). An envelope that
// claims more is refused when read.
TEST(Message, DepthSaturatesAtTheLargestTheServerTakes) {
  Message child = Message::Pack("a").PackChild("b");
  for (const char* depth : {"9999", "10000"}) {
    std::map<std::string, std::string> headers = child.ToHeaders();
    headers["utracker-depth"] = depth;
    absl::StatusOr<Message> deep = Message::FromHeaders(headers, "b");
    ASSERT_TRUE(deep.ok()) << deep.status();
    Message next = deep->PackChild("c");
    EXPECT_EQ(next.depth(), 10000u) << depth;
    EXPECT_EQ(next.parent_id(), child.id());
  }
  std::map<std::string, std::string> headers = child.ToHeaders();
  headers["utracker-depth"] = "4294967295";
  EXPECT_EQ(Message::FromHeaders(headers, "b").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Message, ProtobufContentIsTypedAndParsesBack) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(42);
  Message m = Message::Pack(ts);
  EXPECT_EQ(m.content_type(), "application/x-protobuf; type=google.protobuf.Timestamp");
  google::protobuf::Timestamp back;
  ASSERT_TRUE(Message::Unpack(m.ToJson())->ContentAs(&back).ok());
  EXPECT_EQ(back.seconds(), 42);
}

TEST(Message, GarbageGivesAClearErrorNotACrash) {
  const std::vector<std::string> garbage = {
      "",
      "{",
      "not json at all",
      "{\"id\": 12}",
      std::string("\xff\xfe\x00\x01", 4),
      "{\"id\":\"nope\"}",
      "{\"content\":\"aGVsbG8=\"}",
      "{\"id\":\"0190a1a0-0000-7000-8000-0000000000aa\",\"depth\":3}",
      std::string(100000, '\x0a')};
  for (const std::string& g : garbage) {
    absl::StatusOr<Message> m = Message::Unpack(g);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << g.substr(0, 30);
    EXPECT_TRUE(absl::StrContains(m.status().message(), "envelope")) << m.status();
  }
  std::string bytes = Message::Pack("payload").ToBytes();
  EXPECT_FALSE(Message::Unpack(bytes.substr(0, bytes.size() / 2)).ok());
  EXPECT_FALSE(Message::FromHeaders({{"utracker-id", "x"}}, "c").ok());
  EXPECT_FALSE(Message::FromHeaders(
                   {{"utracker-id", Message::Pack("").id()}, {"utracker-depth", "many"}}, "c")
                   .ok());
}

// Times protobuf cannot hold (its conversions abort the process) are refused with a reason.
TEST(Message, ImpossibleCreationTimesAreRefusedNotACrash) {
  const std::string id = Message::Pack("").id();
  for (const char* t : {"10000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "infinite-future",
                        "infinite-past"}) {
    absl::StatusOr<Message> m =
        Message::FromHeaders({{"utracker-id", id}, {"utracker-created-at", t}}, "c");
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << t;
    EXPECT_TRUE(absl::StrContains(m.status().message(), "out of range")) << m.status();
  }
  absl::StatusOr<Message> last = Message::FromHeaders(
      {{"utracker-id", id}, {"utracker-created-at", "9999-12-31T23:59:59Z"}}, "c");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->ToHeaders().at("utracker-created-at"), "9999-12-31T23:59:59+00:00")
      << "beyond 2262 a time does not fit int64 nanoseconds";

  v1::Envelope env;
  ASSERT_TRUE(env.ParseFromString(Message::Pack("x").ToBytes()));
  for (auto [seconds, nanos] : {std::pair<int64_t, int32_t>{1000000000000000, 0}, {10, -5},
                                {10, 1000000000}, {-70000000000, 0}}) {
    env.mutable_created_at()->set_seconds(seconds);
    env.mutable_created_at()->set_nanos(nanos);
    absl::StatusOr<Message> m = Message::Unpack(env.SerializeAsString());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << seconds << " " << nanos;
  }
}

// A content type with invalid UTF-8 would make the envelope unparsable at the next service.
TEST(Message, ContentTypeIsSanitisedSoTheEnvelopeStillUnpacks) {
  Message m = Message::Pack("x", "text/plain; charset=\xff");
  absl::StatusOr<Message> back = Message::Unpack(m.ToBytes());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->content_type(), "text/plain; charset=\xef\xbf\xbd");
}

// Events built by a client core whose streamer writes to a fake server.
class LoggingTest : public ::testing::Test {
 protected:
  void Make(std::vector<PayloadFilter> filters) {
    Config c;
    c.service = "alice";
    c.instance = "host-1";
    c.batch_delay = absl::Milliseconds(1);
    c.filters = std::move(filters);
    c.diagnostics = [](absl::string_view) {};
    core_ =
        std::make_shared<internal::ClientCore>(c, std::unique_ptr<testing::FakeEventSink>(sink_));
  }
  v1::Event LogAndGet(const v1::Envelope& env, EventKind kind, const LogOptions& o) {
    core_->Log(std::make_shared<const v1::Envelope>(env), kind, o);
    EXPECT_TRUE(core_->streamer()->Flush(absl::Seconds(5)).ok());
    return sink_->last_event();
  }

  testing::FakeEventSink* sink_ = new testing::FakeEventSink;
  std::shared_ptr<internal::ClientCore> core_;
};

TEST_F(LoggingTest, EventsCarryLineageServiceAndSanitisedText) {
  Make({});
  v1::Envelope root = core_->NewEnvelope(nullptr, "c", "text/plain");
  v1::Envelope child = core_->NewEnvelope(&root, "d", "text/plain");
  LogOptions o;
  o.destination = "bob";
  o.name = std::string("bad\0\xff", 5);
  o.attributes["k"] = "v";
  v1::Event e = LogAndGet(child, kSent, o);
  EXPECT_EQ(e.message_id(), child.id());
  EXPECT_EQ(e.parent_id(), root.id());
  EXPECT_EQ(e.root_id(), root.id());
  EXPECT_EQ(e.depth(), 1u);
  EXPECT_EQ(e.service(), "alice");
  EXPECT_EQ(e.instance(), "host-1");
  EXPECT_EQ(e.kind(), kSent);
  EXPECT_EQ(e.destination(), "bob");
  EXPECT_EQ(e.name(), "bad\xef\xbf\xbd\xef\xbf\xbd");  // never a poison request
  EXPECT_EQ(e.attributes().at("k"), "v");
  EXPECT_TRUE(e.content().empty()) << "no payload unless asked";
}

TEST_F(LoggingTest, RedactsNestedKeysCaseInsensitivelyBeforeAnythingLeaves) {
  Make({RedactJsonKeys({"password", "token"})});
  v1::Envelope env = core_->NewEnvelope(
      nullptr,
      R"({"user":"ann","Password":"hunter2","items":[{"TOKEN":"t1","n":1}],"x":{"password":{"a":1}}})",
      "application/json");
  LogOptions o;
  o.with_payload = true;
  v1::Event e = LogAndGet(env, kSent, o);
  EXPECT_EQ(
      e.content(),
      R"({"user":"ann","Password":"[REDACTED]","items":[{"TOKEN":"[REDACTED]","n":1}],"x":{"password":"[REDACTED]"}})");
  EXPECT_EQ(e.content_type(), "application/json");
  EXPECT_EQ(env.content().find("[REDACTED]"), std::string::npos)
      << "the message itself is untouched";

  o.hide_payload = true;  // the seed's option wins over with_payload
  EXPECT_TRUE(LogAndGet(env, kReceived, o).content().empty());
}

TEST_F(LoggingTest, AFailingOrThrowingFilterDropsThePayload) {
  Make({[](absl::string_view, absl::string_view) -> absl::StatusOr<std::string> {
    throw std::runtime_error("filter bug");
  }});
  v1::Envelope env = core_->NewEnvelope(nullptr, "secret", "text/plain");
  LogOptions o;
  o.with_payload = true;
  v1::Event e = LogAndGet(env, kSent, o);
  EXPECT_TRUE(e.content().empty());
  EXPECT_EQ(e.attributes().at("utracker.payload"), "dropped by filter");
  EXPECT_EQ(core_->payloads_dropped(), 1u);
}

// The payload note comes on top of the user's attributes: with 64 of them the event would
// be over the server's limit and rejected whole.
TEST_F(LoggingTest, ThePayloadNoteNeverTakesAnEventOverTheAttributeLimit) {
  Make({DropPayload()});
  LogOptions o;
  o.with_payload = true;
  for (size_t i = 0; i < wire::kMaxAttributes + 5; ++i) {
    o.attributes[absl::StrCat("k", 100 + i)] = "v";
  }
  v1::Event e = LogAndGet(core_->NewEnvelope(nullptr, "x", "text/plain"), kSent, o);
  EXPECT_EQ(static_cast<size_t>(e.attributes_size()), wire::kMaxAttributes);
  EXPECT_EQ(e.attributes().at("utracker.payload"), "dropped by filter");
  EXPECT_TRUE(wire::ValidateAndNormalizeEvent(e, absl::Now()).ok());

  o.with_payload = false;  // no note: the first 64 are kept
  e = LogAndGet(core_->NewEnvelope(nullptr, "x", "text/plain"), kSent, o);
  EXPECT_EQ(static_cast<size_t>(e.attributes_size()), wire::kMaxAttributes);
  EXPECT_EQ(e.attributes().count("utracker.payload"), 0u);
}

TEST_F(LoggingTest, APayloadThatGoesKeepsAll64Attributes) {
  Make({});
  LogOptions o;
  o.with_payload = true;
  for (size_t i = 0; i < wire::kMaxAttributes; ++i) o.attributes[absl::StrCat("k", 100 + i)] = "v";
  v1::Event e = LogAndGet(core_->NewEnvelope(nullptr, "x", "text/plain"), kSent, o);
  EXPECT_EQ(e.content(), "x");
  EXPECT_EQ(static_cast<size_t>(e.attributes_size()), wire::kMaxAttributes);
  EXPECT_EQ(e.attributes().count("utracker.payload"), 0u);
}

// A payload bigger than an event may carry still leaves its event (with a note), and the
// buffer does not keep the content for it.
TEST_F(LoggingTest, APayloadTooLargeToSendLeavesItsEventWithANote) {
  Make({});
  auto big = std::make_shared<const v1::Envelope>(
      core_->NewEnvelope(nullptr, std::string(wire::kMaxContentBytes + 1, 'x'), "text/plain"));
  LogOptions o;
  o.with_payload = true;
  core_->Log(big, kSent, o);
  EXPECT_EQ(big.use_count(), 1) << "the content is not kept for an event that cannot carry it";
  ASSERT_TRUE(core_->streamer()->Flush(absl::Seconds(5)).ok());
  const v1::Event e = sink_->last_event();
  EXPECT_EQ(e.message_id(), big->id());
  EXPECT_TRUE(e.content().empty());
  EXPECT_EQ(e.attributes().at("utracker.payload"), "too large");
  EXPECT_EQ(core_->payloads_dropped(), 1u);
}

// Buffered events are bounded in bytes too: one with a payload counts its content; one
// without keeps only the message's lineage, not the whole (big) message alive.
TEST(LoggingBudget, BigMessagesCountOnlyWhenTheirContentIsSent) {
  auto* sink = new testing::FakeEventSink;
  testing::FakeEventSink::Knobs never_connects;
  never_connects.fail_opens = 1 << 30;  // everything stays in the buffer
  sink->Set(never_connects);
  Config c;
  c.service = "alice";
  c.max_buffered_bytes = 3 << 20;
  c.diagnostics = [](absl::string_view) {};
  auto core = std::make_shared<internal::ClientCore>(c, std::unique_ptr<testing::FakeEventSink>(sink));
  auto big = std::make_shared<const v1::Envelope>(
      core->NewEnvelope(nullptr, std::string(1 << 20, 'x'), "text/plain"));

  LogOptions plain;
  for (int i = 0; i < 50; ++i) core->Log(big, kSent, plain);
  EXPECT_EQ(big.use_count(), 1) << "events without the payload keep only the lineage";
  EXPECT_EQ(core->streamer()->stats().buffered, 50u);
  EXPECT_EQ(core->streamer()->stats().dropped, 0u);

  LogOptions with;
  with.with_payload = true;
  for (int i = 0; i < 50; ++i) core->Log(big, kSent, with);
  const Stats s = core->streamer()->stats();
  EXPECT_GE(s.buffered, 51u);
  EXPECT_LE(s.buffered, 53u) << "at most ~3 MiB of payloads are buffered";
  EXPECT_EQ(s.buffered + s.dropped, 100u);
  EXPECT_EQ(big.use_count(), 1 + static_cast<long>(s.buffered - 50));
}

TEST_F(LoggingTest, RedactorDropsNonJsonAndMalformedJson) {
  Make({RedactJsonKeys({"password"})});
  LogOptions o;
  o.with_payload = true;
  EXPECT_TRUE(LogAndGet(core_->NewEnvelope(nullptr, "password=x", "text/plain"), kSent, o)
                  .content()
                  .empty());
  EXPECT_TRUE(
      LogAndGet(core_->NewEnvelope(nullptr, R"({"password": "x")", "application/json"), kSent, o)
          .content()
          .empty());
  EXPECT_EQ(core_->payloads_dropped(), 2u);
}

TEST(Config, FromEnvironment) {
  setenv("UTRACKER_SERVICE", "bob", 1);
  setenv("UTRACKER_SERVER", "10.0.0.1:7000", 1);
  setenv("UTRACKER_REDACT_KEYS", "password, token", 1);
  absl::StatusOr<Config> c = ConfigFromEnv();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->service, "bob");
  EXPECT_EQ(c->server, "10.0.0.1:7000");
  ASSERT_EQ(c->filters.size(), 1u);
  EXPECT_EQ(*c->filters[0](R"({"token":1})", "application/json"), R"({"token":"[REDACTED]"})");
  setenv("UTRACKER_MAX_BUFFERED_BYTES", "1000000", 1);
  EXPECT_EQ(ConfigFromEnv()->max_buffered_bytes, 1000000u);
  setenv("UTRACKER_MAX_BUFFERED_BYTES", "0", 1);
  EXPECT_EQ(ConfigFromEnv().status().code(), absl::StatusCode::kInvalidArgument);
  unsetenv("UTRACKER_MAX_BUFFERED_BYTES");
  setenv("UTRACKER_MAX_BUFFERED_EVENTS", "lots", 1);
  EXPECT_EQ(ConfigFromEnv().status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* v : {"UTRACKER_SERVICE", "UTRACKER_SERVER", "UTRACKER_REDACT_KEYS",
                        "UTRACKER_MAX_BUFFERED_EVENTS"}) {
    unsetenv(v);
  }
  Config bad;
  EXPECT_EQ(Client::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

// Limits the server enforces, and durations the worker waits for, are checked up front.
TEST(Config, LimitsAndDurationsTheLibraryCannotKeepAreRefused) {
  auto with = [](auto change) {
    Config c;
    c.service = "alice";
    c.server = "127.0.0.1:1";
    change(c);
    return Client::Create(c).status();
  };
  EXPECT_TRUE(with([](Config&) {}).ok());
  EXPECT_TRUE(with([](Config& c) { c.max_batch_events = wire::kMaxEventsPerRequest; }).ok());
  const std::vector<std::pair<std::string, absl::Status>> refused = {
      {"max_batch_events", with([](Config& c) { c.max_batch_events = 20000; })},
      {"max_batch_bytes", with([](Config& c) { c.max_batch_bytes = 64 << 20; })},
      {"report_interval",
       with([](Config& c) { c.report_interval = absl::InfiniteDuration(); })},
      {"report_interval", with([](Config& c) { c.report_interval = absl::ZeroDuration(); })},
      {"batch_delay", with([](Config& c) { c.batch_delay = absl::InfiniteDuration(); })},
      {"backoff", with([](Config& c) { c.max_backoff = absl::InfiniteDuration(); })},
  };
  for (const auto& [field, status] : refused) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(absl::StrContains(status.message(), field)) << status;
  }
}

using testing::BlackHole;

// Opening the stream waits for the connection attempt (~20 s when packets are dropped);
// Shutdown must not wait for that.
TEST(ClientShutdown, ReturnsPromptlyWhileTheServerAddressDropsConnections) {
  BlackHole hole;
  ASSERT_TRUE(hole.Drops(absl::Milliseconds(300)))
      << "this kernel answered a connection to a full listener; the test cannot run here";
  Config c;
  c.service = "alice";
  c.server = hole.address();
  c.diagnostics = [](absl::string_view) {};
  absl::StatusOr<std::shared_ptr<Client>> client = Client::Create(c);
  ASSERT_TRUE(client.ok()) << client.status();
  (*client)->Pack("x").Log(kSent);
  absl::SleepFor(absl::Milliseconds(300));  // the worker is opening the stream by now
  const absl::Time start = absl::Now();
  (*client)->Shutdown(absl::Milliseconds(200));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

}  // namespace
}  // namespace utracker
