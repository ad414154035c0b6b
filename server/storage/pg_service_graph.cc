#include "storage/pg_service_graph.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "rollup/hop_fold.h"
#include "storage/pg_arrays.h"

namespace utracker::server::storage {
namespace {

using google::protobuf::util::TimeUtil;

// $1..$5: F (window start, on a minute), H1, H2 (whole hours read from the hour tables),
// T (window end), S (old_before). Times as Unix microseconds.
struct Edge {
  int64_t messages = 0, failures = 0;
  int64_t max_latency = 0;
  rollup::LatencyHistogram latency;
};

google::protobuf::Duration Us(int64_t us) { return TimeUtil::MicrosecondsToDuration(us); }

}  // namespace

RollupWindow::RollupWindow(int64_t from, int64_t to, int64_t old_before) {
  using rollup::BucketOf;
  using rollup::kHourMicros;
  from_ = rollup::MinuteOf(from);
  int64_t h1 = BucketOf(from_ + kHourMicros - 1, kHourMicros);
  // Hour rows only for hours wholly in the window and wholly older than old_before (an hour
  // row cannot say which of its minutes are old).
  int64_t h2 = std::min(BucketOf(to, kHourMicros), BucketOf(old_before, kHourMicros));
  if (h1 >= h2) h1 = h2 = from_;
  const int64_t values[5] = {from_, h1, h2, to, old_before};
  for (int i = 0; i < 5; ++i) params_[i] = absl::StrCat(values[i]);
}

std::string RollupWindow::Rows(const char* family, const char* columns) const {
  return absl::StrCat("SELECT ", columns, ", true AS old FROM ", family,
                      "_hours WHERE hour >= ", SqlTimestamp("$2"), " AND hour < ",
                      SqlTimestamp("$3"), " UNION ALL SELECT ", columns,
                      ", minute + interval '1 minute' <= ", SqlTimestamp("$5"), " AS old FROM ",
                      family, "_minutes WHERE (minute >= ", SqlTimestamp("$1"), " AND minute < ",
                      SqlTimestamp("$2"), ") OR (minute >= ", SqlTimestamp("$3"), " AND minute < ",
                      SqlTimestamp("$4"), ")");
}

pqxx::result RollupWindow::Exec(pqxx::transaction_base& tx, const std::string& sql) const {
  return tx.exec_params(sql, params_[0], params_[1], params_[2], params_[3], params_[4]);
}

v1::GetServiceGraphResponse ReadServiceGraph(pqxx::transaction_base& tx, int64_t from, int64_t to,
                                             int64_t stuck_before) {
  const RollupWindow window(from, to, stuck_before);
  v1::GetServiceGraphResponse out;
  for (const auto& row : window.Exec(
           tx, absl::StrCat("SELECT service, sum(events)::int8, sum(sent)::int8, sum(failed)::int8"
                            " FROM (",
                            window.Rows("service", "service, events, sent, failed"),
                            ") r GROUP BY service ORDER BY service"))) {
    v1::ServiceNode* n = out.add_nodes();
    n->set_name(row[0].as<std::string>());
    n->set_events(row[1].as<uint64_t>());
    n->set_sent(row[2].as<uint64_t>());
    n->set_failed(row[3].as<uint64_t>());
  }

  // (sender, destination) -> messages sent in old buckets that no service has handled.
  std::map<std::pair<std::string, std::string>, int64_t> unhandled;
  for (const auto& row : window.Exec(
           tx, absl::StrCat("SELECT sender, destination, sum(messages - handled)::int8 FROM (",
                            window.Rows("send", "sender, destination, messages, handled"),
                            ") r WHERE old GROUP BY sender, destination"))) {
    unhandled[{row[0].as<std::string>(), row[1].as<std::string>()}] = row[2].as<int64_t>();
  }

  // (sender, handler, destination) -> merged buckets.
  std::map<std::tuple<std::string, std::string, std::string>, Edge> edges;
  for (const auto& row :
       window.Exec(tx, absl::StrCat("SELECT * FROM (",
                                    window.Rows("edge",
                                                "sender, handler, destination, messages, failures,"
                                                " max_latency_us, latency_bins::text AS bins,"
                                                " latency_counts::text AS counts"),
                                    ") r"))) {
    Edge& e = edges[{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()}];
    const int64_t messages = row[3].as<int64_t>();
    const int64_t max_latency = row[5].as<int64_t>();
    e.max_latency = e.messages == 0 ? max_latency : std::max(e.max_latency, max_latency);
    e.messages += messages;
    e.failures += row[4].as<int64_t>();
    const std::vector<int64_t> bins = ParseIntArray(row[6].c_str()),
                               counts = ParseIntArray(row[7].c_str());
    for (size_t i = 0; i < bins.size() && i < counts.size(); ++i) {
      e.latency.AddToBin(static_cast<int>(bins[i]), counts[i]);
    }
  }
  // Where the stuck count goes: on the handler's edge when the destination has one handler
  // in the window (that handler is behind); else on an edge to nobody — no handler at all, or
  // several (competing consumers, fan-out receivers): the count is of messages that none of
  // them handled, which is no single one's edge.
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> stuck_on;
  for (const auto& [key, n] : unhandled) {
    if (n <= 0) continue;
    const auto& [sender, destination] = key;
    const std::string* only = nullptr;
    int handlers = 0;
    for (const auto& [edge, e] : edges) {
      if (std::get<0>(edge) != sender || std::get<2>(edge) != destination) continue;
      ++handlers;
      only = &std::get<1>(edge);
    }
    const std::string handler = handlers == 1 ? *only : "";
    edges[{sender, handler, destination}];
    stuck_on[{sender, handler, destination}] = n;
  }
  for (const auto& [key, e] : edges) {
    const auto& [sender, handler, destination] = key;
    v1::ServiceEdge* edge = out.add_edges();
    edge->set_sender(sender);
    edge->set_handler(handler);
    edge->set_destination(destination);
    edge->set_messages(static_cast<uint64_t>(e.messages));
    edge->set_failures(static_cast<uint64_t>(e.failures));
    if (e.messages > 0) {
      *edge->mutable_p50() = Us(e.latency.Quantile(0.5, e.max_latency));
      *edge->mutable_p95() = Us(e.latency.Quantile(0.95, e.max_latency));
      *edge->mutable_max() = Us(e.max_latency);
    }
    auto stuck = stuck_on.find(key);
    if (stuck != stuck_on.end()) edge->set_stuck(static_cast<uint64_t>(stuck->second));
  }
  *out.mutable_from() = TimeUtil::MicrosecondsToTimestamp(window.from());
  *out.mutable_to() = TimeUtil::MicrosecondsToTimestamp(to);
  return out;
}

}  // namespace utracker::server::storage
