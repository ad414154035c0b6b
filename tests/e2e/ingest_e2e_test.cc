// The ingest path end to end: the built server, a real PostgreSQL (behind a TCP proxy where
// the test cuts the line), the client library and raw gRPC clients.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/event_factory.h"
#include "support/local_channel.h"
#include "support/process.h"
#include "support/tcp_proxy.h"
#include "support/test_database.h"
#include "utracker/utracker.h"
#include "utracker/v1/tracker.grpc.pb.h"
#include "wire/event_validation.h"
#include "wire/uuid.h"

namespace utracker {
namespace {

using testing::AwaitListening;
using testing::ChildProcess;
using testing::ServerArgs;

grpc::health::v1::HealthCheckResponse::ServingStatus Health(int port) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("utracker.v1.Tracker");
  grpc::health::v1::HealthCheckResponse resp;
  if (!grpc::health::v1::Health::NewStub(testing::LocalChannel(port))
           ->Check(&ctx, req, &resp)
           .ok()) {
    return grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }
  return resp.status();
}

// Polls until `pred` holds or `timeout` passes (waiting on another process's state).
template <typename Pred>
bool Eventually(Pred pred, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return pred();
}

Config ClientConfig(int port) {
  Config c;
  c.service = "loadgen";
  c.server = "127.0.0.1:" + std::to_string(port);
  c.min_backoff = absl::Milliseconds(50);
  c.max_backoff = absl::Milliseconds(500);
  c.diagnostics = [](absl::string_view) {};
  return c;
}

void LogMany(Client& client, int n) {
  for (int i = 0; i < n; ++i) client.Pack(std::to_string(i), "text/plain").Log(kSent);
}

TEST(IngestE2E, PostgresGoneThenBackEverythingStoredExactlyOnce) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  // The server reaches PostgreSQL only through the proxy.
  const std::string url = db.url();
  const size_t at = url.rfind('@'), colon = url.find(':', at), slash = url.find('/', at);
  int pg_port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(url.substr(colon + 1, slash - colon - 1), &pg_port)) << url;
  testing::TcpProxy proxy(url.substr(at + 1, colon - at - 1), pg_port);
  const int proxy_port = proxy.Start();
  ASSERT_GT(proxy_port, 0);
  const std::string via_proxy =
      url.substr(0, colon + 1) + std::to_string(proxy_port) + url.substr(slash);

  ChildProcess server(UTRACKER_SERVER_BIN, ServerArgs(via_proxy));
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);
  auto client = Client::Create(ClientConfig(port));
  ASSERT_TRUE(client.ok());
  LogMany(**client, 3000);
  ASSERT_TRUE((*client)->Flush(absl::Seconds(30)).ok());
  EXPECT_EQ(Health(port), grpc::health::v1::HealthCheckResponse::SERVING);

  proxy.Cut();  // PostgreSQL unreachable
  LogMany(**client, 3000);
  EXPECT_EQ((*client)->Flush(absl::Seconds(2)).code(), absl::StatusCode::kDeadlineExceeded)
      << "nothing may be acked while PostgreSQL is unreachable";
  EXPECT_TRUE(
      Eventually([&] { return Health(port) == grpc::health::v1::HealthCheckResponse::NOT_SERVING; },
                 absl::Seconds(15)));
  EXPECT_EQ((*client)->stats().acked, 3000u);

  proxy.Restore();  // back
  ASSERT_TRUE((*client)->Flush(absl::Seconds(60)).ok());
  EXPECT_TRUE(
      Eventually([&] { return Health(port) == grpc::health::v1::HealthCheckResponse::SERVING; },
                 absl::Seconds(15)));
  EXPECT_EQ((*client)->stats().acked, 6000u);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM events"), "6000");
  EXPECT_EQ(db.Scalar("SELECT count(DISTINCT event_id) FROM events"), "6000");
  (*client)->Shutdown(absl::Seconds(1));
  EXPECT_EQ(server.Signal(SIGTERM, absl::Seconds(20)), std::optional<int>(0));
}

TEST(IngestE2E, TenThousandEventsWithFourPoisonedOnes) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  ChildProcess server(UTRACKER_SERVER_BIN, ServerArgs(db.url()));
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);
  v1::LogEventsRequest req;
  req.set_seq(1);
  for (int i = 0; i < 10000; ++i) {
    *req.add_events() = testing::MakeEvent(wire::NewUuidV7(), "svc", v1::EVENT_KIND_SENT,
                                           absl::Now() - absl::Seconds(10));
  }
  req.mutable_events(1234)->set_name(std::string("nul\0byte", 8));
  req.mutable_events(2345)->set_message_id("0190a1a0-zzzz-7000-8000-0000000000aa");
  req.mutable_events(3456)->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()) +
                                                               86400 * 365);
  req.mutable_events(4567)->set_destination(std::string(wire::kMaxDestinationBytes + 1, 'd'));
  grpc::ClientContext ctx;
  auto stream = v1::Tracker::NewStub(testing::LocalChannel(port))->LogEvents(&ctx);
  ASSERT_TRUE(stream->Write(req));
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.accepted(), 9996u);
  ASSERT_EQ(resp.rejected_size(), 4);
  EXPECT_EQ(resp.rejected(0).index(), 1234u);
  EXPECT_TRUE(absl::StrContains(resp.rejected(0).reason(), "NUL")) << resp.rejected(0).reason();
  EXPECT_EQ(resp.rejected(1).index(), 2345u);
  EXPECT_TRUE(absl::StartsWith(resp.rejected(1).reason(), "message_id"))
      << resp.rejected(1).reason();
  EXPECT_EQ(resp.rejected(2).index(), 3456u);
  EXPECT_TRUE(absl::StartsWith(resp.rejected(2).reason(), "occurred_at"))
      << resp.rejected(2).reason();
  EXPECT_EQ(resp.rejected(3).index(), 4567u);
  EXPECT_TRUE(absl::StrContains(resp.rejected(3).reason(), "limit is 256"))
      << resp.rejected(3).reason();
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM events"), "9996");
}

TEST(IngestE2E, InvalidUtf8FromTheClientLibraryIsStoredSanitisedWithoutRetrying) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  ChildProcess server(UTRACKER_SERVER_BIN, ServerArgs(db.url()));
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);
  auto client = Client::Create(ClientConfig(port));
  ASSERT_TRUE(client.ok());
  Message m = (*client)->Pack("x", "text/plain");
  LogOptions bad;
  bad.name = "caf\xc3 \xff";  // invalid UTF-8: protobuf would refuse the whole request
  bad.attributes["k\xfe"] = "v\xc0\xaf";
  m.Log(kSent, bad);
  LogMany(**client, 99);
  ASSERT_TRUE((*client)->Flush(absl::Seconds(20)).ok());
  Stats s = (*client)->stats();
  EXPECT_EQ(s.acked, 100u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.reconnects, 1u) << "one stream, no retry loop";
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM events"), "100");
  EXPECT_EQ(db.Scalar("SELECT name FROM events WHERE message_id = '" + m.id() + "'"),
            "caf\xef\xbf\xbd \xef\xbf\xbd");
  EXPECT_EQ(db.Scalar("SELECT attributes::text FROM events WHERE message_id = '" + m.id() + "'"),
            "{\"k\xef\xbf\xbd\": \"v\xef\xbf\xbd\xef\xbf\xbd\"}");
  (*client)->Shutdown(absl::Seconds(1));
}

int64_t PeakRssMb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      int64_t kb = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &kb))
        return kb / 1024;
    }
  }
  return -1;
}

TEST(IngestE2E, AFastAndASlowClientKeepServerMemoryUnderItsBound) {
#ifdef __SANITIZE_ADDRESS__
  // The server is built like this test: its shadow memory, redzones and quarantine (536 MB
  // peak, measured) say nothing about the server's own bound.
  GTEST_SKIP() << "server memory is not measurable under AddressSanitizer";
#endif
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  // A small in-flight budget makes the bound easy to check: 32 MiB + one request per stream.
  std::vector<std::string> args = ServerArgs(db.url());
  args.push_back("--max_inflight_bytes=33554432");
  ChildProcess server(UTRACKER_SERVER_BIN, args);
  const int port = AwaitListening(server);
  ASSERT_GT(port, 0);

  // The slow client writes big requests and never reads an answer.
  std::atomic<bool> stop{false};
  std::thread slow([&] {
    grpc::ClientContext ctx;
    auto stream = v1::Tracker::NewStub(testing::LocalChannel(port))->LogEvents(&ctx);
    v1::LogEventsRequest req;
    for (int i = 0; i < 2000; ++i) {
      v1::Event e = testing::MakeEvent(wire::NewUuidV7(), "slow", v1::EVENT_KIND_SENT, absl::Now());
      e.set_error(std::string(2000, 'e'));
      *req.add_events() = e;
    }
    for (uint64_t s = 1; !stop && s < 200; ++s) {
      for (auto& e : *req.mutable_events()) e.set_event_id(wire::NewUuidV7());
      req.set_seq(s);
      if (!stream->Write(req)) break;
    }
    ctx.TryCancel();
  });
  // The fast client pushes 200 000 events through the library as fast as it can.
  Config c = ClientConfig(port);
  c.max_buffered_events = 300000;
  c.max_buffered_bytes = size_t{1} << 30;  // all 200 000 fit: none may be dropped
  auto fast = Client::Create(c);
  ASSERT_TRUE(fast.ok());
  LogMany(**fast, 200000);
  ASSERT_TRUE((*fast)->Flush(absl::Seconds(120)).ok());
  stop = true;
  const int64_t peak = PeakRssMb(server.pid());
  slow.join();
  // Bound: 32 MiB budget + ~4 MiB in hand per stream + the process's own ~100 MiB.
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 200) << "server peak RSS " << peak << " MiB";
  std::printf("server peak RSS %lld MiB\n", static_cast<long long>(peak));
  (*fast)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace utracker
