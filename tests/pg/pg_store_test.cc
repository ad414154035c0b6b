// PgEventStore and PgFlowStore against a real PostgreSQL.
#include <google/protobuf/arena.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "query/message_state.h"
#include "storage/migrations.h"
#include "storage/pg_event_store.h"
#include "storage/pg_flow_store.h"
#include "support/event_factory.h"
#include "support/test_database.h"
#include "wire/event_validation.h"
#include "wire/uuid.h"

namespace utracker::server::storage {
namespace {

using testing::MakeEvent;

std::vector<const v1::Event*> Ptrs(const std::vector<v1::Event>& events) {
  std::vector<const v1::Event*> out;
  for (const auto& e : events) out.push_back(&e);
  return out;
}

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    auto m = ApplyMigrations(db_.url(), EmbeddedMigrations());
    ASSERT_TRUE(m.ok()) << m.status();
    // With a cache, as the server runs it: rows it skips must still leave messages right.
    store_ = std::make_unique<PgEventStore>(db_.url(), std::make_shared<MessageCache>(1000));
  }

  std::vector<v1::Event> Events(int n) {
    std::vector<v1::Event> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(MakeEvent(wire::NewUuidV7(), "svc" + std::to_string(i % 8), v1::EVENT_KIND_SENT,
                              t0_ + absl::Milliseconds(i)));
    }
    return out;
  }

  testing::TestDatabase db_;
  std::unique_ptr<PgEventStore> store_;
  const absl::Time t0_ = absl::Now() - absl::Hours(1);
};

TEST_F(PgStoreTest, StoresEventsWithTheirFields) {
  v1::Event e = MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_FAILED, t0_);
  e.set_destination("bob");
  e.set_error("boom: \"quoted\"\n");
  (*e.mutable_attributes())["order"] = "42";
  e.set_content_type("application/json");
  e.set_content(std::string("{\"a\":1}\0\xff", 9));
  auto r = store_->Store({&e});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->inserted, 1u);
  auto rows = db_.Query(
      "SELECT event_id, message_id = root_id, kind, service, destination, error, "
      "attributes->>'order', instance, depth FROM events");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{e.event_id(), "t", "failed", "alice", "bob",
                                               "boom: \"quoted\"\n", "42", "test-host", "0"}));
  EXPECT_EQ(db_.Scalar("SELECT encode(content, 'hex') FROM messages"), "7b2261223a317d00ff");
  EXPECT_EQ(db_.Scalar("SELECT content_type FROM messages"), "application/json");
}

TEST_F(PgStoreTest, DuplicatesAreStoredOnceAcrossAndWithinBatches) {
  std::vector<v1::Event> events = Events(100);
  events.push_back(events[10]);  // same event twice in one batch
  auto first = store_->Store(Ptrs(events));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->inserted, 100u);
  EXPECT_EQ(first->duplicates, 1u);
  auto again = store_->Store(Ptrs(events));  // a client retry of everything
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->inserted, 0u);
  EXPECT_EQ(again->duplicates, 101u);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM events"), "100");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM messages"), "100");
}

TEST_F(PgStoreTest, OneBadEventInAThousandIsRejectedByValidationTheRestStored) {
  std::vector<v1::Event> request = Events(1000);
  request[500].set_name(std::string("nul\0byte", 8));
  std::vector<v1::Event> valid;
  std::vector<std::string> reasons;
  for (auto& e : request) {
    absl::Status st = wire::ValidateAndNormalizeEvent(e, absl::Now());
    if (st.ok()) {
      valid.push_back(e);
    } else {
      reasons.emplace_back(st.message());
    }
  }
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_TRUE(absl::StrContains(reasons[0], "NUL")) << reasons[0];
  auto r = store_->Store(Ptrs(valid));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->inserted, 999u);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM events"), "999");
}

TEST_F(PgStoreTest, WhenPostgresRefusesARowTheBatchIsSplitAndOnlyThatRowRejected) {
  // Bypasses validation on purpose: the NUL byte reaches COPY, which fails the whole batch.
  std::vector<v1::Event> events = Events(1000);
  events[737].set_name(std::string("nul\0byte", 8));
  auto r = store_->Store(Ptrs(events));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].first, 737u);
  EXPECT_TRUE(absl::StrContains(r->rejected[0].second, "refused by PostgreSQL"))
      << r->rejected[0].second;
  EXPECT_EQ(r->inserted, 999u);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM events"), "999");
  EXPECT_EQ(db_.Scalar(absl::StrCat("SELECT count(*) FROM events WHERE event_id = '",
                                    events[737].event_id(), "'")),
            "0");
}

TEST_F(PgStoreTest, AuthorIsEarliestSenderWhateverTheArrivalOrder) {
  const std::string id = wire::NewUuidV7();
  v1::Event received = MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, t0_ + absl::Seconds(1));
  v1::Event sent =
      MakeEvent(id, "alice", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(2));  // skewed clock
  sent.set_content("payload");
  ASSERT_TRUE(store_->Store({&received}).ok());
  EXPECT_EQ(db_.Scalar("SELECT origin_service FROM messages"), "bob");
  ASSERT_TRUE(store_->Store({&sent}).ok());
  EXPECT_EQ(db_.Scalar("SELECT origin_service FROM messages"), "alice");
  EXPECT_EQ(db_.Scalar("SELECT content FROM messages"), "\\x7061796c6f6164");
  EXPECT_EQ(db_.Scalar("SELECT first_seen_at = '" +
                       absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t0_ + absl::Seconds(1),
                                        absl::UTCTimeZone()) +
                       "'::timestamptz FROM messages"),
            "t");
}

TEST_F(PgStoreTest, ADeclaredOriginOutranksInferenceInEitherArrivalOrder) {
  for (bool declared_first : {true, false}) {
    const std::string id = wire::NewUuidV7();
    // carl's clock is early and he (a relay) logs SENT first; alice packed the message.
    v1::Event relay = MakeEvent(id, "carl", v1::EVENT_KIND_SENT, t0_);
    v1::Event author = MakeEvent(id, "alice", v1::EVENT_KIND_NOTE, t0_ + absl::Seconds(5));
    author.set_origin_service("alice");
    ASSERT_TRUE(store_->Store({declared_first ? &author : &relay}).ok());
    ASSERT_TRUE(store_->Store({declared_first ? &relay : &author}).ok());
    EXPECT_EQ(
        db_.Scalar("SELECT origin_service || ' ' || origin_declared FROM messages WHERE id = '" +
                   id + "'"),
        "alice true")
        << "declared first: " << declared_first;
  }
}

TEST_F(PgStoreTest, FlowStoreReturnsMessagesAndFlowsOfThreeGenerations) {
  const std::string root = wire::NewUuidV7(), child = wire::NewUuidV7(), grand = wire::NewUuidV7();
  std::vector<v1::Event> events = {
      MakeEvent(root, "alice", v1::EVENT_KIND_SENT, t0_),
      MakeEvent(root, "bob", v1::EVENT_KIND_RECEIVED, t0_ + absl::Milliseconds(10)),
      MakeEvent(child, "bob", v1::EVENT_KIND_SENT, t0_ + absl::Milliseconds(20), root, root, 1),
      MakeEvent(child, "carl", v1::EVENT_KIND_PROCESSED, t0_ + absl::Milliseconds(30), root, root,
                1),
      MakeEvent(grand, "carl", v1::EVENT_KIND_SENT, t0_ + absl::Milliseconds(40), child, root, 2),
  };
  events[0].set_content_type("application/json");
  events[0].set_content(std::string("{\"a\":1}\0\xff", 9));
  events[0].set_destination("bob-queue");
  events[0].set_name("sending_content");
  (*events[0].mutable_attributes())["k"] = "v";
  (*events[0].mutable_attributes())["odd, \"key\""] = "a,\"b\"{c}\\d NULL";
  // Attributes are read from jsonb's text: escapes, control characters and UTF-8 come back.
  (*events[0].mutable_attributes())["esc/\u00e9"] =
      "line\nfeed\ttab\x01 \u00e9 \U0001F600 \\u0041";
  ASSERT_TRUE(store_->Store(Ptrs(events)).ok());
  PgFlowStore flows(db_.url());

  v1::GetFlowResponse flow;
  const absl::Status read = flows.GetFlow(grand, false, 100, &flow);
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(flow.root_id(), root);
  ASSERT_EQ(flow.messages_size(), 3);
  EXPECT_EQ(flow.messages(0).id(), root);
  EXPECT_EQ(flow.messages(1).id(), child);
  EXPECT_EQ(flow.messages(1).parent_id(), root);
  EXPECT_EQ(flow.messages(2).depth(), 2u);
  EXPECT_EQ(flow.messages(0).events_size(), 2);
  EXPECT_EQ(flow.messages(0).events(0).attributes().at("k"), "v");
  EXPECT_EQ(flow.messages(0).events(0).attributes().at("odd, \"key\""), "a,\"b\"{c}\\d NULL");
  EXPECT_EQ(flow.messages(0).events(0).attributes().at("esc/\u00e9"),
            "line\nfeed\ttab\x01 \u00e9 \U0001F600 \\u0041");
  EXPECT_EQ(flow.messages(0).events(0).attributes_size(), 3);
  EXPECT_FALSE(flow.truncated());
  EXPECT_EQ(flow.messages(0).content(), "") << "content only when asked for";

  v1::GetFlowResponse small;
  ASSERT_TRUE(flows.GetFlow(root, false, 2, &small).ok());
  EXPECT_EQ(small.messages_size(), 2);
  EXPECT_TRUE(small.truncated());
  v1::GetFlowResponse zero;  // a flow that exists, cut to nothing: truncated, not NOT_FOUND
  ASSERT_TRUE(flows.GetFlow(root, false, 0, &zero).ok());
  EXPECT_EQ(zero.messages_size(), 0);
  EXPECT_TRUE(zero.truncated());

  // GetFlow reads binary columns, GetMessage text: the same messages, field for field (with
  // content), and the same again on an arena, as the server reads them.
  google::protobuf::Arena arena;
  auto* on_arena = google::protobuf::Arena::CreateMessage<v1::GetFlowResponse>(&arena);
  ASSERT_TRUE(flows.GetFlow(child, true, 100, on_arena).ok());
  EXPECT_EQ(on_arena->root_id(), root);
  ASSERT_EQ(on_arena->messages_size(), 3);
  EXPECT_EQ(on_arena->messages(0).content(), std::string("{\"a\":1}\0\xff", 9));
  EXPECT_EQ(on_arena->messages(0).content_type(), "application/json");
  EXPECT_EQ(on_arena->messages(0).events(0).destination(), "bob-queue");
  for (const v1::TrackedMessage& in_flow : on_arena->messages()) {
    auto single = flows.GetMessage(in_flow.id(), true);
    ASSERT_TRUE(single.ok()) << single.status();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(in_flow, *single))
        << in_flow.DebugString() << "\nvs GetMessage:\n" << single->DebugString();
  }

  auto m = flows.GetMessage(child, false);
  ASSERT_TRUE(m.ok()) << m.status();
  query::DeriveMessageFacts(*m);
  EXPECT_EQ(m->origin_service(), "bob");
  EXPECT_EQ(m->state(), v1::MESSAGE_STATE_PROCESSED);
  ASSERT_EQ(m->events_size(), 2);
  EXPECT_EQ(m->events(1).service(), "carl");
  EXPECT_EQ(m->events(1).occurred_at().nanos() % 1000, 0);

  EXPECT_EQ(flows.GetMessage(wire::NewUuidV7(), false).status().code(),
            absl::StatusCode::kNotFound);
  v1::GetFlowResponse none;
  EXPECT_EQ(flows.GetFlow(wire::NewUuidV7(), false, 10, &none).code(),
            absl::StatusCode::kNotFound);

  // Truncated, the kept messages' events are read by id; each kept message has all of its
  // events, also where the root's events run past the first chunks of the cursor.
  std::vector<v1::Event> big;
  for (int i = 0; i < 400; ++i) {
    const std::string id = wire::NewUuidV7();
    const absl::Time t = t0_ + absl::Seconds(1) + absl::Milliseconds(i);
    big.push_back(MakeEvent(id, "bob", v1::EVENT_KIND_SENT, t, root, root, 1));
    big.push_back(MakeEvent(id, "carl", v1::EVENT_KIND_RECEIVED, t, root, root, 1));
    big.push_back(MakeEvent(id, "carl", v1::EVENT_KIND_PROCESSED, t, root, root, 1));
  }
  ASSERT_TRUE(store_->Store(Ptrs(big)).ok());
  v1::GetFlowResponse cut;
  ASSERT_TRUE(flows.GetFlow(grand, false, 300, &cut).ok());
  EXPECT_TRUE(cut.truncated());
  ASSERT_EQ(cut.messages_size(), 300);
  EXPECT_EQ(cut.messages(0).id(), root);
  EXPECT_EQ(cut.messages(0).events_size(), 2);
  int kept_events = 0;
  for (const auto& m : cut.messages()) {
    if (m.depth() == 1 && m.id() != child) {
      EXPECT_EQ(m.events_size(), 3) << m.id();
    }
    kept_events += m.events_size();
  }
  EXPECT_EQ(kept_events, 2 + 2 + 298 * 3);  // root, child, 298 of the 400
}

// A root nobody logged (only its children did) still names its flow: GetFlow of it answers
// with the children, as GetFlow of any child does; GetMessage of it is NOT_FOUND (no events).
TEST_F(PgStoreTest, GetFlowOfARootWithoutEventsOfItsOwnAnswersWithItsFlow) {
  const std::string root = wire::NewUuidV7(), a = wire::NewUuidV7(), b = wire::NewUuidV7();
  std::vector<v1::Event> events = {
      MakeEvent(a, "bob", v1::EVENT_KIND_SENT, t0_, root, root, 1),
      MakeEvent(b, "carl", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(1), a, root, 2)};
  ASSERT_TRUE(store_->Store(Ptrs(events)).ok());
  PgFlowStore flows(db_.url());
  v1::GetFlowResponse by_root, by_child;
  ASSERT_TRUE(flows.GetFlow(root, false, 10, &by_root).ok());
  ASSERT_TRUE(flows.GetFlow(b, false, 10, &by_child).ok());
  EXPECT_EQ(by_root.root_id(), root);
  ASSERT_EQ(by_root.messages_size(), 2);
  EXPECT_EQ(by_root.messages(0).id(), a);
  EXPECT_EQ(by_root.messages(1).id(), b);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(by_root, by_child));
  EXPECT_EQ(flows.GetMessage(root, false).status().code(), absl::StatusCode::kNotFound);
}

// GetFlow fetches a flow's events in chunks through a cursor (250, then 500 at a time while
// chunks come back full): a flow of many chunks comes back whole, each event in its message
// and in order, and the connection serves the next reads (also after a flow that was not
// found, and after a statement that failed).
TEST_F(PgStoreTest, FlowStoreReadsAFlowBiggerThanItsFetchChunks) {
  const std::string root = wire::NewUuidV7();
  std::vector<std::string> ids = {root};
  for (int i = 1; i < 40; ++i) ids.push_back(wire::NewUuidV7());
  std::vector<v1::Event> events;
  for (int i = 0; i < 40; ++i) {
    for (int k = 0; k < 90; ++k) {
      // Stored newest first, so the order read back is not the order written.
      const absl::Time at = t0_ + absl::Milliseconds(i * 1000 + (89 - k));
      // Each message's events by a service of its own: an event placed in the wrong message
      // shows.
      const std::string service = absl::StrCat("svc", i);
      events.push_back(i == 0 ? MakeEvent(root, service, v1::EVENT_KIND_NOTE, at)
                              : MakeEvent(ids[i], service, v1::EVENT_KIND_NOTE, at, root, root, 1));
    }
  }
  ASSERT_TRUE(store_->Store(Ptrs(events)).ok());
  PgFlowStore flows(db_.url());
  for (int round = 0; round < 3; ++round) {
    v1::GetFlowResponse none;
    EXPECT_EQ(flows.GetFlow(wire::NewUuidV7(), false, 10, &none).code(),
              absl::StatusCode::kNotFound);
    // A statement that fails inside the pipeline (PostgreSQL refuses the id) leaves no
    // connection out of step for the next read.
    v1::GetFlowResponse refused;
    EXPECT_EQ(flows.GetFlow("not-a-uuid", false, 10, &refused).code(),
              absl::StatusCode::kInvalidArgument);
    v1::GetFlowResponse flow;
    const absl::Status read = flows.GetFlow(ids[7], false, 100, &flow);
    ASSERT_TRUE(read.ok()) << read;
    ASSERT_EQ(flow.messages_size(), 40);
    int total = 0;
    for (const v1::TrackedMessage& m : flow.messages()) {
      ASSERT_EQ(m.events_size(), 90) << m.id();
      const auto at = std::find(ids.begin(), ids.end(), m.id());
      ASSERT_NE(at, ids.end());
      const std::string service = absl::StrCat("svc", at - ids.begin());
      for (int k = 0; k < 90; ++k) {
        EXPECT_EQ(m.events(k).service(), service);
        if (k > 0) {
          EXPECT_LT(google::protobuf::util::TimeUtil::TimestampToMicroseconds(
                        m.events(k - 1).occurred_at()),
                    google::protobuf::util::TimeUtil::TimestampToMicroseconds(
                        m.events(k).occurred_at()));
        }
      }
      total += m.events_size();
    }
    EXPECT_EQ(total, 3600);
  }
}

// A FETCH that fails after the first chunk came back (here: `events` replaced by a view that
// divides by zero from its 401st row on, so the second FETCH fails with a third in flight)
// fails the read with PostgreSQL's reason and leaves
// the store's connections in step: the next read, with the table back, is whole.
TEST_F(PgStoreTest, FlowStoreRecoversFromAFetchThatFailsMidway) {
  const std::string root = wire::NewUuidV7();
  const std::string child = wire::NewUuidV7();
  std::vector<v1::Event> events;
  for (int k = 0; k < 900; ++k) {
    const absl::Time at = t0_ + absl::Milliseconds(k);
    events.push_back(k % 2 == 0
                         ? MakeEvent(root, "author", v1::EVENT_KIND_NOTE, at)
                         : MakeEvent(child, "handler", v1::EVENT_KIND_NOTE, at, root, root, 1));
  }
  ASSERT_TRUE(store_->Store(Ptrs(events)).ok());
  PgFlowStore flows(db_.url());
  auto events_in = [](const v1::GetFlowResponse& flow) {
    int total = 0;
    for (const auto& m : flow.messages()) total += m.events_size();
    return total;
  };
  v1::GetFlowResponse before;
  absl::Status read = flows.GetFlow(child, false, 10, &before);
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(events_in(before), 900);
  db_.Query("ALTER TABLE events RENAME TO events_real");
  db_.Query(
      "CREATE VIEW events AS SELECT event_id, message_id, service, instance, kind, name,"
      " occurred_at, destination, attributes, error, root_id FROM (SELECT e.*,"
      " row_number() OVER () AS n FROM events_real e) x WHERE 1 / (CASE WHEN n > 400 THEN 0"
      " ELSE 1 END) = 1");
  for (int round = 0; round < 2; ++round) {
    v1::GetFlowResponse broken;
    const absl::Status failed = flows.GetFlow(child, false, 10, &broken);
    EXPECT_FALSE(failed.ok());
    EXPECT_NE(failed.message().find("division by zero"), std::string::npos) << failed;
  }
  db_.Query("DROP VIEW events");
  db_.Query("ALTER TABLE events_real RENAME TO events");
  for (int round = 0; round < 3; ++round) {
    v1::GetFlowResponse after;
    read = flows.GetFlow(child, false, 10, &after);
    ASSERT_TRUE(read.ok()) << read;
    EXPECT_EQ(events_in(after), 900);
  }
}

// A flow whose events end exactly at a chunk's end (250, 750, 1 250) is read whole: the fetch
// after the last full chunk finds nothing, and nothing is read twice.
TEST_F(PgStoreTest, FlowStoreReadsFlowsEndingAtAChunkBoundary) {
  PgFlowStore flows(db_.url());
  for (const int size : {250, 750, 1250, 251}) {
    const std::string root = wire::NewUuidV7();
    const std::string child = wire::NewUuidV7();
    std::vector<v1::Event> events;
    for (int k = 0; k < size; ++k) {
      const absl::Time at = t0_ + absl::Milliseconds(k);
      events.push_back(k % 2 == 0
                           ? MakeEvent(root, "author", v1::EVENT_KIND_NOTE, at)
                           : MakeEvent(child, "handler", v1::EVENT_KIND_NOTE, at, root, root, 1));
    }
    ASSERT_TRUE(store_->Store(Ptrs(events)).ok());
    v1::GetFlowResponse flow;
    const absl::Status read = flows.GetFlow(child, false, 10, &flow);
    ASSERT_TRUE(read.ok()) << read;
    ASSERT_EQ(flow.messages_size(), 2) << size;
    EXPECT_EQ(flow.messages(0).id(), root);
    EXPECT_EQ(flow.messages(0).events_size(), (size + 1) / 2) << size;
    EXPECT_EQ(flow.messages(1).events_size(), size / 2) << size;
  }
}

// Rows of messages new to a writer's process are COPY'd into messages; when another replica
// (here: a store with a cache of its own) wrote one of them first, the COPY fails and the
// batch's new rows are upserted instead — the message ends up right, nothing is lost.
TEST_F(PgStoreTest, ANewMessageWrittenElsewhereFirstIsUpsertedAfterAll) {
  PgEventStore a(db_.url(), std::make_shared<MessageCache>(1000));
  PgEventStore b(db_.url(), std::make_shared<MessageCache>(1000));
  const std::string m = wire::NewUuidV7(), other = wire::NewUuidV7();
  v1::Event received = MakeEvent(m, "bob", v1::EVENT_KIND_RECEIVED, t0_ + absl::Seconds(1));
  received.set_origin_service("alice");
  ASSERT_TRUE(a.Store({&received}).ok());
  v1::Event sent = MakeEvent(m, "alice", v1::EVENT_KIND_SENT, t0_);
  sent.set_origin_service("alice");
  sent.set_content_type("text/plain");
  sent.set_content("hello");
  v1::Event unrelated = MakeEvent(other, "carl", v1::EVENT_KIND_SENT, t0_);
  auto stored = b.Store({&sent, &unrelated});
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->inserted, 2u);
  EXPECT_EQ(a.new_message_fallbacks(), 0u);
  EXPECT_EQ(b.new_message_fallbacks(), 1u) << "b did not know m: its COPY met a's row";
  EXPECT_EQ(db_.Scalar("SELECT origin_service || ' ' || origin_sent || ' ' || "
                       "convert_from(content, 'UTF8') || ' ' || (first_seen_at = origin_at)"
                       " FROM messages WHERE id = '" + m + "'"),
            "alice true hello true");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM messages WHERE id = '" + other + "'"), "1");
}

// Two writers of one process (one cache) storing the two sides of the same messages at once:
// they take turns at the messages part, so no new row is written by both (no deadlock, no
// fallback), and every message ends up with its author, first sight and content.
TEST_F(PgStoreTest, TwoWritersOnOneCacheStoreBothSidesOfTheSameMessages) {
  auto cache = std::make_shared<MessageCache>(100000);
  PgEventStore author_side(db_.url(), cache), handler_side(db_.url(), cache);
  std::vector<v1::Event> sends, handled;
  std::vector<std::string> ids;
  for (int i = 0; i < 600; ++i) {
    ids.push_back(wire::NewUuidV7());
    const absl::Time at = t0_ + absl::Milliseconds(i);
    sends.push_back(MakeEvent(ids.back(), "alice", v1::EVENT_KIND_SENT, at));
    sends.back().set_content("payload " + std::to_string(i));
    sends.back().set_origin_service("alice");
    for (v1::EventKind kind : {v1::EVENT_KIND_RECEIVED, v1::EVENT_KIND_PROCESSED}) {
      handled.push_back(MakeEvent(ids.back(), "bob", kind, at + absl::Milliseconds(5)));
      handled.back().set_origin_service("alice");
    }
  }
  auto run = [](PgEventStore* store, const std::vector<v1::Event>& events, size_t batch,
                std::string* error) {
    for (size_t i = 0; i < events.size(); i += batch) {
      std::vector<const v1::Event*> part;
      for (size_t k = i; k < std::min(events.size(), i + batch); ++k) part.push_back(&events[k]);
      auto r = store->Store(part);
      if (!r.ok() || !r->rejected.empty()) {
        *error = r.ok() ? r->rejected[0].second : r.status().ToString();
        return;
      }
    }
  };
  std::string author_error, handler_error;
  std::thread t1(run, &author_side, std::cref(sends), 37, &author_error);
  std::thread t2(run, &handler_side, std::cref(handled), 61, &handler_error);
  t1.join();
  t2.join();
  EXPECT_EQ(author_error, "");
  EXPECT_EQ(handler_error, "");
  EXPECT_EQ(author_side.new_message_fallbacks() + handler_side.new_message_fallbacks(), 0u);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM events"), "1800");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM messages"), "600");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM messages WHERE origin_service = 'alice' AND"
                       " origin_sent AND first_seen_at = origin_at AND content IS NOT NULL"),
            "600");
}

TEST(PgEventStoreUnreachable, ReportsUnavailableAndNothingElse) {
  PgEventStore store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  v1::Event e = MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, absl::Now());
  auto r = store.Store({&e});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace utracker::server::storage
