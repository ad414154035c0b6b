// The client library and CLI against the built server and a real PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "support/process.h"
#include "support/test_database.h"
#include "utracker/utracker.h"

namespace utracker {
namespace {

using testing::AwaitListening;
using testing::ChildProcess;
using testing::ServerArgs;

TEST(ClientE2E, TenThousandEventsSurviveAServerKilledAndRestartedMidStream) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  auto server = std::make_unique<ChildProcess>(UTRACKER_SERVER_BIN, ServerArgs(db.url(), 0));
  const int port = AwaitListening(*server);
  ASSERT_GT(port, 0);

  Config config;
  config.service = "loadgen";
  config.server = "127.0.0.1:" + std::to_string(port);
  config.max_buffered_events = 20000;
  config.max_batch_events = 200;
  config.min_backoff = absl::Milliseconds(50);
  config.max_backoff = absl::Milliseconds(500);
  auto client = Client::Create(config);
  ASSERT_TRUE(client.ok()) << client.status();

  constexpr int kEvents = 10000;
  for (int i = 0; i < kEvents; ++i) {
    if (i == kEvents / 3) {
      // SIGKILL: no graceful anything; batches in flight are lost by the server unacked.
      ASSERT_EQ(server->Signal(SIGKILL, absl::Seconds(10)), std::optional<int>(128 + SIGKILL));
    }
    if (i == kEvents / 2) {
      server = std::make_unique<ChildProcess>(UTRACKER_SERVER_BIN, ServerArgs(db.url(), port));
      ASSERT_EQ(AwaitListening(*server), port);
    }
    Message m = (*client)->Pack(std::to_string(i), "text/plain");
    LogOptions o;
    o.destination = "sink";
    m.Log(kSent, o);
    if (i % 100 == 0) absl::SleepFor(absl::Milliseconds(2));  // spread over ~0.2 s+
  }
  absl::Status flushed = (*client)->Flush(absl::Seconds(60));
  ASSERT_TRUE(flushed.ok()) << flushed;
  Stats s = (*client)->stats();
  EXPECT_EQ(s.logged, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_GT(s.reconnects, 1u) << "the kill must have forced a reconnect";
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM events"), std::to_string(kEvents));
  EXPECT_EQ(db.Scalar("SELECT count(DISTINCT event_id) FROM events"), std::to_string(kEvents));
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM messages WHERE origin_service = 'loadgen'"),
            std::to_string(kEvents));
  (*client)->Shutdown(absl::Seconds(1));
}

std::pair<int, std::string> Cli(std::vector<std::string> args) {
  args.insert(args.begin(), UTRACKER_CLI_BIN);
  return testing::RunCommand(args);
}

TEST(ClientE2E, CliLogsEventsAndShowsTheFlow) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  ChildProcess server(UTRACKER_SERVER_BIN, ServerArgs(db.url(), 0));
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);
  const std::string addr = "--server=127.0.0.1:" + std::to_string(port);

  auto [rc, out] = Cli({"log", addr, "--service", "alice", "--kind", "sent", "--destination", "bob",
                        "--name", "sending_content", "--attr", "order=42"});
  ASSERT_EQ(rc, 0);
  const std::string root(absl::StripTrailingAsciiWhitespace(out));
  ASSERT_EQ(root.size(), 36u) << out;
  EXPECT_EQ(Cli({"log", addr, "--service", "bob", "--kind", "received", "--message", root}).first,
            0);
  const std::string child = "0190a1a0-0000-7000-8000-0000000000cc";
  EXPECT_EQ(Cli({"log", addr, "--service", "bob", "--kind", "sent", "--message", child, "--parent",
                 root, "--root", root, "--destination", "carl"})
                .first,
            0);
  EXPECT_EQ(Cli({"log", addr, "--service", "carl", "--kind", "failed", "--message", child,
                 "--parent", root, "--root", root, "--error", "db down"})
                .first,
            0);

  auto [frc, flow] = Cli({"flow", addr, child});
  ASSERT_EQ(frc, 0);
  EXPECT_TRUE(absl::StrContains(flow, "flow " + root + " (2 messages)")) << flow;
  EXPECT_TRUE(absl::StrContains(flow, root + "  alice → bob  RECEIVED  send→receive")) << flow;
  EXPECT_TRUE(absl::StrContains(flow, child + "  bob → carl  FAILED")) << flow;
  EXPECT_TRUE(absl::StrContains(flow, "error: db down")) << flow;
  EXPECT_LT(flow.find(root + "  alice"), flow.find(child + "  bob")) << "child under its root";

  auto [jrc, json] = Cli({"flow", addr, root, "--format", "json"});
  EXPECT_EQ(jrc, 0);
  EXPECT_TRUE(absl::StrContains(json, "\"root_id\": \"" + root + "\"")) << json;
  auto [mrc, msg] = Cli({"message", addr, root});
  EXPECT_EQ(mrc, 0);
  EXPECT_TRUE(absl::StrContains(msg, "handled by bob")) << msg;
  EXPECT_EQ(db.Scalar("SELECT attributes->>'order' FROM events WHERE name = 'sending_content'"),
            "42");

  auto [mmrc, mermaid] = Cli({"flow", addr, root, "--format", "mermaid"});
  EXPECT_EQ(mmrc, 0);
  EXPECT_TRUE(absl::StartsWith(mermaid, "sequenceDiagram\n")) << mermaid;
  EXPECT_TRUE(absl::StrContains(mermaid, "Note right of s2: FAILED db down")) << mermaid;

  auto [drc, flow_svg] = Cli({"flow", addr, child, "--format", "svg"});
  EXPECT_EQ(drc, 0);
  EXPECT_TRUE(absl::StrContains(flow_svg, "<svg")) << flow_svg.substr(0, 200);
  EXPECT_TRUE(absl::StrContains(flow_svg, "db down")) << "the failure is drawn";

  auto [lrc, listing] = Cli({"messages", addr, "--state", "failed"});
  EXPECT_EQ(lrc, 0);
  EXPECT_TRUE(absl::StrContains(listing, child + "  bob → carl  FAILED")) << listing;
  EXPECT_FALSE(absl::StrContains(listing, root)) << listing;
  auto [p1rc, page1] = Cli({"messages", addr, "--limit", "1"});
  EXPECT_EQ(p1rc, 0);
  EXPECT_TRUE(absl::StrContains(page1, "more: --page_token ")) << page1;
  // The graph reads the rollups, which trail ingest by about --rollup_interval (100 ms).
  std::pair<int, std::string> graph_out;
  for (int i = 0; i < 100; ++i) {
    graph_out = Cli({"graph", addr, "--since", "1h"});
    if (absl::StrContains(graph_out.second, "\"bob\" -> \"carl\"")) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  auto [grc, graph] = graph_out;
  EXPECT_EQ(grc, 0);
  EXPECT_TRUE(absl::StrContains(graph, "\"bob\" -> \"carl\" [label=\"1 msgs, p95 ")) << graph;
  EXPECT_TRUE(absl::StrContains(graph, "1 failed\", color=red")) << graph;
  // --to alone: the hour before it (the server's default window), not an error.
  const std::string soon =
      absl::FormatTime(absl::RFC3339_sec, absl::Now() + absl::Minutes(1), absl::UTCTimeZone());
  auto [torc, to_graph] = Cli({"graph", addr, "--to", soon});
  EXPECT_EQ(torc, 0) << to_graph;
  EXPECT_TRUE(absl::StrContains(to_graph, "\"bob\" -> \"carl\"")) << to_graph;
  // A time protobuf cannot hold is a usage error, not a crash.
  auto [farrc, far] = Cli({"messages", addr, "--from", "0000-01-01T00:00:00Z"});
  EXPECT_EQ(farrc, 2) << far;  // it aborted (134) before
  auto [svgrc, svg] = Cli({"graph", addr, "--format", "svg"});
  EXPECT_EQ(svgrc, 0);
  EXPECT_TRUE(absl::StrContains(svg, "<svg")) << "Graphviz renders it (installed by the test command)";
  auto [src, services] = Cli({"services", addr});
  EXPECT_EQ(src, 0);
  EXPECT_TRUE(absl::StrContains(services, "alice  first ")) << services;
  EXPECT_TRUE(absl::StrContains(services, "\ncarl  first ")) << services;

  EXPECT_EQ(Cli({"message", addr, "0190a1a0-0000-7000-8000-00000000ffff"}).first, 1);  // not found
  EXPECT_EQ(Cli({"message", addr, "nope"}).first, 2);
  EXPECT_EQ(Cli({"log", addr, "--service", "x", "--kind", "bogus"}).first, 2);
  EXPECT_EQ(
      Cli({"log", addr, "--service", "x", "--kind", "sent", "--message", root, "--depth", "3"})
          .first,
      2)
      << "a root at depth 3 is refused before sending";
  EXPECT_EQ(Cli({"flow", "--server=127.0.0.1:1", "--timeout=1s", root}).first, 3);
  EXPECT_EQ(Cli({"log", "--server=127.0.0.1:1", "--timeout=1s", "--service", "x", "--kind", "note"})
                .first,
            3);
  auto [hrc, help] = Cli({"flow", "--help"});
  EXPECT_EQ(hrc, 0);
  EXPECT_TRUE(absl::StrContains(help, "usage: utracker flow"));
}

}  // namespace
}  // namespace utracker
