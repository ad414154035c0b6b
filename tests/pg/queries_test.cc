// ListMessages, ListServices and the analysis views, through the real Flows service on an
// in-process gRPC server, over a real PostgreSQL.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "query/flows_service.h"
#include "query/message_state.h"
#include "storage/migrations.h"
#include "storage/pg_event_store.h"
#include "storage/pg_flow_store.h"
#include "storage/pg_rollup_store.h"
#include "support/event_factory.h"
#include "support/test_database.h"
#include "wire/uuid.h"

namespace utracker::server::query {
namespace {

using testing::MakeEvent;

class QueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url(), storage::EmbeddedMigrations()).ok());
    events_ = std::make_unique<storage::PgEventStore>(db_.url());
    flows_store_ = std::make_unique<storage::PgFlowStore>(db_.url());
    service_ = std::make_unique<FlowsService>(flows_store_.get(), &executor_);
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    stub_ = v1::Flows::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                   grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  void Store(const std::vector<v1::Event>& events) {
    std::vector<const v1::Event*> p;
    for (const auto& e : events) p.push_back(&e);
    auto r = events_->Store(p);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void FoldRollups() {
    storage::PgRollupStore rollups(db_.url());
    ASSERT_TRUE(rollups.Lead().value_or(false));
    for (;;) {
      absl::StatusOr<size_t> n = rollups.RunPass(1000);
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
    }
  }
  // The service graph over [from, to); `to` unset: up to now.
  grpc::Status Graph(absl::Time from, std::optional<absl::Time> to,
                     v1::GetServiceGraphResponse* graph) {
    grpc::ClientContext ctx;
    v1::GetServiceGraphRequest req;
    testing::SetTime(from, req.mutable_from());
    if (to) testing::SetTime(*to, req.mutable_to());
    return stub_->GetServiceGraph(&ctx, req, graph);
  }
  grpc::Status List(const v1::ListMessagesRequest& req, v1::ListMessagesResponse* resp) {
    grpc::ClientContext ctx;
    return stub_->ListMessages(&ctx, req, resp);
  }
  // Every page until the token runs out.
  std::vector<v1::TrackedMessage> ListAll(v1::ListMessagesRequest req) {
    std::vector<v1::TrackedMessage> all;
    for (int pages = 0; pages < 1000; ++pages) {
      v1::ListMessagesResponse resp;
      grpc::Status st = List(req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      for (const auto& m : resp.messages()) all.push_back(m);
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return all;
  }

  // Lists one message (expected: `first`), then bob receives `first` "before" it was sent, by
  // his clock, which moves its first_seen_at below every other message; the following pages
  // must hold exactly `rest`.
  void PageOnceThenMoveFirstSight(const std::string& first, const std::vector<std::string>& rest) {
    v1::ListMessagesRequest req;
    req.set_page_size(1);
    v1::ListMessagesResponse page;
    ASSERT_TRUE(List(req, &page).ok());
    ASSERT_EQ(page.messages_size(), 1);
    EXPECT_EQ(page.messages(0).id(), first);
    Store({MakeEvent(first, "bob", v1::EVENT_KIND_RECEIVED, t0_)});
    std::vector<std::string> later;
    req.set_page_token(page.next_page_token());
    for (int pages = 0; pages < 10 && !req.page_token().empty(); ++pages) {
      page.Clear();
      ASSERT_TRUE(List(req, &page).ok());
      for (const auto& m : page.messages()) later.push_back(m.id());
      req.set_page_token(page.next_page_token());
    }
    EXPECT_EQ(later, rest);
    // The message itself shows the earlier sight.
    absl::StatusOr<v1::TrackedMessage> moved = flows_store_->GetMessage(first, false);
    ASSERT_TRUE(moved.ok()) << moved.status();
    EXPECT_EQ(moved->first_seen_at().seconds(), absl::ToUnixSeconds(t0_));
  }

  testing::TestDatabase db_;
  QueryExecutor executor_{2, 64};
  std::unique_ptr<storage::PgEventStore> events_;
  std::unique_ptr<storage::PgFlowStore> flows_store_;
  std::unique_ptr<FlowsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Flows::Stub> stub_;
  const absl::Time t0_ = absl::Now() - absl::Hours(2);
};

TEST_F(QueriesTest, PagingNeverSkipsOrRepeatsEvenWithTiedTimes) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 237; ++i) {
    // Groups of 7 messages share the same first_seen_at: the id breaks the tie.
    events.push_back(MakeEvent(wire::NewUuidV7(), i % 2 ? "alice" : "bob", v1::EVENT_KIND_SENT,
                               t0_ + absl::Milliseconds(i / 7)));
    events.back().set_destination(i % 3 ? "orders" : "billing");
  }
  Store(events);
  v1::ListMessagesRequest req;
  req.set_page_size(10);
  std::vector<v1::TrackedMessage> all = ListAll(req);
  ASSERT_EQ(all.size(), 237u);
  std::set<std::string> ids;
  for (size_t i = 0; i < all.size(); ++i) {
    ids.insert(all[i].id());
    EXPECT_EQ(all[i].events_size(), 0) << "listing leaves events out";
    if (i > 0) {
      const auto& a = all[i - 1];
      const auto& b = all[i];
      EXPECT_TRUE(std::make_tuple(a.first_seen_at().seconds(), a.first_seen_at().nanos(), a.id()) >
                  std::make_tuple(b.first_seen_at().seconds(), b.first_seen_at().nanos(), b.id()))
          << "newest first, strictly";
    }
  }
  EXPECT_EQ(ids.size(), 237u);

  req.set_service("alice");
  EXPECT_EQ(ListAll(req).size(), 118u);
  req.clear_service();
  req.set_destination("billing");
  EXPECT_EQ(ListAll(req).size(), 79u);
  req.clear_destination();
  req.set_kind(v1::EVENT_KIND_FAILED);
  EXPECT_EQ(ListAll(req).size(), 0u);
  req.clear_kind();
  testing::SetTime(t0_ + absl::Milliseconds(10), req.mutable_from());
  testing::SetTime(t0_ + absl::Milliseconds(20), req.mutable_to());
  EXPECT_EQ(ListAll(req).size(), 70u);
}

// A late event with an earlier time (another service's clock) moves a message's
// first_seen_at earlier; a message listed on an earlier page must not come again.
TEST_F(QueriesTest, PagingDoesNotRepeatAMessageWhoseFirstSightMovedEarlier) {
  const std::string m1 = wire::NewUuidV7(), m2 = wire::NewUuidV7(), m3 = wire::NewUuidV7();
  Store({MakeEvent(m1, "alice", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(3)),
         MakeEvent(m2, "alice", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(2)),
         MakeEvent(m3, "alice", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(1))});
  PageOnceThenMoveFirstSight(m1, {m2, m3});
}

TEST_F(QueriesTest, PagingDoesNotRepeatARowAnOldWriterStoredWithoutListingKey) {
  const std::string m1 = wire::NewUuidV7(), m2 = wire::NewUuidV7(), m3 = wire::NewUuidV7();
  Store({MakeEvent(m1, "alice", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(3)),
         MakeEvent(m2, "alice", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(2)),
         MakeEvent(m3, "alice", v1::EVENT_KIND_SENT, t0_ + absl::Seconds(1))});
  db_.Query("UPDATE messages SET listed_at = NULL");
  // Still listed, in first_seen_at order.
  v1::ListMessagesRequest req;
  std::vector<std::string> ids;
  for (const auto& m : ListAll(req)) ids.push_back(m.id());
  EXPECT_EQ(ids, (std::vector<std::string>{m1, m2, m3}));
  PageOnceThenMoveFirstSight(m1, {m2, m3});
}

TEST_F(QueriesTest, StateFilterPagesThroughDerivedStates) {
  std::vector<v1::Event> events;
  int failed = 0;
  for (int i = 0; i < 150; ++i) {
    const std::string id = wire::NewUuidV7();
    const absl::Time t = t0_ + absl::Milliseconds(i);
    events.push_back(MakeEvent(id, "alice", v1::EVENT_KIND_SENT, t));
    if (i % 5 == 0) {
      events.push_back(MakeEvent(id, "bob", v1::EVENT_KIND_FAILED, t + absl::Milliseconds(1)));
      ++failed;
    } else if (i % 5 == 1) {
      events.push_back(MakeEvent(id, "bob", v1::EVENT_KIND_PROCESSED, t + absl::Milliseconds(1)));
    }
  }
  for (int i = 0; i < 10; ++i) {  // just sent: in flight, not stuck yet
    events.push_back(MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, absl::Now()));
  }
  Store(events);
  v1::ListMessagesRequest req;
  req.set_page_size(7);
  req.set_state(v1::MESSAGE_STATE_FAILED);
  std::vector<v1::TrackedMessage> got = ListAll(req);
  ASSERT_EQ(static_cast<int>(got.size()), failed);
  for (const auto& m : got) EXPECT_EQ(m.state(), v1::MESSAGE_STATE_FAILED);
  req.set_state(v1::MESSAGE_STATE_STUCK);  // sent 2 h ago, nobody handled them (deadline 1 m)
  EXPECT_EQ(ListAll(req).size(), 90u);
  req.set_state(v1::MESSAGE_STATE_IN_FLIGHT);
  EXPECT_EQ(ListAll(req).size(), 10u);
}

// Unknown ids (NOT_FOUND) mixed with other queries on several threads: every call answers.
// A connection that went back to the pool before its transaction ended was once shared by
// two threads; calls then failed with INTERNAL or hung for good.
TEST_F(QueriesTest, NotFoundAmongOtherQueriesOnSeveralThreadsLeavesThePoolSound) {
  Store({MakeEvent(wire::NewUuidV7(), "a", v1::EVENT_KIND_SENT, t0_)});
  std::atomic<int> calls{0}, bad{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!stop.load()) {
        absl::Status st = t % 2 == 0
                              ? flows_store_->GetMessage(wire::NewUuidV7(), false).status()
                              : flows_store_->ListServices().status();
        if (!st.ok() && st.code() != absl::StatusCode::kNotFound) {
          if (bad.fetch_add(1) == 0) ADD_FAILURE() << st;
        }
        calls.fetch_add(1);
      }
    });
  }
  // Watched from here: a hung thread shows as calls that stop counting.
  int last = 0, stalled = 0;
  for (int i = 0; i < 30 && stalled < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    const int now = calls.load();
    stalled = now == last ? stalled + 1 : 0;
    last = now;
  }
  stop.store(true);
  ASSERT_LT(stalled, 10) << "no query finished for a second: a thread hangs";
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(calls.load(), 100);
}

TEST_F(QueriesTest, BadArgumentsAreInvalidArgument) {
  v1::ListMessagesResponse resp;
  v1::ListMessagesRequest req;
  req.set_page_token("garbage");
  EXPECT_EQ(List(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req.clear_page_token();
  req.set_page_size(5000);
  EXPECT_EQ(List(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req.set_page_size(10);
  req.set_state(static_cast<v1::MessageState>(42));
  EXPECT_EQ(List(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req.clear_state();
  testing::SetTime(t0_, req.mutable_from());
  testing::SetTime(t0_ - absl::Hours(1), req.mutable_to());
  EXPECT_EQ(List(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(QueriesTest, ListServicesHasFirstLastSeenAndInstances) {
  std::vector<v1::Event> events = {
      MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t0_),
      MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t0_ + absl::Minutes(5)),
      MakeEvent(wire::NewUuidV7(), "bob", v1::EVENT_KIND_NOTE, t0_ + absl::Minutes(1))};
  events[1].set_instance("host-2");
  Store(events);
  Store({MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t0_ - absl::Minutes(1))});
  grpc::ClientContext ctx;
  v1::ListServicesResponse resp;
  ASSERT_TRUE(stub_->ListServices(&ctx, v1::ListServicesRequest(), &resp).ok());
  ASSERT_EQ(resp.services_size(), 2);
  const auto& alice = resp.services(0);
  EXPECT_EQ(alice.name(), "alice");
  EXPECT_EQ(alice.first_seen_at().seconds(), absl::ToUnixSeconds(t0_ - absl::Minutes(1)));
  EXPECT_EQ(alice.last_seen_at().seconds(), absl::ToUnixSeconds(t0_ + absl::Minutes(5)));
  EXPECT_EQ(std::vector<std::string>(alice.instances().begin(), alice.instances().end()),
            (std::vector<std::string>{"host-2", "test-host"}));
  EXPECT_EQ(resp.services(1).name(), "bob");
}

TEST_F(QueriesTest, ServiceGraphCountsHopsFailuresAndLatencyInTheWindow) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 10; ++i) {
    const std::string id = wire::NewUuidV7();
    const absl::Time t = t0_ + absl::Seconds(i);
    events.push_back(MakeEvent(id, "alice", v1::EVENT_KIND_SENT, t));
    events.back().set_destination("orders");
    // bob handles every message 10..100 ms later; fails the last three.
    events.push_back(MakeEvent(id, "bob", v1::EVENT_KIND_RECEIVED, t + absl::Milliseconds(10 * (i + 1))));
    events.push_back(MakeEvent(id, "bob", i >= 7 ? v1::EVENT_KIND_FAILED : v1::EVENT_KIND_PROCESSED,
                               t + absl::Milliseconds(10 * (i + 1) + 5)));
  }
  // Out of the window: must not count.
  events.push_back(MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t0_ - absl::Hours(1)));
  std::shuffle(events.begin(), events.end(), std::mt19937(3));
  // Sent and never handled: stuck on the edge to bob (the messages' destination has a
  // handler), and on an edge to nobody for a destination no service handles.
  for (int i = 0; i < 2; ++i) {
    events.push_back(MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t0_));
    events.back().set_destination("orders");
  }
  events.push_back(MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t0_));
  events.back().set_destination("ghosts");
  Store(events);
  Store(events);  // duplicates change nothing
  FoldRollups();
  v1::GetServiceGraphResponse g;
  ASSERT_TRUE(Graph(t0_ - absl::Minutes(1), t0_ + absl::Minutes(1), &g).ok());
  ASSERT_EQ(g.nodes_size(), 2);
  EXPECT_EQ(g.nodes(0).name(), "alice");
  EXPECT_EQ(g.nodes(0).sent(), 13u);
  EXPECT_EQ(g.nodes(1).events(), 20u);
  EXPECT_EQ(g.nodes(1).failed(), 3u);
  ASSERT_EQ(g.edges_size(), 2);  // by sender, handler, destination: "" first
  const auto& nobody = g.edges(0);
  EXPECT_EQ(nobody.handler(), "");
  EXPECT_EQ(nobody.destination(), "ghosts");
  EXPECT_EQ(nobody.messages(), 0u);
  EXPECT_EQ(nobody.stuck(), 1u);
  const auto& e = g.edges(1);
  EXPECT_EQ(e.sender(), "alice");
  EXPECT_EQ(e.handler(), "bob");
  EXPECT_EQ(e.destination(), "orders");
  EXPECT_EQ(e.messages(), 10u);
  EXPECT_EQ(e.failures(), 3u);
  EXPECT_EQ(e.stuck(), 2u);
  // Median of 10..100 ms by nearest rank is 50 ms; the histogram's bins are <= 12.5 % wide.
  EXPECT_NEAR(e.p50().nanos() / 1e6, 50, 50 * 0.07);
  EXPECT_NEAR(e.p95().nanos() / 1e6, 100, 100 * 0.07);
  EXPECT_EQ(e.max().nanos(), 100000000);
  EXPECT_EQ(g.stuck_after().seconds(), 60);
  // A window of whole hours plus minutes at its ends reads hour rollups: same edge.
  const absl::Time from = t0_ - absl::Hours(3) + absl::Minutes(7);
  ASSERT_TRUE(Graph(from, std::nullopt, &g).ok());
  ASSERT_EQ(g.nodes_size(), 2);
  EXPECT_EQ(g.nodes(0).sent(), 14u);  // and the SENT an hour earlier
  ASSERT_EQ(g.edges_size(), 3);       // which had no destination: alice -> nobody via ""
  EXPECT_EQ(g.edges(0).destination(), "");
  EXPECT_EQ(g.edges(0).stuck(), 1u);
  EXPECT_EQ(g.edges(2).messages(), 10u);
  EXPECT_EQ(g.edges(2).stuck(), 2u);
  EXPECT_EQ(g.edges(2).max().nanos(), 100000000);
  EXPECT_EQ(Graph(from, from - absl::Seconds(1), &g).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Competing consumers share a destination's messages, and an auditor looks at some of them:
// no handler's edge is stuck for the messages others took; the one message nobody took is
// stuck, on an edge to nobody (it is no single handler's), as its state says.
TEST_F(QueriesTest, ServiceGraphCountsStuckAsSendsNobodyHandled) {
  std::vector<v1::Event> events;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(wire::NewUuidV7());
    const absl::Time t = t0_ + absl::Seconds(i);
    events.push_back(MakeEvent(ids.back(), "alice", v1::EVENT_KIND_SENT, t));
    events.back().set_destination("jobs");
    if (i == 9) continue;  // nobody takes it
    events.push_back(MakeEvent(ids.back(), i % 2 ? "w1" : "w2", v1::EVENT_KIND_PROCESSED,
                               t + absl::Milliseconds(20)));
    if (i < 3) {
      events.push_back(MakeEvent(ids.back(), "audit", v1::EVENT_KIND_NOTE,
                                 t + absl::Milliseconds(30)));
    }
  }
  Store(events);
  FoldRollups();
  v1::GetServiceGraphResponse g;
  ASSERT_TRUE(Graph(t0_ - absl::Minutes(1), t0_ + absl::Minutes(1), &g).ok());
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_handler;  // messages, stuck
  for (const auto& e : g.edges()) {
    EXPECT_EQ(e.sender(), "alice");
    EXPECT_EQ(e.destination(), "jobs");
    by_handler[e.handler()] = {e.messages(), e.stuck()};
  }
  EXPECT_EQ(by_handler, (std::map<std::string, std::pair<uint64_t, uint64_t>>{
                            {"", {0, 1}}, {"audit", {3, 0}}, {"w1", {4, 0}}, {"w2", {5, 0}}}));
  v1::ListMessagesRequest stuck;
  stuck.set_state(v1::MESSAGE_STATE_STUCK);
  const std::vector<v1::TrackedMessage> listed = ListAll(stuck);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id(), ids[9]);
}

// Six messages of 1 MiB content each: read with their content, the flow would be over the
// 4 MiB a default gRPC client takes (it would fail RESOURCE_EXHAUSTED). The answer keeps what
// fits, in answer order, and says truncated.
TEST_F(QueriesTest, GetFlowStaysUnderWhatADefaultClientAccepts) {
  const std::string root = wire::NewUuidV7();
  std::vector<v1::Event> events;
  for (int i = 0; i < 6; ++i) {
    const std::string id = i == 0 ? root : wire::NewUuidV7();
    events.push_back(i == 0 ? MakeEvent(id, "alice", v1::EVENT_KIND_SENT, t0_)
                            : MakeEvent(id, "alice", v1::EVENT_KIND_SENT,
                                        t0_ + absl::Seconds(i), root, root, 1));
    events.back().set_content(std::string(1 << 20, static_cast<char>('a' + i)));
  }
  Store(events);
  grpc::ClientContext ctx;
  v1::GetFlowRequest req;
  req.set_message_id(root);
  req.set_include_content(true);
  v1::GetFlowResponse flow;
  const grpc::Status st = stub_->GetFlow(&ctx, req, &flow);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(flow.truncated());
  ASSERT_EQ(flow.messages_size(), 3);
  EXPECT_EQ(flow.messages(0).id(), root);
  EXPECT_EQ(flow.messages(2).content()[0], 'c');
  // Without content the whole flow comes.
  grpc::ClientContext ctx2;
  req.set_include_content(false);
  ASSERT_TRUE(stub_->GetFlow(&ctx2, req, &flow).ok());
  EXPECT_FALSE(flow.truncated());
  EXPECT_EQ(flow.messages_size(), 6);
}

TEST_F(QueriesTest, MessageStatesViewAgreesWithTheServer) {
  // Random event sets (kinds, services, order, replays) per message: the psql view must
  // derive the same state as the server does.
  std::mt19937 rng(7);
  const v1::EventKind kinds[] = {v1::EVENT_KIND_SENT,      v1::EVENT_KIND_RECEIVED,
                                 v1::EVENT_KIND_PROCESSED, v1::EVENT_KIND_FAILED,
                                 v1::EVENT_KIND_NOTE,      v1::EVENT_KIND_REPLAYED};
  const char* services[] = {"alice", "bob", "carl"};
  std::vector<v1::Event> events;
  std::vector<std::string> ids;
  for (int m = 0; m < 120; ++m) {
    ids.push_back(wire::NewUuidV7());
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      // A third of the messages are recent: in flight, not yet stuck.
      const absl::Time base = m % 3 == 0 ? absl::Now() - absl::Seconds(5) : t0_;
      events.push_back(MakeEvent(ids.back(), services[rng() % 3], kinds[rng() % 6],
                                 base + absl::Milliseconds(m * 10 + static_cast<int>(rng() % 8))));
      // Some sends go to a destination with a one-day deadline: never stuck here.
      if (events.back().kind() == v1::EVENT_KIND_SENT && rng() % 2 == 0) {
        events.back().set_destination("slowq");
      }
    }
  }
  std::shuffle(events.begin(), events.end(), rng);
  Store(events);
  db_.Query("INSERT INTO stuck_deadlines VALUES ('destination', 'slowq', interval '1 day')");
  StuckDeadlines deadlines;  // as the evaluator recorded them
  deadlines.by_destination["slowq"] = absl::Hours(24);
  std::map<std::string, int> states;
  std::map<std::string, std::string> view;
  for (const auto& row : db_.Query("SELECT message_id, state FROM message_states"))
    view[row[0]] = row[1];
  ASSERT_EQ(view.size(), ids.size());
  for (const std::string& id : ids) {
    auto m = flows_store_->GetMessage(id, false);
    ASSERT_TRUE(m.ok());
    DeriveMessageFacts(*m, &deadlines, absl::Now());
    EXPECT_EQ("MESSAGE_STATE_" + view[id], v1::MessageState_Name(m->state())) << id;
    ++states[view[id]];
  }
  for (const char* state : {"STUCK", "IN_FLIGHT", "RECEIVED", "PROCESSED", "FAILED"}) {
    EXPECT_GT(states[state], 0) << "the random sets must cover " << state;
  }
  EXPECT_GT(std::stoi(db_.Scalar("SELECT count(*) FROM service_edges")), 0);
}

}  // namespace
}  // namespace utracker::server::query
