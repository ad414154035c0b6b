#ifndef UTRACKER_TESTS_SUPPORT_FAKE_EVENT_SINK_H_
#define UTRACKER_TESTS_SUPPORT_FAKE_EVENT_SINK_H_

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

#include "event_sink.h"

namespace utracker::testing {

// A fake server for the client's Streamer: "commits" events into a set (deduplicating like
// the real one) and acks them, and on demand fails to open, breaks streams after some
// requests (before or after committing them), stops acking, holds back the first ack (so
// acks arrive out of order), stalls Send until released, or rejects events named
// "reject-me". Thread-safe; a test keeps a pointer to it after the
// Streamer takes ownership.
class FakeEventSink : public client::internal::EventSink {
 public:
  struct Knobs {
    int fail_opens = 0;                // the next N Open calls fail
    int break_every = 0;               // break the stream on every Nth request (0: never)
    bool commit_before_break = false;  // that request is committed but never acked
    bool ack = true;                   // ack committed requests
    bool stall = false;                // Send blocks until Set(stall=false) or Cancel
    bool hold_first_ack = false;       // the first request's ack waits for ReleaseHeldAck
  };

  void Set(const Knobs& knobs) {
    std::lock_guard<std::mutex> lock(mu_);
    knobs_ = knobs;
    cv_.notify_all();
  }

  absl::Status Open(ResponseFn on_response, ClosedFn on_closed) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++opens_;
    if (knobs_.fail_opens > 0) {
      --knobs_.fail_opens;
      return absl::UnavailableError("fake: connection refused");
    }
    if (cancelled_) return absl::CancelledError("fake: cancelled");
    on_response_ = std::move(on_response);
    on_closed_ = std::move(on_closed);
    open_ = true;
    return absl::OkStatus();
  }

  bool Send(const client::internal::EncodedRequest& encoded) override {
    // What the server would parse from these bytes.
    v1::LogEventsRequest request;
    if (!request.ParseFromString(encoded.wire) || request.seq() != encoded.seq ||
        request.events_size() != encoded.events) {
      ADD_FAILURE() << "the encoded request does not parse as its seq and events";
      return false;
    }
    std::unique_lock<std::mutex> lock(mu_);
    ++sends_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !knobs_.stall || cancelled_; });
    if (!open_ || cancelled_) return false;
    ++requests_;
    request_bytes_.push_back(encoded.wire.size());
    const bool breaks = knobs_.break_every > 0 && requests_ % knobs_.break_every == 0;
    if (breaks && !knobs_.commit_before_break) return Break(lock);
    v1::LogEventsResponse response;
    response.set_seq(request.seq());
    for (int i = 0; i < request.events_size(); ++i) {
      const v1::Event& e = request.events(i);
      if (e.name() == "reject-me") {
        auto* r = response.add_rejected();
        r->set_index(static_cast<uint32_t>(i));
        r->set_reason("fake: rejected");
        continue;
      }
      if (stored_.insert(e.event_id()).second) {
        last_event_ = e;
        order_.push_back(e.event_id());
        events_.push_back(e);
      } else {
        ++duplicates_;
      }
      response.set_accepted(response.accepted() + 1);
    }
    if (breaks) return Break(lock);
    if (knobs_.hold_first_ack && requests_ == 1) {
      held_ack_ = response;
      return true;
    }
    if (knobs_.ack) {
      ResponseFn on_response = on_response_;
      lock.unlock();
      on_response(response);  // real acks come from another thread; order is the same
    }
    return true;
  }

  absl::Status Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
    return absl::OkStatus();
  }

  // As the real sink: sticky, no stream opens after it.
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

  // Sends the ack Knobs::hold_first_ack kept back (acks now arrive out of order).
  void ReleaseHeldAck() {
    std::unique_lock<std::mutex> lock(mu_);
    ResponseFn on_response = on_response_;
    const v1::LogEventsResponse held = held_ack_;
    lock.unlock();
    on_response(held);
  }

  // Blocks until Send has been entered at least `n` times.
  void AwaitSends(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return sends_ >= n; });
  }

  size_t stored() {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_.size();
  }
  bool HasStored(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_.count(id) > 0;
  }
  size_t duplicates() {
    std::lock_guard<std::mutex> lock(mu_);
    return duplicates_;
  }
  int opens() {
    std::lock_guard<std::mutex> lock(mu_);
    return opens_;
  }
  v1::Event last_event() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_event_;
  }
  // The serialised size of every request sent, in order.
  std::vector<size_t> request_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return request_bytes_;
  }
  // Event ids in the order they were first stored.
  std::vector<std::string> order() {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }
  // The events as first stored, in that order.
  std::vector<v1::Event> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  bool Break(std::unique_lock<std::mutex>& lock) {
    open_ = false;
    ClosedFn on_closed = on_closed_;
    lock.unlock();
    on_closed();
    return false;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  Knobs knobs_;
  ResponseFn on_response_;
  ClosedFn on_closed_;
  bool open_ = false;
  bool cancelled_ = false;
  int opens_ = 0;
  int sends_ = 0;
  int requests_ = 0;
  std::vector<size_t> request_bytes_;
  std::vector<std::string> order_;
  std::vector<v1::Event> events_;
  std::set<std::string> stored_;
  size_t duplicates_ = 0;
  v1::Event last_event_;
  v1::LogEventsResponse held_ack_;
};

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_FAKE_EVENT_SINK_H_
