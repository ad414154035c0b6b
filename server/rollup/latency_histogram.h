#ifndef UTRACKER_SERVER_ROLLUP_LATENCY_HISTOGRAM_H_
#define UTRACKER_SERVER_ROLLUP_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <map>
#include <string>

namespace utracker::server::rollup {

// A sparse log-linear histogram of latencies in microseconds, as stored in the edge rollups.
// Bins are exact integers (no floating point), so a rollup folded incrementally and one
// recomputed from scratch hold identical bins:
//   bin 0          latency <= 0 (clock skew between services can make it negative)
//   bin 1 + 8e + s latency in [2^e, 2^(e+1)), s = the 3 bits after the leading one
// — eight bins per doubling, each at most 12.5 % wide, so a quantile read from the bins is
// within ~6 % of the exact one. Counts may be subtracted (a hop re-timed by a late event
// leaves one bin for another); empty bins are erased.
class LatencyHistogram {
 public:
  static int BinOf(int64_t latency_us);
  // The smallest latency that falls in `bin` (0 for bin 0).
  static int64_t BinLow(int bin);
  // The first latency past `bin`.
  static int64_t BinHigh(int bin);

  void Add(int64_t latency_us, int64_t count = 1) { AddToBin(BinOf(latency_us), count); }
  void AddToBin(int bin, int64_t count);
  void Merge(const LatencyHistogram& other);

  // The q-quantile (0 < q <= 1) by nearest rank, as the midpoint of its bin, clamped to
  // `max_us` (the exact maximum, when known). 0 when empty.
  int64_t Quantile(double q, int64_t max_us) const;

  int64_t total() const { return total_; }
  const std::map<int, int64_t>& bins() const { return bins_; }
  bool operator==(const LatencyHistogram& o) const { return bins_ == o.bins_; }

 private:
  std::map<int, int64_t> bins_;  // bin -> count, never zero
  int64_t total_ = 0;
};

}  // namespace utracker::server::rollup

#endif  // UTRACKER_SERVER_ROLLUP_LATENCY_HISTOGRAM_H_
