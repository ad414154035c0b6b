// The rollup fold and its latency histogram, without a database.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "rollup/hop_fold.h"
#include "rollup/latency_histogram.h"

namespace utracker::server::rollup {
namespace {

TEST(LatencyHistogram, BinsAreContiguousOrderedAndNarrow) {
  EXPECT_EQ(LatencyHistogram::BinOf(-7), 0);
  EXPECT_EQ(LatencyHistogram::BinOf(0), 0);
  int last = 0;
  for (int64_t v = 1; v < (int64_t{1} << 40); v += 1 + v / 5) {
    const int bin = LatencyHistogram::BinOf(v);
    EXPECT_GE(bin, last) << v;  // monotone
    last = bin;
    EXPECT_LE(LatencyHistogram::BinLow(bin), v) << v;
    EXPECT_GT(LatencyHistogram::BinHigh(bin), v) << v;
    if (v >= 8) {
      EXPECT_LE(LatencyHistogram::BinHigh(bin) - LatencyHistogram::BinLow(bin), v / 8 + 1) << v;
    }
  }
  EXPECT_EQ(LatencyHistogram::BinOf(8), LatencyHistogram::BinOf(8));
  EXPECT_NE(LatencyHistogram::BinOf(8), LatencyHistogram::BinOf(9));
  EXPECT_EQ(LatencyHistogram::BinOf(1024), LatencyHistogram::BinOf(1024 + 127));
  EXPECT_NE(LatencyHistogram::BinOf(1024), LatencyHistogram::BinOf(1024 + 128));
}

TEST(LatencyHistogram, QuantilesAreWithinTheBinWidth) {
  LatencyHistogram h;
  std::vector<int64_t> values;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10000; ++i) {
    values.push_back(1000 + static_cast<int64_t>(rng() % 5000000));
    h.Add(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.95, 0.99}) {
    const int64_t exact = values[static_cast<size_t>(q * values.size()) - 1];
    EXPECT_NEAR(static_cast<double>(h.Quantile(q, values.back())), exact, exact * 0.07) << q;
  }
  EXPECT_EQ(h.Quantile(1.0, values.back()), std::min(h.Quantile(1.0, INT64_MAX), values.back()));
  EXPECT_EQ(LatencyHistogram().Quantile(0.5, 10), 0);
}

TEST(LatencyHistogram, SubtractingErasesEmptyBins) {
  LatencyHistogram h;
  h.Add(500);
  h.Add(70000);
  h.Add(500, -1);
  EXPECT_EQ(h.total(), 1);
  EXPECT_EQ(h.bins().size(), 1u);
  LatencyHistogram g;
  g.Add(70000);
  EXPECT_EQ(h, g);
}

InboxEvent Ev(const std::string& id, const std::string& service, v1::EventKind kind, int64_t at,
              const std::string& dest = "") {
  return InboxEvent{id, service, dest, kind, at};
}

// Folds events in batches into a running state and running buckets, as the store does.
struct Rollups {
  std::map<std::string, MessageHops> state;
  std::map<NodeKey, int64_t> node_events;
  std::map<SendKey, SendDelta> sends;
  std::map<EdgeKey, EdgeBucket> edges;
  int recomputes = 0;

  void FoldBatch(const std::vector<InboxEvent>& batch) {
    FoldResult r = Fold(batch, state);
    for (auto& [id, m] : r.changed) state[id] = m;
    for (const auto& [k, d] : r.nodes) node_events[k] += d.events;
    for (const auto& [k, n] : r.sends) {
      SendDelta& d = sends[k];
      d.messages += n.messages;
      d.handled += n.handled;
      if (d.empty()) sends.erase(k);
    }
    for (const auto& [k, d] : r.edges) {
      EdgeBucket& b = edges[k];
      if (!ApplyEdgeDelta(d, &b)) {
        ++recomputes;
        if (b.messages > 0) b.max_latency = MaxOf(k);
      }
      if (b.messages == 0) edges.erase(k);
    }
  }
  int64_t MaxOf(const EdgeKey& k) const {  // from the hop state, as the store recomputes it
    int64_t max = INT64_MIN;
    for (const auto& [id, m] : state) {
      if (!m.send || MinuteOf(m.send->sent_at) != k.minute || m.send->sender != k.sender ||
          m.send->destination != k.destination) {
        continue;
      }
      auto h = m.handlers.find(k.handler);
      if (h != m.handlers.end()) max = std::max(max, h->second.handled_at - m.send->sent_at);
    }
    return max;
  }
};

bool SameBuckets(const Rollups& a, const Rollups& b) {
  if (a.node_events != b.node_events || a.sends != b.sends || a.edges.size() != b.edges.size()) {
    return false;
  }
  for (const auto& [k, x] : a.edges) {
    auto it = b.edges.find(k);
    if (it == b.edges.end()) return false;
    const EdgeBucket& y = it->second;
    if (x.messages != y.messages || x.failures != y.failures || x.max_latency != y.max_latency ||
        !(x.latency == y.latency)) {
      return false;
    }
  }
  return true;
}

TEST(HopFold, AHopIsCountedInTheMinuteOfItsSendWithItsFirstHandlingEvent) {
  Rollups r;
  const int64_t t = 1699999980000000;  // on a minute boundary
  r.FoldBatch({Ev("m", "alice", v1::EVENT_KIND_SENT, t + 1000, "q"),
               Ev("m", "bob", v1::EVENT_KIND_PROCESSED, t + 90000000),
               Ev("m", "bob", v1::EVENT_KIND_RECEIVED, t + 61000000),
               Ev("m", "alice", v1::EVENT_KIND_NOTE, t + 2000)});  // the sender's own: no hop
  ASSERT_EQ(r.edges.size(), 1u);
  const auto& [key, b] = *r.edges.begin();
  EXPECT_EQ(key.minute, t);
  EXPECT_EQ(key.handler, "bob");
  EXPECT_EQ(b.messages, 1);
  EXPECT_EQ(b.max_latency, 61000000 - 1000);
  EXPECT_EQ(r.sends.at(SendKey{t, "alice", "q"}), (SendDelta{1, 1}));
  EXPECT_EQ(r.node_events.at(NodeKey{t + 60000000, "bob"}), 2);
}

TEST(HopFold, ALateEarlierEventMovesTheHopAndTheMaxDrops) {
  Rollups r;
  const int64_t t = 1699999980000000;
  r.FoldBatch({Ev("m", "alice", v1::EVENT_KIND_SENT, t + 5000000, "q"),
               Ev("m", "bob", v1::EVENT_KIND_PROCESSED, t + 9000000)});
  r.FoldBatch({Ev("n", "alice", v1::EVENT_KIND_SENT, t + 1000000, "q"),
               Ev("n", "bob", v1::EVENT_KIND_PROCESSED, t + 2000000)});
  EXPECT_EQ(r.edges.begin()->second.max_latency, 4000000);
  // bob's RECEIVED of m, earlier than its PROCESSED, arrives late: m's hop shrinks.
  r.FoldBatch({Ev("m", "bob", v1::EVENT_KIND_RECEIVED, t + 5500000)});
  EXPECT_EQ(r.recomputes, 1);
  EXPECT_EQ(r.edges.begin()->second.max_latency, 1000000);
  // A SENT of m a minute earlier (a retry logged with an older clock) moves the hop.
  r.FoldBatch({Ev("m", "alice", v1::EVENT_KIND_SENT, t - 30000000, "q")});
  EXPECT_EQ(r.edges.size(), 2u);
  EXPECT_EQ(r.sends.at(SendKey{t - 60000000, "alice", "q"}), (SendDelta{1, 1}));
  EXPECT_EQ(r.sends.at(SendKey{t, "alice", "q"}), (SendDelta{1, 1}));
}

// A send counts as handled once whoever handled it and however many did, never for the
// sender's own events, and only while it has a handler; the count follows the send.
TEST(HopFold, ASendIsHandledOnceByAnyNumberOfReceiversButNotByItsSender) {
  Rollups r;
  const int64_t t = 1699999980000000;
  const SendKey q{t, "alice", "q"};
  r.FoldBatch({Ev("w1", "bob", v1::EVENT_KIND_RECEIVED, t + 3000),  // before its send arrives
               Ev("w2", "alice", v1::EVENT_KIND_SENT, t + 1000, "q"),
               Ev("w2", "alice", v1::EVENT_KIND_NOTE, t + 2000),  // the sender's own
               Ev("w3", "alice", v1::EVENT_KIND_SENT, t + 1000, "q"),
               Ev("w3", "carl", v1::EVENT_KIND_RECEIVED, t + 4000),
               Ev("w3", "dave", v1::EVENT_KIND_FAILED, t + 5000)});
  EXPECT_EQ(r.sends.at(q), (SendDelta{2, 1}));  // w1 has no send yet; w2 only the sender's
  r.FoldBatch({Ev("w1", "alice", v1::EVENT_KIND_SENT, t + 1000, "q"),
               Ev("w3", "carl", v1::EVENT_KIND_PROCESSED, t + 6000)});
  EXPECT_EQ(r.sends.at(q), (SendDelta{3, 2}));
  r.FoldBatch({Ev("w2", "bob", v1::EVENT_KIND_RECEIVED, t + 7000)});
  EXPECT_EQ(r.sends.at(q), (SendDelta{3, 3}));
  // An earlier SENT of w1 to another destination moves its send, handled with it.
  r.FoldBatch({Ev("w1", "alice", v1::EVENT_KIND_SENT, t + 500, "r")});
  EXPECT_EQ(r.sends.at(q), (SendDelta{2, 2}));
  EXPECT_EQ(r.sends.at(SendKey{t, "alice", "r"}), (SendDelta{1, 1}));
}

TEST(HopFold, AnyOrderAndAnyBatchingGiveTheSameRollups) {
  std::mt19937 rng(9);
  const char* services[] = {"a", "b", "c"};
  std::vector<InboxEvent> events;
  const int64_t t = 1699999980000000;
  for (int m = 0; m < 60; ++m) {
    const std::string id = "m" + std::to_string(m);
    const int64_t sent = t + static_cast<int64_t>(rng() % 300000000);
    if (rng() % 8 != 0) events.push_back(Ev(id, services[rng() % 3], v1::EVENT_KIND_SENT, sent, "q"));
    if (rng() % 5 == 0) {
      events.push_back(Ev(id, services[rng() % 3], v1::EVENT_KIND_SENT,
                          sent - static_cast<int64_t>(rng() % 90000000), "r"));
    }
    for (int k = static_cast<int>(rng() % 5); k > 0; --k) {
      const v1::EventKind kinds[] = {v1::EVENT_KIND_RECEIVED, v1::EVENT_KIND_PROCESSED,
                                     v1::EVENT_KIND_FAILED, v1::EVENT_KIND_NOTE,
                                     v1::EVENT_KIND_REPLAYED};
      events.push_back(Ev(id, services[rng() % 3], kinds[rng() % 5],
                          sent + static_cast<int64_t>(rng() % 100000000) - 1000));
    }
  }
  Rollups once;
  once.FoldBatch(events);
  int recomputes = 0;
  for (int round = 0; round < 30; ++round) {
    std::shuffle(events.begin(), events.end(), rng);
    Rollups batched;
    for (size_t i = 0; i < events.size();) {
      const size_t n = std::min<size_t>(1 + rng() % 7, events.size() - i);
      batched.FoldBatch(std::vector<InboxEvent>(events.begin() + i, events.begin() + i + n));
      i += n;
    }
    EXPECT_TRUE(SameBuckets(once, batched)) << "round " << round;
    EXPECT_EQ(once.state, batched.state) << "round " << round;
    recomputes += batched.recomputes;
  }
  EXPECT_GT(recomputes, 0) << "the orders must have exercised a dropping max";
}

TEST(HopFold, CoarsenSumsMinutesIntoHours) {
  const int64_t t = 1700000000000000 / kHourMicros * kHourMicros;
  FoldResult f = Fold({Ev("m", "a", v1::EVENT_KIND_SENT, t + 1, "q"),
                       Ev("m", "b", v1::EVENT_KIND_RECEIVED, t + 10),
                       Ev("n", "a", v1::EVENT_KIND_SENT, t + 30 * kMinuteMicros, "q"),
                       Ev("n", "b", v1::EVENT_KIND_FAILED, t + 31 * kMinuteMicros)},
                      {});
  FoldResult h = Coarsen(f, kHourMicros);
  ASSERT_EQ(h.edges.size(), 1u);
  EXPECT_EQ(h.edges.begin()->second.messages, 2);
  EXPECT_EQ(h.edges.begin()->second.failures, 1);
  EXPECT_EQ(*h.edges.begin()->second.max_added, kMinuteMicros);
  EXPECT_EQ(h.sends.at(SendKey{t, "a", "q"}), (SendDelta{2, 2}));
  EXPECT_EQ(h.nodes.at(NodeKey{t, "b"}).failed, 1);
}

}  // namespace
}  // namespace utracker::server::rollup
