// How long Message::Log takes in the calling thread (target: median <= 1 µs), against a
// baseline measured in the same run: building the same Event protobuf without queueing it.
// The streamer behind Log writes to a sink that acks at once, so the buffer never fills and
// every call takes the full path (event build, sanitising, enqueue).
//
//   build/release/tests/bench/log_bench            (prints medians and the ratio last)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "client_core.h"
#include "event_sink.h"
#include "streamer.h"
#include "utracker/utracker.h"
#include "wire/uuid.h"

namespace {

using utracker::client::internal::EventSink;

// Acks every request at once: the cheapest possible server.
class AckingSink : public EventSink {
 public:
  absl::Status Open(ResponseFn on_response, ClosedFn) override {
    on_response_ = std::move(on_response);
    return absl::OkStatus();
  }
  bool Send(const utracker::client::internal::EncodedRequest& r) override {
    utracker::v1::LogEventsResponse resp;
    resp.set_seq(r.seq);
    resp.set_accepted(static_cast<uint32_t>(r.events));
    on_response_(resp);
    return true;
  }
  absl::Status Close() override { return absl::OkStatus(); }
  void Cancel() override {}

 private:
  ResponseFn on_response_;
};

std::shared_ptr<utracker::internal::ClientCore> MakeCore() {
  utracker::Config c;
  c.service = "bench";
  c.instance = "host-1";
  // Room for a whole repetition: every call must take the full path, none the drop path.
  c.max_buffered_events = 1 << 22;
  c.max_buffered_bytes = size_t{1} << 34;  // the budget is not what is measured: nothing drops
  c.diagnostics = [](absl::string_view) {};
  return std::make_shared<utracker::internal::ClientCore>(c, std::make_unique<AckingSink>());
}

utracker::LogOptions Options() {
  utracker::LogOptions o;
  o.destination = "orders-queue";
  o.attributes["order_id"] = "A-1042";
  return o;
}

void BM_Log(benchmark::State& state) {
  static auto core = MakeCore();
  const auto env = std::make_shared<const utracker::v1::Envelope>(
      core->NewEnvelope(nullptr, R"({"order":1})", "application/json"));
  const utracker::LogOptions o = Options();
  for (auto _ : state) core->Log(env, utracker::kSent, o);
  // Not timed: let the worker catch up so the next repetition starts with an empty buffer.
  if (!core->streamer()->Flush(absl::Seconds(60)).ok()) state.SkipWithError("flush timed out");
  if (state.thread_index() == 0) {
    state.counters["dropped"] = static_cast<double>(core->streamer()->stats().dropped);
  }
}
BENCHMARK(BM_Log)->Iterations(200000)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK(BM_Log)->Threads(2)->Iterations(100000)->Repetitions(9)->ReportAggregatesOnly(true);

// Baseline: the same event built, then destroyed (no sanitising, no queue).
void BM_BuildEventOnly(benchmark::State& state) {
  const utracker::LogOptions o = Options();
  for (auto _ : state) {
    utracker::v1::Event e;
    e.set_event_id(utracker::wire::NewUuidV7());
    e.set_message_id("0190a1a0-0000-7000-8000-0000000000aa");
    e.set_root_id("0190a1a0-0000-7000-8000-0000000000aa");
    e.set_service("bench");
    e.set_instance("host-1");
    e.set_kind(utracker::kSent);
    const int64_t micros = absl::ToUnixMicros(absl::Now());
    e.mutable_occurred_at()->set_seconds(micros / 1000000);
    e.set_destination(o.destination);
    for (const auto& [k, v] : o.attributes) (*e.mutable_attributes())[k] = v;
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_BuildEventOnly)->Repetitions(9)->ReportAggregatesOnly(true);

// Collects the median of each benchmark to print the summary line.
class MedianReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        medians[r.run_name.str()] = r.GetAdjustedRealTime();
      }
      auto it = r.counters.find("dropped");
      if (it != r.counters.end()) dropped = std::max(dropped, static_cast<double>(it->second));
    }
  }
  std::map<std::string, double> medians;
  double dropped = 0;  // must stay 0: a dropped Log is cheaper and would flatter the figure
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double log1 = 0, log2 = 0, base = 0;
  const double dropped = reporter.dropped;
  for (const auto& [name, ns] : reporter.medians) {
    if (name.rfind("BM_Log", 0) == 0 && name.find("threads:2") != std::string::npos)
      log2 = ns;
    else if (name.rfind("BM_Log", 0) == 0)
      log1 = ns;
    else if (name.rfind("BM_BuildEventOnly", 0) == 0)
      base = ns;
  }
  std::cout << "dropped=" << dropped << " log_median_ns=" << log1
            << " log_2threads_median_ns=" << log2 << " build_event_baseline_ns=" << base
            << " log/baseline=" << (base > 0 ? log1 / base : 0) << " target_ns=1000\n";
  return 0;
}
