#ifndef UTRACKER_TESTS_SUPPORT_FAKE_EVENT_STORE_H_
#define UTRACKER_TESTS_SUPPORT_FAKE_EVENT_STORE_H_

#include <condition_variable>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "storage/event_store.h"

namespace utracker::testing {

// An in-memory EventStore for unit tests of the code in front of storage. It dedupes by
// event_id like the real one, can be told to fail (UNAVAILABLE), to stall until released,
// to refuse events whose name is "poison", or to throw (as an allocation failure would) on
// one named "throw". Thread-safe; the state is shared so a test
// keeps a pointer after handing ownership to a writer.
class FakeEventStore : public server::storage::EventStore {
 public:
  absl::StatusOr<server::storage::StoreResult> Store(
      absl::Span<const v1::Event* const> events) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++calls_;
    call_sizes_.push_back(events.size());
    stalled_.notify_all();
    released_.wait(lock, [this] { return !stall_ || cancelled_; });
    if (cancelled_) return absl::UnavailableError("fake: cancelled");
    if (fail_) return absl::UnavailableError("fake: database down");
    for (const v1::Event* e : events) {
      if (e->name() == "throw") throw std::bad_alloc();
    }
    server::storage::StoreResult r;
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i]->name() == "poison") {
        r.rejected.emplace_back(i, "fake: refused by PostgreSQL");
      } else if (ids_.insert(events[i]->event_id()).second) {
        ++r.inserted;
      } else {
        ++r.duplicates;
      }
    }
    return r;
  }

  // As PgEventStore's: a stalled Store returns UNAVAILABLE, and so does every later one.
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    ++cancels_;
    released_.notify_all();
  }
  int cancels() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancels_;
  }

  void SetFail(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = fail;
  }
  void SetStall(bool stall) {
    std::lock_guard<std::mutex> lock(mu_);
    stall_ = stall;
    released_.notify_all();
  }
  // Blocks until at least `n` Store calls have started.
  void AwaitCalls(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    stalled_.wait(lock, [&] { return calls_ >= n; });
  }
  size_t stored() {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.size();
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<size_t> call_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return call_sizes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable released_, stalled_;
  std::set<std::string> ids_;
  std::vector<size_t> call_sizes_;
  int calls_ = 0;
  bool fail_ = false;
  bool stall_ = false;
  bool cancelled_ = false;
  int cancels_ = 0;
};

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_FAKE_EVENT_STORE_H_
