#include "grpc_event_sink.h"

#include "absl/strings/str_cat.h"

namespace utracker::client::internal {

GrpcEventSink::GrpcEventSink(const std::string& server) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a server restart; the streamer adds its own backoff on top.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  stub_ = v1::Tracker::NewStub(
      grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args));
}

GrpcEventSink::~GrpcEventSink() { Close().IgnoreError(); }

absl::Status GrpcEventSink::Open(ResponseFn on_response, ClosedFn on_closed) {
  Close().IgnoreError();
  auto context = std::make_unique<grpc::ClientContext>();
  // Fail fast while the server is down instead of queueing the stream in the channel; the
  // streamer owns the retry policy.
  context->set_wait_for_ready(false);
  stream_ = stub_->LogEvents(context.get());
  if (!stream_) return absl::UnavailableError("cannot open LogEvents stream");
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = std::move(context);
  }
  auto* stream = stream_.get();
  reader_ =
      std::thread([stream, on_response = std::move(on_response), on_closed = std::move(on_closed)] {
        v1::LogEventsResponse response;
        while (stream->Read(&response)) on_response(response);
        on_closed();
      });
  return absl::OkStatus();
}

bool GrpcEventSink::Send(const v1::LogEventsRequest& request) {
  return stream_ != nullptr && stream_->Write(request);
}

absl::Status GrpcEventSink::Close() {
  if (!stream_) return absl::OkStatus();
  Cancel();
  if (reader_.joinable()) reader_.join();
  // Reads are done and the worker (our only writer) is here: Finish is safe now.
  grpc::Status st = stream_->Finish();
  stream_.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_.reset();
  }
  if (st.ok() || st.error_code() == grpc::StatusCode::CANCELLED) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
}

void GrpcEventSink::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (context_) context_->TryCancel();
}

}  // namespace utracker::client::internal
