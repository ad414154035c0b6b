#include "rollup/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace utracker::server::rollup {

int LatencyHistogram::BinOf(int64_t latency_us) {
  if (latency_us <= 0) return 0;
  const uint64_t v = static_cast<uint64_t>(latency_us);
  const int e = 63 - __builtin_clzll(v);  // 2^e <= v < 2^(e+1)
  const int sub = e >= 3 ? static_cast<int>((v >> (e - 3)) & 7) : static_cast<int>((v << (3 - e)) & 7);
  return 1 + 8 * e + sub;
}

int64_t LatencyHistogram::BinLow(int bin) {
  if (bin <= 0) return 0;
  const int e = (bin - 1) / 8, sub = (bin - 1) % 8;
  // 2^e * (1 + sub/8), rounded up to a whole microsecond below 2^3.
  const int64_t base = int64_t{1} << e;
  return e >= 3 ? base + (base >> 3) * sub : (base * (8 + sub) + 7) / 8;
}

int64_t LatencyHistogram::BinHigh(int bin) { return bin <= 0 ? 1 : BinLow(bin + 1); }

void LatencyHistogram::AddToBin(int bin, int64_t count) {
  if (count == 0) return;
  auto it = bins_.try_emplace(bin, 0).first;
  it->second += count;
  total_ += count;
  if (it->second == 0) bins_.erase(it);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (const auto& [bin, count] : other.bins_) AddToBin(bin, count);
}

int64_t LatencyHistogram::Quantile(double q, int64_t max_us) const {
  if (total_ <= 0) return 0;
  const int64_t rank =
      std::clamp<int64_t>(static_cast<int64_t>(std::ceil(q * static_cast<double>(total_))), 1,
                          total_);
  int64_t seen = 0;
  for (const auto& [bin, count] : bins_) {
    seen += count;
    if (seen >= rank) {
      if (bin == 0) return std::min<int64_t>(0, max_us);
      const int64_t mid = BinLow(bin) + (BinHigh(bin) - 1 - BinLow(bin)) / 2;
      return std::min(mid, max_us);
    }
  }
  return max_us;
}

}  // namespace utracker::server::rollup
