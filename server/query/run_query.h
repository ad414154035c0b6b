#ifndef UTRACKER_SERVER_QUERY_RUN_QUERY_H_
#define UTRACKER_SERVER_QUERY_RUN_QUERY_H_

#include <grpcpp/grpcpp.h>

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "query/query_executor.h"

namespace utracker::server::query {

// Finishes a call at once with `status` (an argument refused before any query ran).
inline grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                           const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Runs `query` (returning absl::Status, filling the response it captured) on the executor and
// finishes the unary reactor with its status; RESOURCE_EXHAUSTED when too many queries wait.
// gRPC's callback threads never block on the database.
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

}  // namespace utracker::server::query

#endif  // UTRACKER_SERVER_QUERY_RUN_QUERY_H_
