#ifndef UTRACKER_SERVER_ALERTS_ALERT_FEED_H_
#define UTRACKER_SERVER_ALERTS_ALERT_FEED_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "storage/alert_store.h"

namespace utracker::server::alerts {

// Something that wants every alert change as the feed reads it (a WatchAlerts stream).
// Called from the feed's thread; must not block.
class AlertSubscriber {
 public:
  virtual ~AlertSubscriber() = default;
  // New versions, in version order.
  virtual void OnChanges(const std::vector<storage::AlertVersion>& changes) = 0;
  // The feed stopped (server shutdown): no more changes will come.
  virtual void OnFeedStopped() = 0;
};

// The one poller per server that follows the alerts table: every `poll_interval` it reads
// the versions after the last one it saw (the table is the only way: another replica's
// evaluator may be the writer) and hands them to every subscriber. Subscribers are held
// weakly: the feed keeps one alive only while calling it, so a subscriber that is gone is
// never called. Owned by the server; thread-safe; the reader must outlive it.
class AlertFeed {
 public:
  static constexpr size_t kBatch = 1000;

  AlertFeed(storage::AlertReader* reader, absl::Duration poll_interval);
  ~AlertFeed();  // stops

  AlertFeed(const AlertFeed&) = delete;
  AlertFeed& operator=(const AlertFeed&) = delete;

  void Start();
  // Ends the poller, then tells every subscriber (OnFeedStopped). Idempotent.
  void Stop();

  // What Subscribe tells a new subscriber.
  enum class Subscribed {
    kFollowing,   // every version after the feed's position reaches the subscriber
    kNotStarted,  // the feed has no position yet: call StartFrom once you know yours
    kStopped,     // the feed is stopped; nothing will come
  };
  Subscribed Subscribe(std::weak_ptr<AlertSubscriber> subscriber);
  void Unsubscribe(const AlertSubscriber* subscriber);

  // For a subscriber told kNotStarted: makes the feed deliver every version after `version`
  // (moving back if it is already past it; others may then see a version twice).
  void StartFrom(int64_t version);

  // Subscribers not yet unsubscribed (tests await streams ending with it).
  size_t SubscriberCount();

  // One poll now (tests); the thread does the same every poll_interval.
  void PollOnce();

 private:
  void Loop();

  storage::AlertReader* const reader_;
  const absl::Duration poll_interval_;

  std::mutex poll_mu_;  // one poll at a time (the thread, or a test's PollOnce)
  std::mutex mu_;
  std::condition_variable wake_;
  std::optional<int64_t> position_;  // guarded by mu_: the last version delivered
  std::vector<std::weak_ptr<AlertSubscriber>> subscribers_;  // guarded by mu_
  bool stopped_ = false;                                     // guarded by mu_
  std::thread thread_;
};

}  // namespace utracker::server::alerts

#endif  // UTRACKER_SERVER_ALERTS_ALERT_FEED_H_
