// The LogEvents reactor on a real in-process gRPC server (port 0) in front of a fake store.
#include "ingest/tracker_service.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "support/event_factory.h"
#include "support/fake_event_store.h"
#include "wire/uuid.h"

namespace utracker::server::ingest {
namespace {

using testing::FakeEventStore;

class TrackerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(TrackerService::Options{}); }

  void StartServer(TrackerService::Options options) {
    options.metrics = &metrics_;
    service_ = std::make_unique<TrackerService>(&writer_, options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Tracker::NewStub(channel_);
  }
  void TearDown() override {
    store_->SetStall(false);
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    writer_.Stop();
  }

  void Restart(TrackerService::Options options) {
    server_->Shutdown(std::chrono::system_clock::now());
    StartServer(options);
  }

  // A LogEvents stream of bytes, for requests no typed client would write.
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> RawStream(
      grpc::ClientContext* ctx) {
    const grpc::internal::RpcMethod method("/utracker.v1.Tracker/LogEvents",
                                           grpc::internal::RpcMethod::BIDI_STREAMING, channel_);
    return std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel_.get(), method, ctx));
  }

  v1::LogEventsRequest Request(uint64_t seq, int n) {
    v1::LogEventsRequest req;
    req.set_seq(seq);
    for (int i = 0; i < n; ++i) {
      *req.add_events() =
          testing::MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, absl::Now());
    }
    return req;
  }

  MetricsRegistry registry_;
  IngestMetrics metrics_{&registry_};
  FakeEventStore* store_ = new FakeEventStore;
  BatchWriter writer_{std::unique_ptr<FakeEventStore>(store_),
                      BatchWriter::Options{5000, &metrics_}};
  std::unique_ptr<TrackerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Tracker::Stub> stub_;
};

TEST_F(TrackerServiceTest, BadEventIsRejectedWithReasonAndItsBatchMatesAreStored) {
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  v1::LogEventsRequest req = Request(7, 5);
  req.mutable_events(2)->set_event_id("nope");
  req.mutable_events(4)->set_name("poison");  // passes validation, refused by the store
  ASSERT_TRUE(stream->Write(req));
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.seq(), 7u);
  EXPECT_EQ(resp.accepted(), 3u);
  ASSERT_EQ(resp.rejected_size(), 2);
  EXPECT_EQ(resp.rejected(0).index(), 2u);
  EXPECT_NE(resp.rejected(0).reason().find("event_id"), std::string::npos);
  EXPECT_EQ(resp.rejected(1).index(), 4u);
  EXPECT_NE(resp.rejected(1).reason().find("refused"), std::string::npos);
  EXPECT_EQ(store_->stored(), 3u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(TrackerServiceTest, AckComesOnlyAfterTheStoreReturns) {
  store_->SetStall(true);
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  ASSERT_TRUE(stream->Write(Request(1, 3)));
  std::atomic<bool> got{false};
  v1::LogEventsResponse resp;
  std::thread reader([&] {
    if (stream->Read(&resp)) got = true;
  });
  store_->AwaitCalls(1);
  // The store is holding the batch; an early ack would arrive within this bound.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(got.load());
  store_->SetStall(false);
  reader.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(resp.accepted(), 3u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(TrackerServiceTest, PipelinedRequestsAreAllAnsweredBySeq) {
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  std::thread writer([&] {
    for (uint64_t s = 1; s <= 50; ++s) ASSERT_TRUE(stream->Write(Request(s, 20)));
    stream->WritesDone();
  });
  std::set<uint64_t> seqs;
  v1::LogEventsResponse resp;
  uint32_t accepted = 0;
  while (stream->Read(&resp)) {
    seqs.insert(resp.seq());
    accepted += resp.accepted();
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(seqs.size(), 50u);
  EXPECT_EQ(accepted, 1000u);
  EXPECT_EQ(store_->stored(), 1000u);
}

TEST_F(TrackerServiceTest, StoreUnavailableEndsTheStreamWithoutAck) {
  store_->SetFail(true);
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  ASSERT_TRUE(stream->Write(Request(1, 2)));
  v1::LogEventsResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(st.error_message().find("database down"), std::string::npos);
}

TEST_F(TrackerServiceTest, OversizedRequestIsRejectedEventByEvent) {
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  ASSERT_TRUE(stream->Write(Request(3, TrackerService::kMaxEventsPerRequest + 1)));
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.accepted(), 0u);
  EXPECT_EQ(resp.rejected_size(), TrackerService::kMaxEventsPerRequest + 1);
  EXPECT_NE(resp.rejected(0).reason().find("limit"), std::string::npos);
  EXPECT_EQ(store_->calls(), 0);
}

// Peak resident memory of this process (each test runs in a process of its own), in MiB.
int64_t PeakRssMib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) / 1024;
  }
  return -1;
}

// A request packed with millions of near-empty events is refused from its wire bytes: parsed,
// 2 M of them took ~500 MB (256 bytes per event object) for a 4 MB request.
TEST_F(TrackerServiceTest, FarOversizedRequestEndsTheStreamWithoutBeingParsed) {
  constexpr int kEvents = 2000000;
  std::string wire;
  wire.reserve(2 * kEvents + 2);
  wire += std::string("\x08\x05", 2);  // seq = 5
  for (int i = 0; i < kEvents; ++i) wire += std::string("\x12\x00", 2);  // an empty event
  const int64_t before = PeakRssMib();
  ASSERT_GT(before, 0);
  grpc::ClientContext ctx;
  auto stream = RawStream(&ctx);
  grpc::Slice slice(wire);
  ASSERT_TRUE(stream->Write(grpc::ByteBuffer(&slice, 1)));
  stream->WritesDone();
  grpc::ByteBuffer answer;
  EXPECT_FALSE(stream->Read(&answer)) << "no answer of 2 M rejections";
  const grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_NE(st.error_message().find("2000000 events; the limit is 10000"), std::string::npos)
      << st.error_message();
  EXPECT_EQ(store_->calls(), 0);
  EXPECT_LT(PeakRssMib() - before, 64) << "the request was parsed";
}

// Bytes that are not a LogEventsRequest end the stream with a reason.
TEST_F(TrackerServiceTest, BytesThatDoNotParseEndTheStream) {
  grpc::ClientContext ctx;
  auto stream = RawStream(&ctx);
  grpc::Slice slice(std::string("\x12\x05" "ab", 4));  // an event said to be 5 bytes, 2 there
  ASSERT_TRUE(stream->Write(grpc::ByteBuffer(&slice, 1)));
  stream->WritesDone();
  grpc::ByteBuffer answer;
  EXPECT_FALSE(stream->Read(&answer));
  const grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(store_->calls(), 0);
}

TEST_F(TrackerServiceTest, DrainAcksInFlightBatchesThenEndsStreams) {
  store_->SetStall(true);
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  ASSERT_TRUE(stream->Write(Request(9, 4)));
  store_->AwaitCalls(1);
  service_->Drain();
  store_->SetStall(false);
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));  // the in-flight batch is still acked
  EXPECT_EQ(resp.seq(), 9u);
  EXPECT_EQ(resp.accepted(), 4u);
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  grpc::ClientContext ctx2;  // new streams are refused while draining
  auto late = stub_->LogEvents(&ctx2);
  EXPECT_FALSE(late->Read(&resp));
  EXPECT_EQ(late->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TrackerServiceTest, AClientThatDoesNotReadAcksIsNotReadFromEither) {
  // Requests of invalid events get big answers (a reason per event), so unread answers soon
  // fill the client's HTTP/2 receive window; then the server's writes stop completing, its
  // answer queue fills (kMaxQueuedAcks) and it must stop reading that client.
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  constexpr int kRequests = 200;
  v1::LogEventsRequest bad = Request(0, 1000);
  for (auto& e : *bad.mutable_events()) e.set_event_id("not-a-uuid-" + std::string(40, 'x'));
  std::thread writer([&] {
    for (int s = 1; s <= kRequests; ++s) {
      bad.set_seq(s);
      if (!stream->Write(bad)) return;
    }
    stream->WritesDone();
  });
  auto handled = [&] { return registry_.Render(); };
  auto rejected = [&] {
    const std::string t = handled();
    const std::string key = "utracker_events_rejected_total{reason=\"event_id\"} ";
    const size_t at = t.find(key);
    return at == std::string::npos ? 0 : std::stoll(t.substr(at + key.size()));
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // it reads all it will
  const int64_t before = rejected();
  EXPECT_GT(before, 0);
  EXPECT_LT(before, kRequests * 1000) << "the server kept reading a client that reads nothing";
  v1::LogEventsResponse resp;
  int acks = 0;
  while (stream->Read(&resp)) ++acks;  // now the client reads: everything flows
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(acks, kRequests);
  EXPECT_EQ(rejected(), kRequests * 1000);
}

TEST_F(TrackerServiceTest, StreamsPauseWhileInFlightBytesAreOverBudget) {
  TrackerService::Options tight;
  tight.max_inflight_bytes = 1;  // any request in the writer exhausts it
  Restart(tight);
  store_->SetStall(true);
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  ASSERT_TRUE(stream->Write(Request(1, 5)));
  ASSERT_TRUE(stream->Write(Request(2, 5)));
  store_->AwaitCalls(1);  // request 1 is in the (stalled) store
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(metrics_.queue_events->value(), 0) << "request 2 must not have been read";
  EXPECT_GT(metrics_.inflight_bytes->value(), 0);
  store_->SetStall(false);  // acks free the budget and the stream resumes
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.seq(), 2u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(store_->stored(), 10u);
  EXPECT_EQ(metrics_.inflight_bytes->value(), 0);
  EXPECT_EQ(metrics_.events_accepted->value(), 10u);
}

TEST_F(TrackerServiceTest, AClientCancellingWithABatchInTheWriterEndsTheStreamCleanly) {
  store_->SetStall(true);
  {
    grpc::ClientContext ctx;
    auto stream = stub_->LogEvents(&ctx);
    ASSERT_TRUE(stream->Write(Request(1, 5)));
    store_->AwaitCalls(1);
    ctx.TryCancel();
    v1::LogEventsResponse resp;
    EXPECT_FALSE(stream->Read(&resp));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The server side ends at once, though its batch is still in the (stalled) store...
  for (int i = 0; i < 200 && service_->ActiveStreams() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(service_->ActiveStreams(), 0u);
  // ...and the batch completing later finds a stream that is gone, without harm.
  store_->SetStall(false);
  writer_.Flush();
  EXPECT_EQ(store_->stored(), 5u);
}

TEST_F(TrackerServiceTest, RejectionsAreCountedByField) {
  grpc::ClientContext ctx;
  auto stream = stub_->LogEvents(&ctx);
  v1::LogEventsRequest req = Request(1, 3);
  req.mutable_events(0)->set_service("");
  (*req.mutable_events(1)->mutable_attributes())["k"] = std::string("\0", 1);
  ASSERT_TRUE(stream->Write(req));
  v1::LogEventsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  const std::string text = registry_.Render();
  EXPECT_NE(text.find("utracker_events_rejected_total{reason=\"service\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("utracker_events_rejected_total{reason=\"attributes\"} 1"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace utracker::server::ingest
