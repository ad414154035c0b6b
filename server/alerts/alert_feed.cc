#include "alerts/alert_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace utracker::server::alerts {

AlertFeed::AlertFeed(storage::AlertReader* reader, absl::Duration poll_interval)
    : reader_(reader), poll_interval_(poll_interval) {}

AlertFeed::~AlertFeed() { Stop(); }

void AlertFeed::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_ || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void AlertFeed::Stop() {
  std::vector<std::weak_ptr<AlertSubscriber>> subscribers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    subscribers.swap(subscribers_);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (const auto& weak : subscribers) {
    if (auto s = weak.lock()) s->OnFeedStopped();
  }
}

AlertFeed::Subscribed AlertFeed::Subscribe(std::weak_ptr<AlertSubscriber> subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return Subscribed::kStopped;
  subscribers_.push_back(std::move(subscriber));
  return position_ ? Subscribed::kFollowing : Subscribed::kNotStarted;
}

void AlertFeed::Unsubscribe(const AlertSubscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  // An expired entry may be the one asked for (its owner is being destroyed): drop those too.
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [subscriber](const std::weak_ptr<AlertSubscriber>& w) {
                                      auto s = w.lock();
                                      return !s || s.get() == subscriber;
                                    }),
                     subscribers_.end());
}

size_t AlertFeed::SubscriberCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return subscribers_.size();
}

void AlertFeed::StartFrom(int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!position_ || *position_ > version) position_ = version;
}

void AlertFeed::PollOnce() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  std::optional<int64_t> position;
  {
    std::lock_guard<std::mutex> lock(mu_);
    position = position_;
  }
  if (!position) {
    // Nobody cares about the past: start from now.
    absl::StatusOr<int64_t> latest = reader_->LatestVersion();
    if (!latest.ok()) {
      spdlog::warn("alert feed: {}", latest.status().ToString());
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!position_) position_ = *latest;  // a StartFrom meanwhile wins
    return;
  }
  for (;;) {  // catch up in batches
    absl::StatusOr<std::vector<storage::AlertVersion>> changes =
        reader_->ChangedSince(*position, kBatch);
    if (!changes.ok()) {
      spdlog::warn("alert feed: {}", changes.status().ToString());
      return;
    }
    if (changes->empty()) return;
    std::vector<std::shared_ptr<AlertSubscriber>> subscribers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      if (position_ != position) {
        // A StartFrom moved us back while we read: read again from there.
        position = position_;
        continue;
      }
      position_ = changes->back().version;
      position = position_;
      subscribers.reserve(subscribers_.size());
      for (const auto& weak : subscribers_) {
        if (auto s = weak.lock()) subscribers.push_back(std::move(s));
      }
    }
    // Outside mu_: a subscriber may call Unsubscribe from inside (its stream ending).
    for (const auto& s : subscribers) s->OnChanges(*changes);
    if (changes->size() < kBatch) return;
  }
}

void AlertFeed::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    lock.unlock();
    PollOnce();
    lock.lock();
    wake_.wait_for(lock, absl::ToChronoMilliseconds(poll_interval_), [this] { return stopped_; });
  }
}

}  // namespace utracker::server::alerts
