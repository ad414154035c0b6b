#ifndef UTRACKER_CLIENT_SRC_GRPC_EVENT_SINK_H_
#define UTRACKER_CLIENT_SRC_GRPC_EVENT_SINK_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "event_sink.h"
#include "utracker/v1/tracker.grpc.pb.h"

namespace utracker::client::internal {

// EventSink over gRPC's synchronous API: the worker writes, a reader thread of the sink's
// own receives acks. One channel for the sink's life (gRPC reconnects it underneath). The
// stream writes the encoded requests' bytes as they are (a ByteBuffer), reads typed answers.
class GrpcEventSink : public EventSink {
 public:
  explicit GrpcEventSink(const std::string& server);
  ~GrpcEventSink() override;

  absl::Status Open(ResponseFn on_response, ClosedFn on_closed) override;
  bool Send(const EncodedRequest& request) override;
  absl::Status Close() override;
  void Cancel() override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  const grpc::internal::RpcMethod log_events_;
  std::mutex mu_;                                 // guards context_ and cancelled_
  std::unique_ptr<grpc::ClientContext> context_;  // of the open stream
  bool cancelled_ = false;                        // by Cancel: no stream opens after it
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, v1::LogEventsResponse>> stream_;
  std::thread reader_;
};

}  // namespace utracker::client::internal

#endif  // UTRACKER_CLIENT_SRC_GRPC_EVENT_SINK_H_
