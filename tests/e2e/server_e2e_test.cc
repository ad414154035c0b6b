// The built utracker-server against a real PostgreSQL: stream events, read them back over
// gRPC and with psql, shut down gracefully, restart on the same data.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/event_factory.h"
#include "support/local_channel.h"
#include "support/loopback.h"
#include "support/process.h"
#include "support/test_database.h"
#include "utracker/v1/flows.grpc.pb.h"
#include "utracker/v1/tracker.grpc.pb.h"
#include "wire/uuid.h"

namespace utracker {
namespace {

using testing::AwaitListening;
using testing::ChildProcess;
using testing::ServerArgs;

std::string Psql(const std::string& url, const std::string& sql) {
  auto [code, out] = testing::RunCommand({UTRACKER_PSQL_BIN, url, "-Atc", sql});
  EXPECT_EQ(code, 0) << "psql failed for: " << sql;
  return std::string(absl::StripTrailingAsciiWhitespace(out));
}

TEST(ServerE2E, StreamEventsReadThemBackOverGrpcAndPsqlThenRestart) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  const std::string root = wire::NewUuidV7(), child = wire::NewUuidV7();
  const absl::Time t0 = absl::Now() - absl::Seconds(5);  // recent: in flight, not stuck
  std::string migrations;
  {
    ChildProcess server(UTRACKER_SERVER_BIN, ServerArgs(db.url()));
    const int port = AwaitListening(server);
    ASSERT_GT(port, 0);
    auto channel = testing::LocalChannel(port);

    {
      grpc::ClientContext ctx;
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse health;
      req.set_service("utracker.v1.Tracker");
      ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel)->Check(&ctx, req, &health).ok());
      EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    }

    // Three good events and one bad one in the same request.
    v1::LogEventsRequest req;
    req.set_seq(1);
    *req.add_events() = testing::MakeEvent(root, "alice", v1::EVENT_KIND_SENT, t0);
    req.mutable_events(0)->set_destination("bob");
    *req.add_events() =
        testing::MakeEvent(root, "bob", v1::EVENT_KIND_RECEIVED, t0 + absl::Milliseconds(250));
    v1::Event bad = req.events(1);
    bad.set_event_id(wire::NewUuidV7());
    bad.set_service("");
    *req.add_events() = bad;
    *req.add_events() = testing::MakeEvent(child, "bob", v1::EVENT_KIND_SENT,
                                           t0 + absl::Milliseconds(300), root, root, 1);
    {
      grpc::ClientContext ctx;
      auto stream = v1::Tracker::NewStub(channel)->LogEvents(&ctx);
      ASSERT_TRUE(stream->Write(req));
      ASSERT_TRUE(stream->Write(req));  // a retry of the same request: stored once
      v1::LogEventsResponse resp;
      for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(stream->Read(&resp));
        EXPECT_EQ(resp.seq(), 1u);
        EXPECT_EQ(resp.accepted(), 3u);
        ASSERT_EQ(resp.rejected_size(), 1);
        EXPECT_EQ(resp.rejected(0).index(), 2u);
        EXPECT_EQ(resp.rejected(0).reason(), "service: is required");
      }
      stream->WritesDone();
      ASSERT_TRUE(stream->Finish().ok());
    }

    auto flows = v1::Flows::NewStub(channel);
    {
      grpc::ClientContext ctx;
      v1::GetFlowRequest fr;
      fr.set_message_id(child);
      v1::GetFlowResponse flow;
      grpc::Status st = flows->GetFlow(&ctx, fr, &flow);
      ASSERT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(flow.root_id(), root);
      ASSERT_EQ(flow.messages_size(), 2);
      EXPECT_EQ(flow.messages(0).id(), root);
      EXPECT_EQ(flow.messages(0).origin_service(), "alice");
      EXPECT_EQ(flow.messages(0).state(), v1::MESSAGE_STATE_RECEIVED);
      EXPECT_EQ(flow.messages(0).send_to_receive().nanos(), 250000000);
      ASSERT_EQ(flow.messages(0).events_size(), 2);
      EXPECT_EQ(flow.messages(0).events(0).destination(), "bob");
      EXPECT_EQ(flow.messages(1).id(), child);
      EXPECT_EQ(flow.messages(1).parent_id(), root);
      EXPECT_EQ(flow.messages(1).state(), v1::MESSAGE_STATE_IN_FLIGHT);
    }
    {
      grpc::ClientContext ctx;
      v1::GetMessageRequest mr;
      mr.set_message_id("not-an-id");
      v1::GetMessageResponse m;
      grpc::Status st = flows->GetMessage(&ctx, mr, &m);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_NE(st.error_message().find("not a UUID"), std::string::npos);
    }

    EXPECT_EQ(Psql(db.url(), "SELECT count(*) FROM events"), "3");
    EXPECT_EQ(Psql(db.url(),
                   "SELECT string_agg(service || ':' || kind, ',' ORDER BY occurred_at)"
                   " FROM events"),
              "alice:sent,bob:received,bob:sent");
    EXPECT_EQ(Psql(db.url(), "SELECT count(*) FROM messages WHERE root_id = '" + root + "'"), "2");

    migrations = Psql(db.url(), "SELECT count(*) FROM schema_migrations");
    EXPECT_EQ(server.Signal(SIGTERM, absl::Seconds(20)), std::optional<int>(0));
  }

  // Restart on the same database: no migration to apply, the data is still there.
  ChildProcess again(UTRACKER_SERVER_BIN, ServerArgs(db.url()));
  const int port = AwaitListening(again);
  ASSERT_GT(port, 0);
  EXPECT_EQ(Psql(db.url(), "SELECT count(*) FROM schema_migrations"), migrations);
  grpc::ClientContext ctx;
  v1::GetMessageRequest mr;
  mr.set_message_id(root);
  v1::GetMessageResponse m;
  ASSERT_TRUE(v1::Flows::NewStub(testing::LocalChannel(port))->GetMessage(&ctx, mr, &m).ok());
  EXPECT_EQ(m.message().events_size(), 2);
  EXPECT_EQ(again.Signal(SIGINT, absl::Seconds(20)), std::optional<int>(0));
}

TEST(ServerE2E, ShutdownWithAnOpenStreamFinishesItAndExitsZero) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  ChildProcess server(UTRACKER_SERVER_BIN, ServerArgs(db.url()));
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);
  grpc::ClientContext ctx;
  auto stream = v1::Tracker::NewStub(testing::LocalChannel(port))->LogEvents(&ctx);
  v1::LogEventsRequest req;
  req.set_seq(5);
  for (int i = 0; i < 500; ++i) {
    *req.add_events() = testing::MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT,
                                           absl::Now() - absl::Seconds(1));
  }
  ASSERT_TRUE(stream->Write(req));
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.accepted(), 500u);
  // The client keeps its stream open and waits for more acks, as a real client's reader
  // does; SIGTERM must end its stream with UNAVAILABLE and the server well before the grace
  // period (5 s) runs out. (A client that never reads holds its connection until then.)
  grpc::Status end;
  std::thread reader([&] {
    v1::LogEventsResponse more;
    EXPECT_FALSE(stream->Read(&more));
    end = stream->Finish();
  });
  const absl::Time before = absl::Now();
  EXPECT_EQ(server.Signal(SIGTERM, absl::Seconds(20)), std::optional<int>(0));
  EXPECT_LT(absl::Now() - before, absl::Seconds(4));
  reader.join();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Psql(db.url(), "SELECT count(*) FROM events"), "500");
}

// PostgreSQL blocks a store mid-transaction (another session holds a lock on events; the
// writer's connection is already open, so its COPY waits): at SIGTERM the batch's store gets
// the grace period (1 s), then is cancelled, unacked, and the server exits — not after the
// 60 s statement timeout. Nothing of that batch is stored; the one before it is.
TEST(ServerE2E, ShutdownCancelsAStoreThatTheDatabaseBlocks) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  std::vector<std::string> args = ServerArgs(db.url());
  args.push_back("--shutdown_grace=1s");
  args.push_back("--writers=1");
  ChildProcess server(UTRACKER_SERVER_BIN, args);
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);
  grpc::ClientContext ctx;
  auto stream = v1::Tracker::NewStub(testing::LocalChannel(port))->LogEvents(&ctx);
  auto send = [&](int seq) {
    v1::LogEventsRequest req;
    req.set_seq(seq);
    for (int i = 0; i < 10; ++i) {
      *req.add_events() = testing::MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT,
                                             absl::Now() - absl::Seconds(1));
    }
    return stream->Write(req);
  };
  ASSERT_TRUE(send(1));
  v1::LogEventsResponse first;
  ASSERT_TRUE(stream->Read(&first));
  ASSERT_EQ(first.accepted(), 10u);
  // Only this test's database: other tests may run beside it on the same PostgreSQL.
  const std::string here = " AND datname = current_database()";
  ChildProcess locker(UTRACKER_PSQL_BIN,
                      {db.url(), "-Atc",
                       "BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)"});
  auto locked = [&] {
    return Psql(db.url(), "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                          " WHERE c.relname = 'events' AND l.mode = 'AccessExclusiveLock'"
                          " AND l.granted AND l.database = (SELECT oid FROM pg_database"
                          " WHERE datname = current_database())") == "1";
  };
  for (int i = 0; i < 100 && !locked(); ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(locked());
  ASSERT_TRUE(send(2));
  auto waiting = [&] {
    return Psql(db.url(), "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                          " 'utracker-ingest' AND wait_event_type = 'Lock'" + here) != "0";
  };
  for (int i = 0; i < 100 && !waiting(); ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(waiting()) << "the server's store never blocked on the lock";
  grpc::Status end;
  std::thread reader([&] {
    v1::LogEventsResponse resp;
    EXPECT_FALSE(stream->Read(&resp)) << "acked while the database held the batch";
    end = stream->Finish();
  });
  const absl::Time before = absl::Now();
  const std::optional<int> code = server.Signal(SIGTERM, absl::Seconds(30));
  const absl::Duration took = absl::Now() - before;
  Psql(db.url(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" + here);
  reader.join();
  EXPECT_EQ(code, std::optional<int>(0));
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Psql(db.url(), "SELECT count(*) FROM events"), "10");
}

TEST(ServerE2E, MigrateOnlyAppliesAndExits) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto [code, out] =
      testing::RunCommand({UTRACKER_SERVER_BIN, "--database_url=" + db.url(), "--migrate_only"});
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Psql(db.url(), "SELECT count(*) FROM events"), "0");
  auto [code2, out2] = testing::RunCommand({UTRACKER_SERVER_BIN, "--migrate_only"});
  EXPECT_EQ(code2, 2) << "no database URL must be a usage error";
}

// A database host that drops packets: checking the schema gives up after its connect timeout
// and the server starts anyway (it waits for the database, NOT_SERVING), instead of spending
// the kernel's ~2 minutes of connection retries before a word.
TEST(ServerE2E, StartsPromptlyWhileTheDatabaseHostDropsPackets) {
  testing::BlackHole hole;
  ASSERT_TRUE(hole.Drops(absl::Milliseconds(300)))
      << "this kernel answered a connection to a full listener; the test cannot run here";
  const absl::Time start = absl::Now();
  ChildProcess server(UTRACKER_SERVER_BIN,
                      {"--listen=127.0.0.1:0", "--shutdown_grace=1s",
                       "--database_url=postgresql://nobody@" + hole.address() + "/none"});
  ASSERT_GT(AwaitListening(server), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(25));  // two 5 s timeouts: schema check, ping
  EXPECT_EQ(server.Signal(SIGTERM, absl::Seconds(30)), 0);
}

// Without --migrate, a server newer than its database's schema refuses to start with a
// reason instead of failing every ingest batch on a column the schema lacks.
TEST(ServerE2E, RefusesASchemaOlderThanItsMigrations) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto [code, out] =
      testing::RunCommand({UTRACKER_SERVER_BIN, "--database_url=" + db.url(), "--migrate_only"});
  ASSERT_EQ(code, 0) << out;
  const std::string latest = Psql(db.url(), "SELECT max(version) FROM schema_migrations");
  Psql(db.url(), "DELETE FROM schema_migrations WHERE version = " + latest);
  // The reason goes to stderr: through a shell, into what RunCommand reads.
  auto [code2, out2] = testing::RunCommand({"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1",
                                            UTRACKER_SERVER_BIN, "--database_url=" + db.url(),
                                            "--listen=127.0.0.1:0"});
  EXPECT_EQ(code2, 1);
  EXPECT_NE(out2.find("needs " + latest + ": start it once with --migrate"), std::string::npos)
      << out2;
}

}  // namespace
}  // namespace utracker
