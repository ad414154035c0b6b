#include "streamer.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "absl/strings/str_cat.h"

namespace utracker::client::internal {
namespace {

using google::protobuf::internal::WireFormatLite;

using google::protobuf::io::CodedOutputStream;

// Bytes `event` of `size` takes as one element of LogEventsRequest's repeated `events`.
size_t FramedSize(size_t size) {
  return 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(size)) + size;
}

// At most the bytes of a request's seq field.
constexpr size_t kMaxSeqField = 11;

// Appends `event` (its size cached by ByteSizeLong) to a LogEventsRequest's wire form, as
// one element of its repeated `events` field. Should the event not write exactly the size it
// announced (it cannot change in between), an empty event goes in its place: the request
// stays well-formed and the server rejects that one event with its reason.
void AppendEvent(const v1::Event& event, size_t size, std::string* wire) {
  constexpr uint32_t kTag = WireFormatLite::MakeTag(v1::LogEventsRequest::kEventsFieldNumber,
                                                    WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  static_assert(kTag < 128, "the events tag is one byte (FramedSize)");
  const size_t at = wire->size();
  wire->resize(at + FramedSize(size));
  auto* p = reinterpret_cast<uint8_t*>(&(*wire)[at]);
  p = CodedOutputStream::WriteVarint32ToArray(kTag, p);
  p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size), p);
  const uint8_t* end = event.SerializeWithCachedSizesToArray(p);
  if (end != reinterpret_cast<const uint8_t*>(wire->data() + wire->size())) {
    wire->resize(at);
    wire->push_back(static_cast<char>(kTag));
    wire->push_back('\0');
  }
}

// Appends the request's seq (a scalar: where it comes in the bytes does not matter).
void AppendSeq(uint64_t seq, std::string* wire) {
  uint8_t field[kMaxSeqField];
  uint8_t* end =
      WireFormatLite::WriteUInt64ToArray(v1::LogEventsRequest::kSeqFieldNumber, seq, field);
  wire->append(reinterpret_cast<const char*>(field), static_cast<size_t>(end - field));
}

}  // namespace

Streamer::Streamer(std::unique_ptr<EventSink> sink, const Config& config, EventBuilder builder)
    : sink_(std::move(sink)),
      config_(config),
      builder_(std::move(builder)),
      worker_([this] { Run(); }) {}

Streamer::~Streamer() { Shutdown(absl::ZeroDuration()); }

bool Streamer::Enqueue(PendingEvent event) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_ || buffer_.size() >= config_.max_buffered_events ||
      buffered_bytes_ + event.bytes > config_.max_buffered_bytes) {
    lock.unlock();
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  buffered_bytes_ += event.bytes;
  buffer_.push_back(std::move(event));
  ++stats_.logged;
  // Wake the worker only when it sleeps without a deadline or a batch just filled: a futex
  // wake costs more than the rest of Log, and a busy worker comes back by itself.
  const bool notify =
      (worker_idle_ && buffer_.size() == 1) || buffer_.size() == config_.max_batch_events;
  lock.unlock();
  if (notify) wake_.notify_one();
  return true;
}

absl::Status Streamer::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  // Done when every event logged before this call is acked: the oldest unacked one is newer.
  // (A count of acked events would not do: acks come out of order — the server commits on
  // several writers — and events logged after this call may be acked first.)
  const uint64_t target = stats_.logged;
  ++flushing_;
  wake_.notify_one();
  const bool done = settled_.wait_until(lock, absl::ToChronoTime(absl::Now() + timeout),
                                        [&] { return OldestUnacked() >= target; });
  --flushing_;
  if (done) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat("events logged before the flush are not all acked yet (", buffer_.size(),
                   " buffered, ", unacked_events_, " sent and waiting for an ack)"));
}

uint64_t Streamer::OldestUnacked() const {
  if (!unacked_.empty()) return unacked_.begin()->second.first_event;  // seqs follow the order
  if (building_from_ != kNone) return building_from_;
  if (!buffer_.empty()) return taken_;
  return stats_.logged;
}

void Streamer::Shutdown(absl::Duration timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_started_) return;
    shutdown_started_ = true;
  }
  if (timeout > absl::ZeroDuration()) Flush(timeout).IgnoreError();
  uint64_t lost = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  sink_->Cancel();  // a Send blocked by flow control, or a stream being opened, returns now
  worker_.join();
  std::unique_lock<std::mutex> lock(mu_);
  // Counted once the worker is gone: what it was building is in unacked_ by now.
  lost = buffer_.size() + unacked_events_;
  ReportIfDue(lock, /*force=*/true);
  lock.unlock();
  if (lost > 0 && config_.diagnostics) {
    config_.diagnostics(absl::StrCat("shutting down with ", lost, " events not delivered"));
  }
}

Stats Streamer::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.buffered = buffer_.size();
  s.unacked = unacked_events_;
  return s;
}

void Streamer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (AwaitWork(lock)) {
    if (!connected_ || broken_) {
      Reconnect(lock);  // then decide afresh: the buffer may not hold a full batch yet
      continue;
    }
    SendNewBatches(lock);
  }
  lock.unlock();
  sink_->Close().IgnoreError();
}

bool Streamer::AwaitWork(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    ReportIfDue(lock);
    if (stopping_) return false;
    const bool work = !buffer_.empty() || !unacked_.empty();
    if (broken_ || (!connected_ && work)) return true;
    if (connected_ && !buffer_.empty() && unacked_.size() < config_.max_unacked_batches) {
      // Send a full batch at once; a partial one after batch_delay (or at once if flushing).
      if (buffer_.size() >= config_.max_batch_events || flushing_ > 0) return true;
      const absl::Time now = absl::Now();
      if (batch_deadline_ == absl::InfiniteFuture()) batch_deadline_ = now + config_.batch_delay;
      if (now >= batch_deadline_) return true;
      wake_.wait_until(lock, absl::ToChronoTime(batch_deadline_));
      continue;
    }
    worker_idle_ = true;
    wake_.wait_for(lock, absl::ToChronoNanoseconds(config_.report_interval));
    worker_idle_ = false;
  }
}

absl::Duration Streamer::NextBackoff() {
  // Exponential in the number of failed attempts, capped, with "equal jitter": half fixed,
  // half random, so many clients restarting together do not reconnect in lockstep.
  absl::Duration cap = config_.min_backoff;
  for (int i = 1; i < failed_connects_ && cap < config_.max_backoff; ++i) cap *= 2;
  cap = std::min(cap, config_.max_backoff);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return cap / 2 + (cap / 2) * unit(rng_);
}

void Streamer::Reconnect(std::unique_lock<std::mutex>& lock) {
  if (connected_) {
    lock.unlock();
    const absl::Status ended = sink_->Close();
    lock.lock();
    connected_ = false;
    broken_ = false;
    ++failed_connects_;  // reset by the next ack
    // Said once per outage, not once per attempt.
    if (!ended.ok() && failed_connects_ == 1 && config_.diagnostics) {
      const std::string line =
          absl::StrCat("stream ended: ", ended.ToString(),
                       "; reconnecting with backoff, unacked events will be resent");
      lock.unlock();
      config_.diagnostics(line);
      lock.lock();
    }
  }
  broken_ = false;
  if (buffer_.empty() && unacked_.empty()) return;  // reconnect lazily, when needed
  if (failed_connects_ > 0) {
    const absl::Duration wait = NextBackoff();
    if (wake_.wait_for(lock, absl::ToChronoNanoseconds(wait), [this] { return stopping_; })) {
      return;
    }
  }
  lock.unlock();
  const absl::Status opened = sink_->Open([this](const v1::LogEventsResponse& r) { OnResponse(r); },
                                          [this] { OnClosed(); });
  lock.lock();
  if (!opened.ok()) {
    ++failed_connects_;
    return;
  }
  connected_ = true;
  // Shutdown may have cancelled while the stream was being opened (nothing to cancel yet):
  // do not start resending into a stream nobody will cancel again.
  if (stopping_) return;
  ++stats_.reconnects;
  std::vector<std::shared_ptr<const EncodedRequest>> resend;
  for (const auto& [seq, batch] : unacked_) resend.push_back(batch.request);
  Write(lock, resend);
}

void Streamer::SendNewBatches(std::unique_lock<std::mutex>& lock) {
  batch_deadline_ = absl::InfiniteFuture();
  if (unacked_.size() >= config_.max_unacked_batches || buffer_.empty()) return;
  // Hold the lock as briefly as Enqueue's callers can tell: swap the whole buffer out when
  // it fits in one batch, else move one batch's worth.
  std::deque<PendingEvent> taken;
  const uint64_t first_event = taken_;
  if (buffer_.size() <= config_.max_batch_events) {
    taken.swap(buffer_);
    buffered_bytes_ = 0;
  } else {
    for (size_t i = 0; i < config_.max_batch_events; ++i) {
      buffered_bytes_ -= buffer_.front().bytes;
      taken.push_back(std::move(buffer_.front()));
      buffer_.pop_front();
    }
  }
  taken_ += taken.size();
  building_from_ = first_event;
  lock.unlock();
  // Cut by bytes too, so no request comes near the server's message size limit (a request
  // the server cannot take would otherwise be resent forever).
  // Each event is built into one reused message and serialised at once into its request's
  // bytes, which are kept until the ack: no message per event lives on, and nothing is
  // serialised twice (a request of messages was sized and serialised again by gRPC, and each
  // event's strings were allocated and freed one by one).
  std::vector<std::shared_ptr<EncodedRequest>> requests;
  size_t bytes = 0, built = 0;
  for (PendingEvent& p : taken) {
    scratch_.Clear();
    builder_(p, &scratch_);
    const size_t size = scratch_.ByteSizeLong();
    if (requests.empty() ||
        (requests.back()->events > 0 && bytes + size > config_.max_batch_bytes)) {
      requests.push_back(std::make_shared<EncodedRequest>());
      // Room for the rest at this event's size (framing included: at most an eighth more
      // than the events' own bytes); trimmed below when that guessed far over.
      requests.back()->wire.reserve(
          std::min(config_.max_batch_bytes + config_.max_batch_bytes / 8,
                   (taken.size() - built) * FramedSize(size)) +
          kMaxSeqField);
      bytes = 0;
    }
    AppendEvent(scratch_, size, &requests.back()->wire);
    ++requests.back()->events;
    bytes += size;
    ++built;
  }
  taken.clear();  // releases envelopes outside the lock
  for (auto& r : requests) {
    r->seq = next_seq_++;
    AppendSeq(r->seq, &r->wire);
    // Kept until the ack (up to max_unacked_batches of them): not with much room to spare.
    if (r->wire.capacity() > r->wire.size() + r->wire.size() / 8 + 64) r->wire.shrink_to_fit();
  }
  lock.lock();
  std::vector<std::shared_ptr<const EncodedRequest>> to_send;
  uint64_t next_event = first_event;
  for (auto& r : requests) {
    unacked_events_ += static_cast<uint64_t>(r->events);
    unacked_[r->seq] = Batch{r, next_event};
    next_event += static_cast<uint64_t>(r->events);
    to_send.push_back(r);
  }
  building_from_ = kNone;
  Write(lock, to_send);
}

void Streamer::Write(std::unique_lock<std::mutex>& lock,
                     const std::vector<std::shared_ptr<const EncodedRequest>>& requests) {
  lock.unlock();
  size_t sent = 0;
  bool ok = true;
  for (const auto& r : requests) {
    if (!sink_->Send(*r)) {
      ok = false;
      break;
    }
    sent += static_cast<size_t>(r->events);
  }
  lock.lock();
  stats_.sent += sent;
  if (!ok) broken_ = true;
}

void Streamer::OnResponse(const v1::LogEventsResponse& response) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = unacked_.find(response.seq());
  if (it == unacked_.end()) return;  // an ack for a batch acked before (resent)
  const uint64_t events = static_cast<uint64_t>(it->second.request->events);
  unacked_.erase(it);
  unacked_events_ -= events;
  stats_.acked += response.accepted();
  stats_.rejected += response.rejected_size();
  if (response.rejected_size() > 0) stats_.last_rejection = response.rejected(0).reason();
  failed_connects_ = 0;
  settled_.notify_all();
  wake_.notify_one();
}

void Streamer::OnClosed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;
  }
  wake_.notify_one();
}

void Streamer::ReportIfDue(std::unique_lock<std::mutex>& lock, bool force) {
  const absl::Time now = absl::Now();
  if (!force && now - last_report_ < config_.report_interval) return;
  last_report_ = now;
  std::vector<std::string> lines;
  const uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  if (dropped > dropped_reported_) {
    lines.push_back(absl::StrCat("dropped ", dropped - dropped_reported_,
                                 " events: the buffer (", config_.max_buffered_events,
                                 " events, ", config_.max_buffered_bytes,
                                 " bytes) was full (server slow or unreachable)"));
    dropped_reported_ = dropped;
  }
  if (stats_.rejected > rejected_reported_) {
    lines.push_back(absl::StrCat("the server rejected ", stats_.rejected - rejected_reported_,
                                 " events; last reason: ", stats_.last_rejection));
    rejected_reported_ = stats_.rejected;
  }
  if (lines.empty() || !config_.diagnostics) return;
  lock.unlock();
  for (const auto& line : lines) config_.diagnostics(line);
  lock.lock();
}

}  // namespace utracker::client::internal
