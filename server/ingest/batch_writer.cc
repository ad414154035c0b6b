#include "ingest/batch_writer.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace utracker::server::ingest {

namespace {

std::vector<std::unique_ptr<storage::EventStore>> One(std::unique_ptr<storage::EventStore> s) {
  std::vector<std::unique_ptr<storage::EventStore>> v;
  v.push_back(std::move(s));
  return v;
}

}  // namespace

BatchWriter::BatchWriter(std::vector<std::unique_ptr<storage::EventStore>> sinks, Options options,
                         std::function<void(bool)> on_store_health)
    : sinks_(std::move(sinks)), options_(options), on_store_health_(std::move(on_store_health)) {
  for (const auto& sink : sinks_) workers_.emplace_back([this, s = sink.get()] { Run(s); });
}

BatchWriter::BatchWriter(std::unique_ptr<storage::EventStore> sink, Options options,
                         std::function<void(bool)> on_store_health)
    : BatchWriter(One(std::move(sink)), options, std::move(on_store_health)) {}

BatchWriter::~BatchWriter() { Stop(); }

void BatchWriter::Submit(PendingBatch batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queued_events_ += batch.events.size();
      if (options_.metrics)
        options_.metrics->queue_events->Set(static_cast<int64_t>(queued_events_));
      queue_.push_back(std::move(batch));
      wake_.notify_one();
      return;
    }
  }
  batch.done(absl::UnavailableError("server is shutting down"), {});
}

void BatchWriter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
}

void BatchWriter::Stop(absl::Time deadline) {
  std::deque<PendingBatch> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    left.swap(queue_);
    queued_events_ = 0;
    if (options_.metrics) options_.metrics->queue_events->Set(0);
    wake_.notify_all();
  }
  for (PendingBatch& b : left) {
    b.done(absl::UnavailableError("server is shutting down; resend what was not acked"), {});
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto idle = [this] { return busy_ == 0; };
    if (deadline == absl::InfiniteFuture()) {
      drained_.wait(lock, idle);
    } else if (!drained_.wait_until(lock, absl::ToChronoTime(deadline), idle)) {
      // Past the deadline each sink is told to cancel, again every 200 ms: between two of its
      // statements a cancel finds nothing to cancel, and the next statement may block too.
      do {
        lock.unlock();
        for (const auto& sink : sinks_) sink->Cancel();
        lock.lock();
      } while (!drained_.wait_for(lock, std::chrono::milliseconds(200), idle));
    }
  }
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void BatchWriter::Run(storage::EventStore* sink) {
  std::vector<PendingBatch> taken;
  bool holding = false;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (holding) --busy_;
      holding = false;
      if (queue_.empty() && busy_ == 0) drained_.notify_all();
      wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued was stored
      // Coalesce: one transaction per pass amortises the commit (an fsync) over batches.
      size_t events = 0;
      while (!queue_.empty() && (taken.empty() || events + queue_.front().events.size() <=
                                                      options_.max_events_per_commit)) {
        events += queue_.front().events.size();
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_events_ -= events;
      if (options_.metrics)
        options_.metrics->queue_events->Set(static_cast<int64_t>(queued_events_));
      ++busy_;
      holding = true;
    }
    StoreAndReport(sink, taken);
    taken.clear();
  }
}

void BatchWriter::StoreAndReport(storage::EventStore* sink, std::vector<PendingBatch>& batches) {
  std::vector<const v1::Event*> events;
  for (const PendingBatch& b : batches) {
    events.insert(events.end(), b.events.begin(), b.events.end());
  }
  const absl::Time start = absl::Now();
  // An exception (std::bad_alloc, say) must not end the writer thread, which would end the
  // process: the batches fail unacked instead, and their clients resend them.
  absl::StatusOr<storage::StoreResult> result = [&]() -> absl::StatusOr<storage::StoreResult> {
    try {
      return sink->Store(events);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("storing events: ", e.what()));
    } catch (...) {
      return absl::InternalError("storing events: unknown exception");
    }
  }();
  if (IngestMetrics* m = options_.metrics) {
    m->postgres_up->Set(result.ok() || result.status().code() != absl::StatusCode::kUnavailable);
    if (result.ok()) {
      m->commit_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start));
      m->batch_events->Observe(static_cast<double>(events.size()));
      m->events_deduplicated->Add(result->duplicates);
      if (!result->rejected.empty())
        m->events_rejected->Get("storage")->Add(result->rejected.size());
    }
  }
  if (on_store_health_) {
    on_store_health_(result.ok() || result.status().code() != absl::StatusCode::kUnavailable);
  }
  if (!result.ok()) {
    for (PendingBatch& b : batches) b.done(result.status(), {});
    return;
  }
  // Rejections come as indexes into the concatenation; hand each back to its batch.
  std::sort(result->rejected.begin(), result->rejected.end());
  auto next = result->rejected.begin();
  size_t base = 0;
  for (PendingBatch& b : batches) {
    std::vector<v1::Rejection> rejections;
    for (; next != result->rejected.end() && next->first < base + b.events.size(); ++next) {
      v1::Rejection r;
      r.set_index(b.request_index[next->first - base]);
      r.set_reason(std::move(next->second));
      rejections.push_back(std::move(r));
    }
    base += b.events.size();
    b.done(absl::OkStatus(), std::move(rejections));
  }
}

}  // namespace utracker::server::ingest
