#ifndef UTRACKER_SERVER_COMMON_GRPC_STATUS_H_
#define UTRACKER_SERVER_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace utracker::server {

// The one conversion at the gRPC edge. absl and gRPC status codes share numbers.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Runs a reactor's reaction body; an exception escaping it (which would hang or crash the
// RPC) becomes `fail(INTERNAL)` instead.
template <typename Body, typename Fail>
void GuardReaction(Body&& body, Fail&& fail) {
  try {
    body();
  } catch (const std::exception& e) {
    fail(grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("internal error: ", e.what())));
  } catch (...) {
    fail(grpc::Status(grpc::StatusCode::INTERNAL, "internal error"));
  }
}

}  // namespace utracker::server

#endif  // UTRACKER_SERVER_COMMON_GRPC_STATUS_H_
