#include "query/flows_service.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "query/message_state.h"
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

// Runs `query` on the executor and finishes `reactor` with its status.
template <typename Query>
grpc::ServerUnaryReactor* RunQuery(grpc::CallbackServerContext* context, QueryExecutor* executor,
                                   Query query) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool posted = executor->Post([reactor, query = std::move(query)]() mutable {
    absl::Status status;
    try {
      status = query();
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat("internal error: ", e.what()));
    }
    reactor->Finish(ToGrpcStatus(status));
  });
  if (!posted) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many queries waiting; retry later"));
  }
  return reactor;
}

}  // namespace

FlowsService::FlowsService(storage::FlowStore* store, QueryExecutor* executor)
    : store_(store), executor_(executor) {}

grpc::ServerUnaryReactor* FlowsService::GetMessage(grpc::CallbackServerContext* context,
                                                   const v1::GetMessageRequest* request,
                                                   v1::GetMessageResponse* response) {
  absl::StatusOr<std::string> id = MessageIdArgument(request->message_id());
  if (!id.ok()) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(id.status()));
    return reactor;
  }
  return RunQuery(context, executor_,
                  [this, id = *std::move(id), include = request->include_content(),
                   response]() -> absl::Status {
                    absl::StatusOr<v1::TrackedMessage> m = store_->GetMessage(id, include);
                    if (!m.ok()) return m.status();
                    DeriveMessageFacts(*m);
                    *response->mutable_message() = *std::move(m);
                    return absl::OkStatus();
                  });
}

grpc::ServerUnaryReactor* FlowsService::GetFlow(grpc::CallbackServerContext* context,
                                                const v1::GetFlowRequest* request,
                                                v1::GetFlowResponse* response) {
  absl::StatusOr<std::string> id = MessageIdArgument(request->message_id());
  if (!id.ok()) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(id.status()));
    return reactor;
  }
  return RunQuery(context, executor_,
                  [this, id = *std::move(id), include = request->include_content(),
                   response]() -> absl::Status {
                    absl::StatusOr<storage::StoredFlow> flow =
                        store_->GetFlow(id, include, kMaxFlowMessages);
                    if (!flow.ok()) return flow.status();
                    response->set_root_id(flow->root_id);
                    response->set_truncated(flow->truncated);
                    for (v1::TrackedMessage& m : flow->messages) {
                      DeriveMessageFacts(m);
                      *response->add_messages() = std::move(m);
                    }
                    return absl::OkStatus();
                  });
}

}  // namespace utracker::server::query
