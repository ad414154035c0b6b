#include "alerts/alerts_service.h"

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerts/pending_changes.h"
#include "common/grpc_status.h"
#include "query/run_query.h"
#include "wire/text.h"

namespace utracker::server::alerts {
namespace {

using query::FinishNow;
using query::RunQuery;

absl::StatusOr<storage::AlertFilter> FilterArgument(const v1::ListAlertsRequest& r) {
  if (r.limit() < 0 || r.limit() > AlertsService::kMaxLimit) {
    return absl::InvalidArgumentError(absl::StrCat("limit ", r.limit(), " is outside 0..",
                                                   AlertsService::kMaxLimit, " (0: the default, ",
                                                   AlertsService::kDefaultLimit, ")"));
  }
  if (!v1::AlertState_IsValid(r.state())) {
    return absl::InvalidArgumentError("state: unknown value");
  }
  if (!v1::AlertRule_IsValid(r.rule())) return absl::InvalidArgumentError("rule: unknown value");
  if (wire::ContainsNul(r.service()) || !wire::IsValidUtf8(r.service())) {
    return absl::InvalidArgumentError("service must be UTF-8 without NUL bytes");
  }
  storage::AlertFilter f;
  f.state = r.state();
  f.rule = r.rule();
  f.service = r.service();
  f.limit = r.limit() == 0 ? AlertsService::kDefaultLimit : r.limit();
  return f;
}

// One WatchAlerts stream. Reactions, the start-up load (on the executor) and the feed's
// deliveries run on different threads: all state is under mu_, and gRPC operations start
// only after mu_ is released (a reaction may run inline inside StartWrite). The reactor
// owns itself (self_) until OnDone; the feed holds it only weakly, and strongly only while
// delivering, so neither ever calls into a freed reactor.
class WatchReactor final : public grpc::ServerWriteReactor<v1::AlertChange>,
                           public AlertSubscriber,
                           public std::enable_shared_from_this<WatchReactor> {
 public:
  WatchReactor(storage::AlertReader* reader, AlertFeed* feed) : reader_(reader), feed_(feed) {}

  // Right after construction (shared_from_this needs a shared_ptr owner by then).
  void Begin(query::QueryExecutor* executor) {
    self_ = shared_from_this();
    Guard([&] {
      switch (feed_->Subscribe(weak_from_this())) {
        case AlertFeed::Subscribed::kStopped:
          return FailWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
        case AlertFeed::Subscribed::kNotStarted:
          start_feed_ = true;
          break;
        case AlertFeed::Subscribed::kFollowing:
          break;
      }
      std::shared_ptr<WatchReactor> self = self_;
      if (!executor->Post([self] { self->Load(); })) {
        FailWith(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "too many queries waiting; retry later"));
      }
    });
  }

  void OnChanges(const std::vector<storage::AlertVersion>& changes) override {
    Guard([&] {
      std::unique_lock<std::mutex> lock(mu_);
      if (finished_ || status_) return;
      for (const storage::AlertVersion& change : changes) pending_.Add(change);
      Run(Step(), lock);
    });
  }

  void OnFeedStopped() override {
    FailWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }

  void OnWriteDone(bool ok) override {
    Guard([&] {
      std::unique_lock<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok && !status_) {
        status_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed: client gone");
      }
      Run(Step(), lock);
    });
  }

  void OnCancel() override {
    FailWith(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
  }

  void OnDone() override {
    feed_->Unsubscribe(this);
    std::shared_ptr<WatchReactor> self;  // may be the last owner: `this` dies with it
    std::lock_guard<std::mutex> lock(mu_);
    self.swap(self_);
  }

 private:
  // What to do next, decided under mu_ and done after releasing it.
  struct Actions {
    const v1::AlertChange* write = nullptr;
    std::optional<grpc::Status> finish;
  };

  // On the executor: the open alerts now, read after the version they are newer than, so
  // every later change also comes from the feed (subscribed before this ran). A change
  // both here and from the feed is sent twice; none is lost.
  void Load() {
    Guard([&] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (finished_ || status_) return;  // cancelled while queued
      }
      absl::StatusOr<int64_t> latest = reader_->LatestVersion();
      if (!latest.ok()) return FailWith(ToGrpcStatus(latest.status()));
      storage::AlertFilter open_now;
      open_now.state = v1::ALERT_STATE_OPEN;
      open_now.limit = AlertsService::kMaxOpenAtStart;
      absl::StatusOr<std::vector<v1::Alert>> open = reader_->ListAlerts(open_now);
      if (!open.ok()) return FailWith(ToGrpcStatus(open.status()));
      if (start_feed_) feed_->StartFrom(*latest);
      std::unique_lock<std::mutex> lock(mu_);
      pending_.SetFloor(*latest);
      for (auto it = open->rbegin(); it != open->rend(); ++it) {  // oldest first
        v1::AlertChange change;
        change.set_kind(v1::AlertChange::KIND_OPEN_AT_START);
        *change.mutable_alert() = std::move(*it);
        start_.push_back(std::move(change));
      }
      loading_ = false;
      Run(Step(), lock);
    });
  }

  Actions Step() {
    Actions a;
    if (finished_ || writing_) return a;
    if (status_) {
      finished_ = true;
      start_.clear();
      pending_ = PendingChanges();
      a.finish = *status_;
      return a;
    }
    if (loading_) return a;
    if (!start_.empty()) {
      current_ = std::move(start_.front());
      start_.pop_front();
    } else if (std::optional<storage::AlertVersion> next = pending_.Pop()) {
      current_.Clear();
      current_.set_kind(ChangeKind(next->alert));
      *current_.mutable_alert() = std::move(next->alert);
    } else {
      return a;
    }
    writing_ = true;
    a.write = &current_;  // untouched until OnWriteDone clears writing_
    return a;
  }

  void Run(Actions a, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    if (a.write != nullptr) StartWrite(a.write);
    if (a.finish) Finish(*a.finish);
  }

  void FailWith(grpc::Status status) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!status_) status_ = std::move(status);
    Run(Step(), lock);
  }

  // A reaction must never let an exception escape (it would hang or crash the RPC).
  template <typename F>
  void Guard(F&& body) {
    GuardReaction(body, [this](grpc::Status status) { FailWith(std::move(status)); });
  }

  storage::AlertReader* const reader_;
  AlertFeed* const feed_;
  bool start_feed_ = false;  // set in Begin, before Load is posted

  std::mutex mu_;
  std::shared_ptr<WatchReactor> self_;  // guarded by mu_ after Begin; dropped in OnDone
  bool loading_ = true;
  std::deque<v1::AlertChange> start_;  // KIND_OPEN_AT_START, sent before pending_
  PendingChanges pending_;
  v1::AlertChange current_;  // being written while writing_
  bool writing_ = false;
  std::optional<grpc::Status> status_;  // finish with this once the write in flight is done
  bool finished_ = false;
};

}  // namespace

AlertsService::AlertsService(storage::AlertReader* reader, query::QueryExecutor* executor,
                             AlertFeed* feed)
    : reader_(reader), executor_(executor), feed_(feed) {}

grpc::ServerUnaryReactor* AlertsService::ListAlerts(grpc::CallbackServerContext* context,
                                                    const v1::ListAlertsRequest* request,
                                                    v1::ListAlertsResponse* response) {
  absl::StatusOr<storage::AlertFilter> filter = FilterArgument(*request);
  if (!filter.ok()) {
    return FinishNow(context, filter.status());
  }
  return RunQuery(context, executor_,
                  [this, filter = *std::move(filter), response]() -> absl::Status {
                    absl::StatusOr<std::vector<v1::Alert>> alerts = reader_->ListAlerts(filter);
                    if (!alerts.ok()) return alerts.status();
                    for (v1::Alert& a : *alerts) *response->add_alerts() = std::move(a);
                    return absl::OkStatus();
                  });
}

grpc::ServerWriteReactor<v1::AlertChange>* AlertsService::WatchAlerts(
    grpc::CallbackServerContext* /*context*/, const v1::WatchAlertsRequest* /*request*/) {
  auto reactor = std::make_shared<WatchReactor>(reader_, feed_);
  reactor->Begin(executor_);
  return reactor.get();  // alive until its OnDone
}

}  // namespace utracker::server::alerts
