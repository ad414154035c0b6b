// The rollup job around a fake store: folds only while leading, drains the inbox in passes,
// gives the lead up when stopped.
#include "rollup/rollup_worker.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace utracker::server::rollup {
namespace {

class FakeRollupStore : public storage::RollupStore {
 public:
  absl::StatusOr<bool> Lead() override {
    ++leads;
    return may_lead.load();
  }
  absl::StatusOr<size_t> RunPass(size_t limit) override {
    ++passes;
    const size_t n = std::min<size_t>(limit, inbox.load());
    inbox -= n;
    return n;
  }
  absl::StatusOr<int64_t> Backlog() override { return inbox.load(); }
  void Resign() override { ++resigned; }

  std::atomic<bool> may_lead{false};
  std::atomic<size_t> inbox{0};
  std::atomic<int> leads{0}, passes{0}, resigned{0};
};

bool Eventually(const std::function<bool()>& done) {
  for (const absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

TEST(RollupWorker, FoldsOnlyWhileLeadingAndDrainsTheInbox) {
  auto owned = std::make_unique<FakeRollupStore>();
  FakeRollupStore* store = owned.get();
  store->inbox = 2500;
  RollupWorkerOptions options;
  options.interval = absl::Milliseconds(10);
  options.pass_limit = 1000;
  MetricsRegistry metrics;
  RollupWorker worker(std::move(owned), options, &metrics);
  worker.Start();
  ASSERT_TRUE(Eventually([&] { return store->leads >= 3; }));
  EXPECT_EQ(store->passes, 0) << "a follower never folds";
  EXPECT_FALSE(worker.leading());
  store->may_lead = true;
  ASSERT_TRUE(Eventually([&] { return store->inbox == 0; }));
  EXPECT_TRUE(worker.leading());
  EXPECT_GE(store->passes, 3);  // 1000 + 1000 + 500 in one tick
  EXPECT_NE(metrics.Render().find("utracker_rollup_events_folded_total 2500"), std::string::npos)
      << metrics.Render();
  worker.Stop();
  EXPECT_EQ(store->resigned, 1);
  EXPECT_FALSE(worker.leading());
}

// A lead lost while running is resigned at once (its connection dropped, what was set up for
// it set up again when the lead comes back), not only at Stop.
TEST(RollupWorker, ALostLeadIsResignedThenTakenAgain) {
  auto owned = std::make_unique<FakeRollupStore>();
  FakeRollupStore* store = owned.get();
  RollupWorkerOptions options;
  options.interval = absl::Milliseconds(10);
  MetricsRegistry metrics;
  RollupWorker worker(std::move(owned), options, &metrics);
  store->may_lead = true;
  worker.Start();
  ASSERT_TRUE(Eventually([&] { return worker.leading(); }));
  EXPECT_EQ(store->resigned, 0);
  store->may_lead = false;
  // The loop clears leading() just before it calls Resign: wait for both.
  ASSERT_TRUE(Eventually([&] { return !worker.leading() && store->resigned >= 1; }));
  EXPECT_EQ(store->resigned, 1);
  store->may_lead = true;
  ASSERT_TRUE(Eventually([&] { return worker.leading(); }));
  worker.Stop();
  EXPECT_EQ(store->resigned, 2);
}

TEST(RollupWorker, WhileIngestIsBusyFoldsOnePassPerTick) {
  auto owned = std::make_unique<FakeRollupStore>();
  FakeRollupStore* store = owned.get();
  store->inbox = 5000;
  store->may_lead = true;
  std::atomic<bool> busy{true};
  RollupWorkerOptions options;
  options.interval = absl::Milliseconds(200);
  options.pass_limit = 1000;
  options.ingest_busy = [&] { return busy.load(); };
  RollupWorker worker(std::move(owned), options);
  worker.Start();
  ASSERT_TRUE(Eventually([&] { return store->passes >= 1; }));
  absl::SleepFor(absl::Milliseconds(100));  // half a tick: no second pass yet
  EXPECT_EQ(store->passes, 1);
  EXPECT_EQ(store->inbox, 4000u);
  busy = false;
  worker.Poke();
  ASSERT_TRUE(Eventually([&] { return store->inbox == 0; })) << "drains once ingest is quiet";
  worker.Stop();
}

}  // namespace
}  // namespace utracker::server::rollup
