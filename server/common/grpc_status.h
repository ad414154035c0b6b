#ifndef UTRACKER_SERVER_COMMON_GRPC_STATUS_H_
#define UTRACKER_SERVER_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace utracker::server {

// The one conversion at the gRPC edge. absl and gRPC status codes share numbers.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace utracker::server

#endif  // UTRACKER_SERVER_COMMON_GRPC_STATUS_H_
