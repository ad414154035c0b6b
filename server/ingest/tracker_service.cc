#include "ingest/tracker_service.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "wire/event_validation.h"

namespace utracker::server::ingest {
namespace {

// What a LogEventsRequest holds, read off its wire bytes without parsing it.
struct RequestShape {
  int64_t events = 0;
  uint64_t seq = 0;
};

// False if the bytes are not a well-formed message. Events are counted and skipped, not
// parsed: a pass over the bytes that allocates nothing.
bool ScanRequest(grpc::ByteBuffer* bytes, RequestShape* shape) {
  using google::protobuf::internal::WireFormatLite;
  grpc::ProtoBufferReader reader(bytes);
  if (!reader.status().ok()) return false;
  google::protobuf::io::CodedInputStream in(&reader);
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const auto type = WireFormatLite::GetTagWireType(tag);
    if (field == v1::LogEventsRequest::kEventsFieldNumber &&
        type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t size = 0;
      if (!in.ReadVarint32(&size) || !in.Skip(static_cast<int>(size))) return false;
      ++shape->events;
    } else if (field == v1::LogEventsRequest::kSeqFieldNumber &&
               type == WireFormatLite::WIRETYPE_VARINT) {
      if (!in.ReadVarint64(&shape->seq)) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
}

// How a stream ends when its bytes are not a LogEventsRequest (found by ScanRequest, or by
// the parse itself, which also checks UTF-8).
grpc::Status NotARequest() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      "not a LogEventsRequest: the bytes do not parse");
}

grpc::ByteBuffer Encode(const v1::LogEventsResponse& response) {
  grpc::Slice slice(response.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

// The metric label for a validation failure: the field its reason starts with
// ("occurred_at: ...", "attributes[\"k\"]: ..." -> "attributes"). A bounded set.
std::string ReasonLabel(absl::string_view reason) {
  const size_t end = reason.find_first_of(":[ ");
  return std::string(reason.substr(0, end));
}

}  // namespace

// One LogEvents stream. Reactions and writer completions may run on different threads: all
// state is under mu_, and gRPC operations are started only after mu_ is released (a
// reaction may run inline inside StartRead/StartWrite on a non-gRPC thread). The object
// deletes itself when gRPC is done with it (OnDone) *and* no writer completion or drain hold
// still refers to it.
class LogEventsReactor : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit LogEventsReactor(TrackerService* service) : service_(service) {
    Guard([this] {
      const bool accepted = service_->Register(this);
      std::unique_lock<std::mutex> lock(mu_);
      draining_ = !accepted;  // a stream opened during shutdown is ended at once
      Run(Step(), lock);
    });
  }

  void OnReadDone(bool ok) override {
    Guard([&] {
      if (!ok) {
        std::unique_lock<std::mutex> lock(mu_);
        reading_ = false;
        reads_done_ = true;
        Run(Step(), lock);
        return;
      }
      {
        // Until the request is handed to the writer, Drain must not end the stream (its
        // events would be committed but never acked).
        std::lock_guard<std::mutex> lock(mu_);
        reading_ = false;
        handling_ = true;
      }
      // No read is pending now, so read_ is ours until the next StartRead.
      HandleRequest();
    });
  }

  void OnWriteDone(bool ok) override {
    Guard([&] {
      std::unique_lock<std::mutex> lock(mu_);
      writing_ = false;
      if (!writes_.empty()) writes_.pop_front();
      if (!ok && !error_) {
        // The client went away; nothing more can be written.
        error_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed: client gone");
        writes_.clear();
      }
      Run(Step(), lock);
    });
  }

  // The client went away or the server is cutting calls: end now. Batches still in the
  // writer complete later (the object lives until then); their acks are simply not sent,
  // and the client resends.
  void OnCancel() override {
    FailWith(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
  }

  void OnDone() override {
    service_->Unregister(this);
    std::unique_lock<std::mutex> lock(mu_);
    done_ = true;
    MaybeDelete(lock);
  }

  // Called by TrackerService::Drain under its lock: keeps this object alive until Release.
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    ++holds_;
  }

  // Drops a Hold, then decides again: with `drain`, to end the stream; else to resume
  // reading after a budget pause.
  void ReleaseAndStep(bool drain) {
    std::unique_lock<std::mutex> lock(mu_);
    --holds_;
    if (drain) draining_ = true;
    parked_ = false;
    if (done_) return MaybeDelete(lock);
    Run(Step(), lock);
  }

 private:
  // What to do next, decided under mu_ and done after releasing it.
  struct Actions {
    bool read = false;
    const grpc::ByteBuffer* write = nullptr;
    std::optional<grpc::Status> finish;
    bool park = false;
  };

  Actions Step() {
    Actions a;
    if (finished_) return a;
    if (!writing_ && !writes_.empty()) {
      writing_ = true;
      a.write = &writes_.front();
    }
    // A read or park decided but not yet started (another thread is about to start it)
    // also keeps the stream open: Finish must not come before it.
    const bool quiet = holds_ == 0 && starting_ == 0 && !writing_ && writes_.empty();
    const bool end =
        error_.has_value() || ((reads_done_ || draining_) && in_writer_ == 0 && !handling_);
    if (end && quiet) {
      finished_ = true;
      if (error_) {
        a.finish = *error_;
      } else if (reads_done_) {
        a.finish = grpc::Status::OK;
      } else {
        a.finish = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "server is shutting down; reconnect and resend what was not acked");
      }
      return a;
    }
    if (!reading_ && !handling_ && !reads_done_ && !draining_ && !error_ && !parked_ &&
        in_writer_ < TrackerService::kMaxBatchesInFlight &&
        writes_.size() < TrackerService::kMaxQueuedAcks) {
      if (service_->OverBudget()) {
        parked_ = true;  // resumed by the service when acks free the budget
        a.park = true;
      } else {
        reading_ = true;
        a.read = true;
      }
      ++starting_;
    }
    return a;
  }

  // Starts the decided operations without holding mu_. Finish comes alone (Step never
  // pairs it with another operation): after it, `this` may already be deleted. A read or
  // park was counted in starting_ by Step; once started, the count drops and the stream
  // decides again (it may now finish, or be deleted if gRPC is done with it).
  void Run(Actions a, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    if (a.finish) return Finish(*a.finish);
    if (a.write != nullptr) StartWrite(a.write);
    if (a.park) service_->Park(this);
    if (a.read) StartRead(&read_);
    if (a.read || a.park) {
      lock.lock();
      --starting_;
      if (done_) return MaybeDelete(lock);
      Run(Step(), lock);
    }
  }

  void MaybeDelete(std::unique_lock<std::mutex>& lock) {
    const bool last = done_ && in_writer_ == 0 && holds_ == 0 && starting_ == 0;
    lock.unlock();
    if (last) delete this;
  }

  void HandleRequest() {
    const size_t request_bytes = read_.Length();
    RequestShape shape;
    if (!ScanRequest(&read_, &shape)) {
      read_.Clear();
      return FailWith(NotARequest());
    }
    IngestMetrics* metrics = service_->options_.metrics;
    constexpr int64_t kLimit = TrackerService::kMaxEventsPerRequest;
    if (shape.events > 2 * kLimit) {
      // Far over: not even one rejection per event (that answer would be as big as the
      // request). No client of ours sends one; the stream ends and says why.
      read_.Clear();
      if (metrics) metrics->events_rejected->Get("request_too_large")->Add(shape.events);
      return FailWith(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("request has ", shape.events, " events; the limit is ", kLimit,
                       " per LogEventsRequest")));
    }
    v1::LogEventsResponse response;
    response.set_seq(shape.seq);
    PendingBatch batch;
    const int n = static_cast<int>(shape.events);
    if (n > kLimit) {
      // Rejecting each event (rather than failing the stream) tells the client exactly what
      // to change and keeps it from resending the same request forever. Nothing is parsed.
      read_.Clear();
      const std::string reason = absl::StrCat("request has ", n, " events; the limit is ",
                                              kLimit, " per LogEventsRequest");
      for (int i = 0; i < n; ++i) {
        v1::Rejection* r = response.add_rejected();
        r->set_index(static_cast<uint32_t>(i));
        r->set_reason(reason);
      }
      if (metrics) metrics->events_rejected->Get("request_too_large")->Add(n);
    } else {
      // Parsed onto an arena of its own (see PendingBatch); Deserialize empties read_.
      if (!grpc::SerializationTraits<v1::LogEventsRequest>::Deserialize(&read_, NewRequest())
               .ok()) {
        arena_.reset();
        request_ = nullptr;
        return FailWith(NotARequest());
      }
      const absl::Time now = service_->options_.now();
      batch.events.reserve(n);
      batch.request_index.reserve(n);
      for (int i = 0; i < n; ++i) {
        v1::Event* e = request_->mutable_events(i);
        absl::Status st = wire::ValidateAndNormalizeEvent(*e, now);
        if (st.ok()) {
          batch.events.push_back(e);
          batch.request_index.push_back(static_cast<uint32_t>(i));
        } else {
          v1::Rejection* r = response.add_rejected();
          r->set_index(static_cast<uint32_t>(i));
          r->set_reason(std::string(st.message()));
          if (metrics) metrics->events_rejected->Get(ReasonLabel(st.message()))->Add();
        }
      }
    }
    if (batch.events.empty()) {
      arena_.reset();  // nothing of the request is kept (or there was none: too many events)
      request_ = nullptr;
      std::unique_lock<std::mutex> lock(mu_);
      handling_ = false;
      writes_.push_back(Encode(response));
      return Run(Step(), lock);
    }
    // The budget counts what the request holds in memory: its arena, or its wire size if
    // that is larger.
    const size_t held =
        std::max(request_bytes, static_cast<size_t>(arena_->SpaceAllocated()));
    batch.arena = std::move(arena_);  // the events go with their arena
    request_ = nullptr;
    const size_t submitted = batch.events.size();
    batch.done = [this, submitted, held, response = std::move(response)](
                     absl::Status status, std::vector<v1::Rejection> storage_rejections) mutable {
      service_->ReleaseInflight(held);
      OnBatchStored(std::move(response), submitted, status, std::move(storage_rejections));
    };
    std::unique_lock<std::mutex> lock(mu_);
    handling_ = false;
    ++in_writer_;
    lock.unlock();
    service_->AddInflight(held);
    service_->writer_->Submit(std::move(batch));
    lock.lock();
    Run(Step(), lock);
  }

  // From the writer thread.
  void OnBatchStored(v1::LogEventsResponse response, size_t submitted, const absl::Status& status,
                     std::vector<v1::Rejection> storage_rejections) {
    std::unique_lock<std::mutex> lock(mu_);
    --in_writer_;
    if (done_) return MaybeDelete(lock);
    if (!status.ok()) {
      if (!error_) error_ = ToGrpcStatus(status);
    } else if (!error_) {
      response.set_accepted(static_cast<uint32_t>(submitted - storage_rejections.size()));
      if (service_->options_.metrics)
        service_->options_.metrics->events_accepted->Add(response.accepted());
      for (auto& r : storage_rejections) *response.add_rejected() = std::move(r);
      auto* rejected = response.mutable_rejected();
      std::sort(
          rejected->begin(), rejected->end(),
          [](const v1::Rejection& a, const v1::Rejection& b) { return a.index() < b.index(); });
      writes_.push_back(Encode(response));
    }
    Run(Step(), lock);
  }

  // A reaction must never let an exception escape (it would hang or crash the RPC).
  template <typename F>
  void Guard(F&& body) {
    GuardReaction(body, [this](grpc::Status status) { FailWith(std::move(status)); });
  }

  void FailWith(grpc::Status status) {
    std::unique_lock<std::mutex> lock(mu_);
    handling_ = false;
    if (!error_) error_ = std::move(status);
    Run(Step(), lock);
  }

  // A request to parse into, on an arena of its own (see PendingBatch).
  v1::LogEventsRequest* NewRequest() {
    if (arena_ == nullptr) {
      google::protobuf::ArenaOptions options;
      // Small to start: every stream keeps a read pending, idle or not.
      options.start_block_size = 1024;
      options.max_block_size = 256 * 1024;
      arena_ = std::make_unique<google::protobuf::Arena>(options);
      request_ = google::protobuf::Arena::CreateMessage<v1::LogEventsRequest>(arena_.get());
    }
    return request_;
  }

  TrackerService* const service_;
  grpc::ByteBuffer read_;  // what the pending read fills; owned by it
  // The request read_ parses into, and its arena (until handed to the writer).
  std::unique_ptr<google::protobuf::Arena> arena_;
  v1::LogEventsRequest* request_ = nullptr;

  std::mutex mu_;
  std::deque<grpc::ByteBuffer> writes_;  // answers, encoded; front() is being written when writing_
  std::optional<grpc::Status> error_;         // finish with this once writes are flushed
  int in_writer_ = 0;  // requests handed to the writer, not yet reported back
  int holds_ = 0;      // Drain() and budget-resume references
  int starting_ = 0;   // reads/parks decided by Step, not yet started by Run
  bool reading_ = false;
  bool handling_ = false;  // a request read and not yet handed to the writer
  bool reads_done_ = false;
  bool writing_ = false;
  bool draining_ = false;
  bool parked_ = false;  // waiting for the in-flight budget
  bool finished_ = false;
  bool done_ = false;
};

TrackerService::TrackerService(BatchWriter* writer, Options options)
    : writer_(writer), options_(std::move(options)) {}

TrackerService::~TrackerService() = default;

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* TrackerService::LogEvents(
    grpc::CallbackServerContext* /*context*/) {
  return new LogEventsReactor(this);
}

bool TrackerService::Register(LogEventsReactor* reactor) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) return false;
  active_.insert(reactor);
  if (options_.metrics) options_.metrics->streams->Set(static_cast<int64_t>(active_.size()));
  return true;
}

void TrackerService::Unregister(LogEventsReactor* reactor) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(reactor);
  parked_.erase(std::remove(parked_.begin(), parked_.end(), reactor), parked_.end());
  if (options_.metrics) options_.metrics->streams->Set(static_cast<int64_t>(active_.size()));
  if (active_.empty()) none_active_.notify_all();
}

void TrackerService::Drain() {
  std::vector<LogEventsReactor*> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
    for (LogEventsReactor* r : active_) {
      r->Hold();
      held.push_back(r);
    }
  }
  for (LogEventsReactor* r : held) r->ReleaseAndStep(/*drain=*/true);
}

void TrackerService::AddInflight(size_t bytes) {
  const size_t now = inflight_bytes_.fetch_add(bytes) + bytes;
  if (options_.metrics) options_.metrics->inflight_bytes->Set(static_cast<int64_t>(now));
}

bool TrackerService::OverBudget() const {
  return inflight_bytes_.load() > options_.max_inflight_bytes;
}

void TrackerService::Park(LogEventsReactor* reactor) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_.count(reactor)) parked_.push_back(reactor);
  }
  // The budget may have been freed between the reactor's check and now: look again.
  ReleaseInflight(0);
}

void TrackerService::ReleaseInflight(size_t bytes) {
  const size_t now = inflight_bytes_.fetch_sub(bytes) - bytes;
  if (options_.metrics) options_.metrics->inflight_bytes->Set(static_cast<int64_t>(now));
  if (now > options_.max_inflight_bytes) return;
  std::vector<LogEventsReactor*> resume;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (parked_.empty()) return;
    resume.swap(parked_);
    for (LogEventsReactor* r : resume) r->Hold();
  }
  for (LogEventsReactor* r : resume) r->ReleaseAndStep(/*drain=*/false);
}

bool TrackerService::AwaitNoStreams(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return none_active_.wait_until(lock, absl::ToChronoTime(deadline),
                                 [this] { return active_.empty(); });
}

size_t TrackerService::ActiveStreams() {
  std::lock_guard<std::mutex> lock(mu_);
  return active_.size();
}

}  // namespace utracker::server::ingest
