#include "common/metrics.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace utracker::server {
namespace {

TEST(Metrics, RendersPrometheusTextFormat) {
  MetricsRegistry r;
  r.AddCounter("x_total", "Xs.")->Add(3);
  r.AddGauge("depth", "Depth.")->Set(-2);
  Histogram* h = r.AddHistogram("lat_seconds", "Latency.", {0.01, 0.1});
  h->Observe(0.005);
  h->Observe(0.05);
  h->Observe(7);
  auto* f = r.AddCounterFamily("rej_total", "Rejections.", "reason");
  f->Get("service")->Add(2);
  f->Get("a\"b")->Add();
  const std::string text = r.Render();
  EXPECT_TRUE(absl::StrContains(text, "# HELP x_total Xs.\n# TYPE x_total counter\nx_total 3\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "# TYPE depth gauge\ndepth -2\n")) << text;
  EXPECT_TRUE(absl::StrContains(text,
                                "lat_seconds_bucket{le=\"0.01\"} 1\n"
                                "lat_seconds_bucket{le=\"0.1\"} 2\n"
                                "lat_seconds_bucket{le=\"+Inf\"} 3\n"
                                "lat_seconds_sum 7.055\n"
                                "lat_seconds_count 3\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "rej_total{reason=\"service\"} 2\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "rej_total{reason=\"a\\\"b\"} 1\n")) << text;
}

}  // namespace
}  // namespace utracker::server
