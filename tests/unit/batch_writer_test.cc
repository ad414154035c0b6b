#include "ingest/batch_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "support/event_factory.h"
#include "support/fake_event_store.h"
#include "wire/uuid.h"

namespace utracker::server::ingest {
namespace {

using testing::FakeEventStore;

struct Outcome {
  absl::Status status;
  std::vector<v1::Rejection> rejections;
};

PendingBatch MakeBatch(int n, std::promise<Outcome>* done, const std::string& poison_at = "") {
  PendingBatch b;
  b.arena = std::make_unique<google::protobuf::Arena>();
  for (int i = 0; i < n; ++i) {
    auto* e = google::protobuf::Arena::CreateMessage<v1::Event>(b.arena.get());
    *e = testing::MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, absl::Now());
    if (std::to_string(i) == poison_at) e->set_name("poison");
    b.events.push_back(e);
    b.request_index.push_back(static_cast<uint32_t>(i * 2));  // request had others in between
  }
  b.done = [done](absl::Status st, std::vector<v1::Rejection> r) {
    done->set_value({st, std::move(r)});
  };
  return b;
}

class BatchWriterTest : public ::testing::Test {
 protected:
  FakeEventStore* store_ = new FakeEventStore;
  BatchWriter writer_{std::unique_ptr<FakeEventStore>(store_), BatchWriter::Options{10}};
};

TEST_F(BatchWriterTest, ReportsEachBatchAfterStoreWithItsOwnRejectionIndexes) {
  std::promise<Outcome> a, b;
  std::future<Outcome> fa = a.get_future();
  store_->SetStall(true);
  writer_.Submit(MakeBatch(3, &a));
  store_->AwaitCalls(1);
  writer_.Submit(MakeBatch(4, &b, "2"));  // queued behind the stalled call
  EXPECT_EQ(fa.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "a batch must not be reported before the store returns";
  store_->SetStall(false);
  Outcome oa = fa.get();
  Outcome ob = b.get_future().get();
  EXPECT_TRUE(oa.status.ok());
  EXPECT_TRUE(oa.rejections.empty());
  ASSERT_TRUE(ob.status.ok());
  ASSERT_EQ(ob.rejections.size(), 1u);
  EXPECT_EQ(ob.rejections[0].index(), 4u);  // event 2 of the batch is request index 4
  EXPECT_EQ(store_->stored(), 6u);
}

TEST_F(BatchWriterTest, CoalescesQueuedBatchesUpToTheLimit) {
  std::promise<Outcome> p[5];
  store_->SetStall(true);
  writer_.Submit(MakeBatch(1, &p[0]));
  store_->AwaitCalls(1);
  for (int i = 1; i < 5; ++i) writer_.Submit(MakeBatch(4, &p[i]));  // 16 events queued
  store_->SetStall(false);
  writer_.Flush();
  // 1 alone (stalled), then 4+4 (limit 10), then 4+4.
  EXPECT_EQ(store_->call_sizes(), (std::vector<size_t>{1, 8, 8}));
  for (auto& f : p) EXPECT_TRUE(f.get_future().get().status.ok());
}

TEST_F(BatchWriterTest, StoreFailureFailsEveryBatchOfThePass) {
  std::promise<Outcome> a;
  store_->SetFail(true);
  writer_.Submit(MakeBatch(2, &a));
  Outcome o = a.get_future().get();
  EXPECT_EQ(o.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->stored(), 0u);
}

// An exception from the store (an allocation failure, say) fails that pass's batches
// unacked; the writer thread lives on and stores the next ones.
TEST_F(BatchWriterTest, AStoreThatThrowsFailsThePassAndTheWriterGoesOn) {
  std::promise<Outcome> a, b;
  PendingBatch bad = MakeBatch(2, &a);
  bad.events[1]->set_name("throw");
  writer_.Submit(std::move(bad));
  Outcome oa = a.get_future().get();
  EXPECT_EQ(oa.status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(oa.status.message().find("storing events"), absl::string_view::npos) << oa.status;
  writer_.Submit(MakeBatch(3, &b));
  EXPECT_TRUE(b.get_future().get().status.ok());
  EXPECT_EQ(store_->stored(), 3u);
}

// Stop comes after the streams are gone: the store in progress completes, what is still
// queued fails unacked at once (a blocked database must not hold up the exit for it).
TEST_F(BatchWriterTest, StopFinishesTheStoreInProgressAndFailsWhatIsQueued) {
  std::promise<Outcome> a, b, late;
  std::future<Outcome> fb = b.get_future();
  store_->SetStall(true);
  writer_.Submit(MakeBatch(2, &a));
  store_->AwaitCalls(1);
  writer_.Submit(MakeBatch(2, &b));
  std::thread stopper([&] { writer_.Stop(); });
  ASSERT_EQ(fb.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the queued batch waited for the stalled store";
  EXPECT_EQ(fb.get().status.code(), absl::StatusCode::kUnavailable);
  store_->SetStall(false);
  stopper.join();
  EXPECT_TRUE(a.get_future().get().status.ok());
  writer_.Submit(MakeBatch(1, &late));
  EXPECT_EQ(late.get_future().get().status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->stored(), 2u);
  EXPECT_EQ(store_->calls(), 1);
}

// A store still stalled at Stop's deadline (a blocked database) is cancelled: it fails
// unacked, and Stop returns instead of waiting for the database's own timeout.
TEST_F(BatchWriterTest, StopCancelsAStoreStillRunningAtTheDeadline) {
  std::promise<Outcome> a;
  std::future<Outcome> fa = a.get_future();
  store_->SetStall(true);
  writer_.Submit(MakeBatch(2, &a));
  store_->AwaitCalls(1);
  const absl::Time start = absl::Now();
  std::thread stopper([&] { writer_.Stop(absl::Now() + absl::Milliseconds(300)); });
  const bool ended = fa.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!ended) store_->SetStall(false);  // let the test end
  stopper.join();
  ASSERT_TRUE(ended) << "Stop waited for the stalled store past its deadline";
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300)) << "the store got until the deadline";
  EXPECT_EQ(fa.get().status.code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(store_->cancels(), 1);
  EXPECT_EQ(store_->stored(), 0u);
}

}  // namespace
}  // namespace utracker::server::ingest
