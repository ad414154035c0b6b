#include "query/flows_service.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "query/message_state.h"
#include "query/response_limits.h"
#include "query/run_query.h"
#include "wire/text.h"
#include "wire/uuid.h"

namespace utracker::server::query {
namespace {

// The canonical lower-case id, or INVALID_ARGUMENT saying what is wrong.
absl::StatusOr<std::string> MessageIdArgument(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("message_id is required");
  if (!wire::ParseUuid(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message_id is not a UUID (want 8-4-4-4-12 hex digits): ", wire::QuoteForError(id)));
  }
  return absl::AsciiStrToLower(id);
}

// Page tokens are opaque to clients: base64url("v1 <first_seen micros> <id>").
std::string EncodePageToken(int64_t micros, const std::string& id) {
  return absl::WebSafeBase64Escape(absl::StrCat("v1 ", micros, " ", id));
}

absl::StatusOr<std::pair<int64_t, std::string>> DecodePageToken(const std::string& token) {
  std::string raw;
  std::vector<std::string> parts;
  int64_t micros = 0;
  if (absl::WebSafeBase64Unescape(token, &raw)) parts = absl::StrSplit(raw, ' ');
  if (parts.size() != 3 || parts[0] != "v1" || !absl::SimpleAtoi(parts[1], &micros) ||
      !wire::ParseUuid(parts[2])) {
    return absl::InvalidArgumentError(
        "page_token is not one this server issued (use next_page_token as given)");
  }
  return std::make_pair(micros, parts[2]);
}

int64_t Micros(const google::protobuf::Timestamp& ts) {
  return google::protobuf::util::TimeUtil::TimestampToMicroseconds(ts);
}

absl::StatusOr<storage::MessageQuery> MessageQueryArgument(const v1::ListMessagesRequest& r) {
  storage::MessageQuery q;
  if (r.page_size() > FlowsService::kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size ", r.page_size(), " is above the limit ", FlowsService::kMaxPageSize));
  }
  q.limit = r.page_size() == 0 ? FlowsService::kDefaultPageSize : r.page_size();
  if (!v1::EventKind_IsValid(r.kind())) return absl::InvalidArgumentError("kind: unknown value");
  if (!v1::MessageState_IsValid(r.state()))
    return absl::InvalidArgumentError("state: unknown value");
  for (const std::string* text : {&r.service(), &r.destination()}) {
    if (wire::ContainsNul(*text) || !wire::IsValidUtf8(*text)) {
      return absl::InvalidArgumentError("service/destination must be UTF-8 without NUL bytes");
    }
  }
  q.service = r.service();
  q.destination = r.destination();
  q.kind = r.kind();
  if (r.has_from()) q.from_micros = Micros(r.from());
  if (r.has_to()) q.to_micros = Micros(r.to());
  if (q.from_micros && q.to_micros && *q.from_micros >= *q.to_micros) {
    return absl::InvalidArgumentError("from must be before to");
  }
  if (!r.page_token().empty()) {
    auto after = DecodePageToken(r.page_token());
    if (!after.ok()) return after.status();
    q.after = *after;
  }
  return q;
}

// A GetFlow's request and response on their own arena: a big flow is tens of thousands of
// small strings and messages, which the arena allocates in a few blocks and frees at once
// (malloc and free were ~40% of the server's time for a 1 000-message flow).
class FlowArenaAllocator final
    : public grpc::MessageAllocator<v1::GetFlowRequest, v1::GetFlowResponse> {
 public:
  grpc::MessageHolder<v1::GetFlowRequest, v1::GetFlowResponse>* AllocateMessages() override {
    return new Holder;
  }

 private:
  class Holder final : public grpc::MessageHolder<v1::GetFlowRequest, v1::GetFlowResponse> {
   public:
    Holder() : arena_(Options()) {
      set_request(google::protobuf::Arena::CreateMessage<v1::GetFlowRequest>(&arena_));
      set_response(google::protobuf::Arena::CreateMessage<v1::GetFlowResponse>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 4096;  // a small or failed request stays small
      options.max_block_size = 256 * 1024;
      return options;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace

FlowsService::FlowsService(storage::FlowStore* store, QueryExecutor* executor,
                           StuckDeadlines deadlines)
    : store_(store),
      executor_(executor),
      deadlines_(std::move(deadlines)),
      flow_allocator_(std::make_unique<FlowArenaAllocator>()) {
  SetMessageAllocatorFor_GetFlow(flow_allocator_.get());
}

FlowsService::~FlowsService() = default;

grpc::ServerUnaryReactor* FlowsService::GetMessage(grpc::CallbackServerContext* context,
                                                   const v1::GetMessageRequest* request,
                                                   v1::GetMessageResponse* response) {
  absl::StatusOr<std::string> id = MessageIdArgument(request->message_id());
  if (!id.ok()) {
    return FinishNow(context, id.status());
  }
  return RunQuery(context, executor_,
                  [this, id = *std::move(id), include = request->include_content(),
                   response]() -> absl::Status {
                    absl::StatusOr<v1::TrackedMessage> m = store_->GetMessage(id, include);
                    if (!m.ok()) return m.status();
                    DeriveMessageFacts(*m, &deadlines_, absl::Now());
                    *response->mutable_message() = *std::move(m);
                    return absl::OkStatus();
                  });
}

grpc::ServerUnaryReactor* FlowsService::GetFlow(grpc::CallbackServerContext* context,
                                                const v1::GetFlowRequest* request,
                                                v1::GetFlowResponse* response) {
  absl::StatusOr<std::string> id = MessageIdArgument(request->message_id());
  if (!id.ok()) {
    return FinishNow(context, id.status());
  }
  return RunQuery(context, executor_,
                  [this, id = *std::move(id), include = request->include_content(),
                   response]() -> absl::Status {
                    // Read straight into the response, on its arena (FlowArenaAllocator).
                    absl::Status status =
                        store_->GetFlow(id, include, kMaxFlowMessages, response);
                    if (!status.ok()) {
                      response->Clear();
                      return status;
                    }
                    const absl::Time now = absl::Now();
                    for (v1::TrackedMessage& m : *response->mutable_messages()) {
                      DeriveMessageFacts(m, &deadlines_, now);
                    }
                    // A client with gRPC's default limits could not read a bigger answer.
                    CapFlowBytes(response);
                    return absl::OkStatus();
                  });
}

grpc::ServerUnaryReactor* FlowsService::ListMessages(grpc::CallbackServerContext* context,
                                                     const v1::ListMessagesRequest* request,
                                                     v1::ListMessagesResponse* response) {
  absl::StatusOr<storage::MessageQuery> query = MessageQueryArgument(*request);
  if (!query.ok()) {
    return FinishNow(context, query.status());
  }
  return RunQuery(
      context, executor_,
      [this, q = *std::move(query), state = request->state(), response]() mutable -> absl::Status {
        const size_t page = q.limit;
        const absl::Time now = absl::Now();
        // Without a state filter one round trip does; with one, candidates are
        // fetched in larger rounds and filtered here (state is derived in C++,
        // the one definition), up to a bounded number of candidates per call.
        const bool filtered = state != v1::MESSAGE_STATE_UNSPECIFIED;
        q.limit = filtered ? std::max<size_t>(page * 4, 200) : page + 1;
        size_t scanned = 0;
        const size_t max_scan = filtered ? page * 40 + 2000 : page + 1;
        std::optional<std::pair<int64_t, std::string>> cursor;
        bool more = false;
        while (response->messages_size() < static_cast<int>(page)) {
          absl::StatusOr<std::vector<storage::FlowStore::Listed>> batch = store_->ListMessages(q);
          if (!batch.ok()) return batch.status();
          more = batch->size() == q.limit;
          for (auto& [m, listed_micros] : *batch) {
            if (response->messages_size() == static_cast<int>(page)) {
              more = true;
              break;
            }
            ++scanned;
            cursor = std::make_pair(listed_micros, m.id());
            DeriveMessageFacts(m, &deadlines_, now);
            if (filtered && m.state() != state) continue;
            m.clear_events();
            *response->add_messages() = std::move(m);
          }
          if (!more || scanned >= max_scan) break;
          q.after = cursor;
        }
        if (more && cursor) {
          response->set_next_page_token(EncodePageToken(cursor->first, cursor->second));
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* FlowsService::GetServiceGraph(grpc::CallbackServerContext* context,
                                                        const v1::GetServiceGraphRequest* request,
                                                        v1::GetServiceGraphResponse* response) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  const int64_t to = request->has_to() ? Micros(request->to()) : now;
  const int64_t from = request->has_from() ? Micros(request->from()) : to - 3600LL * 1000000;
  absl::Status bad;
  if (from >= to) bad = absl::InvalidArgumentError("from must be before to");
  if (to - from > 31LL * 24 * 3600 * 1000000) {
    bad = absl::InvalidArgumentError("the window is longer than 31 days");
  }
  if (!bad.ok()) {
    return FinishNow(context, bad);
  }
  const int64_t stuck_after = absl::ToInt64Microseconds(deadlines_.after);
  return RunQuery(context, executor_,
                  [this, from, to, now, stuck_after, response]() -> absl::Status {
    absl::StatusOr<v1::GetServiceGraphResponse> graph =
        store_->GetServiceGraph(from, to, now - stuck_after);
    if (!graph.ok()) return graph.status();
    *response = *std::move(graph);
    *response->mutable_stuck_after() =
        google::protobuf::util::TimeUtil::MicrosecondsToDuration(stuck_after);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FlowsService::ListServices(grpc::CallbackServerContext* context,
                                                     const v1::ListServicesRequest* /*request*/,
                                                     v1::ListServicesResponse* response) {
  return RunQuery(context, executor_, [this, response]() -> absl::Status {
    absl::StatusOr<std::vector<v1::ServiceInfo>> services = store_->ListServices();
    if (!services.ok()) return services.status();
    for (v1::ServiceInfo& s : *services) *response->add_services() = std::move(s);
    return absl::OkStatus();
  });
}

}  // namespace utracker::server::query
