#include "grpc_event_sink.h"

#include "absl/strings/str_cat.h"

namespace utracker::client::internal {

namespace {

grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  // Reconnect quickly after a server restart; the streamer adds its own backoff on top.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  return args;
}

}  // namespace

// The method as the generated stub names it; the stream is made the way the generated stub
// makes its own (ClientReaderWriterFactory), with bytes going out instead of a message.
GrpcEventSink::GrpcEventSink(const std::string& server)
    : channel_(grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(),
                                         ChannelArgs())),
      log_events_("/utracker.v1.Tracker/LogEvents", grpc::internal::RpcMethod::BIDI_STREAMING,
                  channel_) {}

GrpcEventSink::~GrpcEventSink() { Close().IgnoreError(); }

absl::Status GrpcEventSink::Open(ResponseFn on_response, ClosedFn on_closed) {
  Close().IgnoreError();
  auto context = std::make_unique<grpc::ClientContext>();
  // Fail fast while the server is down instead of queueing the stream in the channel; the
  // streamer owns the retry policy.
  context->set_wait_for_ready(false);
  grpc::ClientContext* ctx = context.get();
  {
    // Published before the stream is made: making it waits for the connection attempt
    // (~20 s when the address drops packets), and Cancel must be able to end that wait.
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return absl::CancelledError("the LogEvents sink was cancelled");
    context_ = std::move(context);
  }
  stream_.reset(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, v1::LogEventsResponse>::Create(
          channel_.get(), log_events_, ctx));
  if (!stream_) return absl::UnavailableError("cannot open LogEvents stream");
  auto* stream = stream_.get();
  reader_ =
      std::thread([stream, on_response = std::move(on_response), on_closed = std::move(on_closed)] {
        v1::LogEventsResponse response;
        while (stream->Read(&response)) on_response(response);
        on_closed();
      });
  return absl::OkStatus();
}

bool GrpcEventSink::Send(const EncodedRequest& request) {
  if (stream_ == nullptr) return false;
  grpc::Slice bytes(request.wire.data(), request.wire.size());  // copied: gRPC owns its slice
  grpc::ByteBuffer buffer(&bytes, 1);
  return stream_->Write(buffer);
}

absl::Status GrpcEventSink::Close() {
  if (!stream_) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (context_) context_->TryCancel();
  }
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
  cancelled_ = true;
  if (context_) context_->TryCancel();
}

}  // namespace utracker::client::internal
