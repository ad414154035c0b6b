// Plays grpcurl: a client that reads no .proto files and uses none of the generated
// utracker.v1 code (its descriptors live in a fresh pool filled only from the server's
// reflection), builds requests from JSON and reads JSON back — the README's grpcurl session,
// end to end.
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "support/process.h"
#include "support/test_database.h"

namespace utracker {
namespace {

namespace refl = grpc::reflection::v1alpha;
namespace pb = google::protobuf;

// What a reflection-only client knows: descriptors fetched from the server.
class ReflectionClient {
 public:
  explicit ReflectionClient(std::shared_ptr<grpc::Channel> channel)
      : channel_(channel), stub_(refl::ServerReflection::NewStub(channel)), generic_(channel) {}

  std::vector<std::string> ListServices() {
    refl::ServerReflectionRequest req;
    req.set_list_services("");
    std::vector<std::string> names;
    const refl::ServerReflectionResponse resp = Ask(req);
    for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
    return names;
  }

  // Loads the file defining `symbol` and everything it imports, as grpcurl does.
  const pb::ServiceDescriptor* Service(const std::string& symbol) {
    refl::ServerReflectionRequest req;
    req.set_file_containing_symbol(symbol);
    Load(Ask(req));
    return pool_.FindServiceByName(symbol);
  }

  // Calls a unary method with a JSON request; returns the JSON response or the error.
  std::string Unary(const pb::MethodDescriptor* method, const std::string& json) {
    std::unique_ptr<pb::Message> request(factory_.GetPrototype(method->input_type())->New());
    if (!pb::util::JsonStringToMessage(json, request.get()).ok()) return "bad request json";
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::promise<grpc::Status> done;
    grpc::ByteBuffer in = ToBuffer(*request), out;
    generic_.UnaryCall(&ctx, absl::StrCat("/", method->service()->full_name(), "/", method->name()),
                       {}, &in, &out, [&](grpc::Status st) { done.set_value(st); });
    grpc::Status st = done.get_future().get();
    if (!st.ok()) return absl::StrCat("ERROR ", st.error_code(), ": ", st.error_message());
    return ToJson(method->output_type(), out);
  }

  // Sends JSON requests on a bidi stream, half-closes, and returns the JSON responses.
  std::vector<std::string> Bidi(const pb::MethodDescriptor* method,
                                const std::vector<std::string>& jsons) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::CompletionQueue cq;
    auto call = generic_.PrepareCall(
        &ctx, absl::StrCat("/", method->service()->full_name(), "/", method->name()), &cq);
    auto wait = [&] {
      void* tag;
      bool ok = false;
      cq.Next(&tag, &ok);
      return ok;
    };
    call->StartCall(nullptr);
    wait();
    for (const std::string& json : jsons) {
      std::unique_ptr<pb::Message> request(factory_.GetPrototype(method->input_type())->New());
      EXPECT_TRUE(pb::util::JsonStringToMessage(json, request.get()).ok()) << json;
      call->Write(ToBuffer(*request), nullptr);
      wait();
    }
    call->WritesDone(nullptr);
    wait();
    std::vector<std::string> out;
    grpc::ByteBuffer buf;
    for (;;) {
      call->Read(&buf, nullptr);
      if (!wait()) break;
      out.push_back(ToJson(method->output_type(), buf));
    }
    grpc::Status st;
    call->Finish(&st, nullptr);
    wait();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

 private:
  refl::ServerReflectionResponse Ask(const refl::ServerReflectionRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub_->ServerReflectionInfo(&ctx);
    refl::ServerReflectionResponse resp;
    EXPECT_TRUE(stream->Write(req));
    stream->WritesDone();
    EXPECT_TRUE(stream->Read(&resp));
    while (stream->Read(&scratch_)) {  // drain before Finish
    }
    EXPECT_TRUE(stream->Finish().ok());
    return resp;
  }

  void Load(const refl::ServerReflectionResponse& resp) {
    std::vector<pb::FileDescriptorProto> files;
    for (const std::string& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
      files.emplace_back();
      files.back().ParseFromString(bytes);
    }
    // Dependencies first: build what can be built until nothing is left.
    for (bool progress = true; progress && !files.empty();) {
      progress = false;
      for (auto it = files.begin(); it != files.end();) {
        bool ready = true;
        for (const std::string& dep : it->dependency())
          ready &= pool_.FindFileByName(dep) != nullptr;
        if (pool_.FindFileByName(it->name()) != nullptr) {
          it = files.erase(it);
        } else if (ready) {
          EXPECT_NE(pool_.BuildFile(*it), nullptr) << it->name();
          it = files.erase(it);
          progress = true;
        } else {
          ++it;
        }
      }
    }
    EXPECT_TRUE(files.empty()) << "unresolved dependencies from reflection";
  }

  static grpc::ByteBuffer ToBuffer(const pb::Message& m) {
    const std::string bytes = m.SerializeAsString();
    grpc::Slice slice(bytes);
    return grpc::ByteBuffer(&slice, 1);
  }

  std::string ToJson(const pb::Descriptor* type, const grpc::ByteBuffer& buf) {
    std::vector<grpc::Slice> slices;
    (void)buf.Dump(&slices);
    std::string bytes;
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    std::unique_ptr<pb::Message> m(factory_.GetPrototype(type)->New());
    m->ParseFromString(bytes);
    pb::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    std::string json;
    (void)pb::util::MessageToJsonString(*m, &json, o);
    return json;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<refl::ServerReflection::Stub> stub_;
  grpc::GenericStub generic_;
  pb::DescriptorPool pool_;
  pb::DynamicMessageFactory factory_{&pool_};
  refl::ServerReflectionResponse scratch_;
};

TEST(ReflectionE2E, AClientWithoutProtosDrivesTheServerAsGrpcurlDoes) {
  testing::TestDatabase db;
  ASSERT_TRUE(db.ok());
  testing::ChildProcess server(UTRACKER_SERVER_BIN, testing::ServerArgs(db.url()));
  const int port = testing::AwaitListening(server);
  ASSERT_GT(port, 0);
  ReflectionClient client(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  const std::vector<std::string> services = client.ListServices();
  const std::set<std::string> names(services.begin(), services.end());
  for (const char* want : {"utracker.v1.Tracker", "utracker.v1.Flows", "utracker.v1.Alerts",
                           "grpc.health.v1.Health"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  const pb::ServiceDescriptor* alerts = client.Service("utracker.v1.Alerts");
  ASSERT_NE(alerts, nullptr);
  EXPECT_TRUE(alerts->FindMethodByName("WatchAlerts")->server_streaming());

  const pb::ServiceDescriptor* tracker = client.Service("utracker.v1.Tracker");
  const pb::ServiceDescriptor* flows = client.Service("utracker.v1.Flows");
  const pb::ServiceDescriptor* health = client.Service("grpc.health.v1.Health");
  ASSERT_NE(tracker, nullptr);
  ASSERT_NE(flows, nullptr);
  ASSERT_NE(health, nullptr);
  EXPECT_TRUE(tracker->FindMethodByName("LogEvents")->client_streaming());

  EXPECT_EQ(client.Unary(health->FindMethodByName("Check"), "{}"), R"({"status":"SERVING"})");

  const std::string root = "0190a1a0-0000-7000-8000-0000000000aa";
  const std::vector<std::string> acks =
      client.Bidi(tracker->FindMethodByName("LogEvents"), {absl::StrCat(R"({"seq": 1, "events": [
          {"event_id": "0190a1a0-0000-7000-8000-000000000001", "message_id": ")",
                                                                        root, R"(",
           "service": "alice", "kind": "EVENT_KIND_SENT", "destination": "bob",
           "occurred_at": "2026-11-28T01:00:00Z"},
          {"event_id": "0190a1a0-0000-7000-8000-000000000002", "message_id": ")",
                                                                        root, R"(",
           "service": "bob", "kind": "EVENT_KIND_RECEIVED", "occurred_at": "2026-11-28T01:00:00.042Z"},
          {"event_id": "0190a1a0-0000-7000-8000-000000000003", "message_id": ")",
                                                                        root, R"(",
           "service": "", "kind": "EVENT_KIND_PROCESSED", "occurred_at": "2026-11-28T01:00:00.050Z"}]})")});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0],
            R"({"seq":"1","accepted":2,"rejected":[{"index":2,"reason":"service: is required"}]})");

  const std::string flow = client.Unary(flows->FindMethodByName("GetFlow"),
                                        absl::StrCat(R"({"message_id": ")", root, R"("})"));
  EXPECT_TRUE(absl::StrContains(flow, R"("state":"MESSAGE_STATE_RECEIVED")")) << flow;
  EXPECT_TRUE(absl::StrContains(flow, R"("send_to_receive":"0.042s")")) << flow;
  const std::string listed =
      client.Unary(flows->FindMethodByName("ListMessages"), R"({"service": "bob"})");
  EXPECT_TRUE(absl::StrContains(listed, root)) << listed;
  const std::string svc = client.Unary(flows->FindMethodByName("ListServices"), "{}");
  EXPECT_TRUE(absl::StrContains(svc, R"("name":"alice")")) << svc;
  EXPECT_TRUE(absl::StartsWith(
      client.Unary(flows->FindMethodByName("GetFlow"), R"({"message_id": "nope"})"),
      "ERROR 3: message_id is not a UUID"));
  EXPECT_EQ(server.Signal(SIGTERM, absl::Seconds(20)), std::optional<int>(0));
}

}  // namespace
}  // namespace utracker
