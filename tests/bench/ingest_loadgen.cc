// Load generator for tests/bench/ingest_bench.sh. Generates the same N realistic events in
// every mode (deterministic from the index): flows of 4 messages (a root and 3 children),
// 3 events per message (SENT by its author, RECEIVED and PROCESSED by a handler), 8
// services, UUIDv7 ids, every other event carrying a ~100-byte JSON payload.
//
//   ingest_loadgen copyfile --events N --out FILE      binary COPY file for the events table
//   ingest_loadgen naive --events N --db URL           one INSERT per event (autocommit)
//   ingest_loadgen stream --events N --server ADDR     the client library, one Client per service
//   ingest_loadgen copyall --events N --out F --out_messages G [--tree 1000]
//   ingest_loadgen query --server ADDR [--queries graph,flow,page] [--runs 9] [--db URL]
//                                                      times the Flows queries (query_bench.sh);
//                                                      with --db, GetFlow against plain SQL too
//   ingest_loadgen alertscan --db URL                  times alert evaluations (query_bench.sh)
//
// Prints one line: "mode=... events=N seconds=S events_per_s=R [dropped=D]".
#include <sys/resource.h>

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "alerts/alert_evaluator.h"
#include "storage/copy_encoder.h"
#include "storage/pg_alert_store.h"
#include "storage/message_rows.h"
#include "utracker/utracker.h"
#include "utracker/v1/flows.grpc.pb.h"
#include "wire/uuid.h"

ABSL_FLAG(int64_t, events, 2000000, "events to generate");
ABSL_FLAG(std::string, out, "", "copyfile: output file");
ABSL_FLAG(std::string, db, "", "naive, alertscan: PostgreSQL URL; query: also time the flow as plain SQL");
ABSL_FLAG(std::string, server, "127.0.0.1:50051", "stream/query: utracker-server address");
ABSL_FLAG(std::string, out_messages, "", "copyall: output file for the messages table");
ABSL_FLAG(int64_t, tree, 1000, "copyall: messages in the one big flow");
ABSL_FLAG(int, runs, 9, "query: runs of each query (the median is printed)");
ABSL_FLAG(std::vector<std::string>, queries, std::vector<std::string>({"graph", "flow", "page"}),
          "query: which queries to time (the others print -1.0)");
ABSL_FLAG(absl::Duration, span, absl::ZeroDuration(),
          "spread the events evenly over this much event time from 2025-11-28 00:00 UTC"
          " (default: 20 µs apart)");

namespace {

constexpr int kServices = 8;
const char* const kServiceNames[kServices] = {"orders",  "payments", "inventory", "shipping",
                                              "billing", "email",    "search",    "gateway"};
const absl::Time kBase = absl::FromUnixSeconds(1764288000);  // 2025-11-28
int64_t step_micros = 20;  // between consecutive events; set from --span in main

uint64_t Mix(uint64_t x) {  // splitmix64: a cheap deterministic hash
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A UUIDv7 for (kind of id, index): time-ordered by index, unique, reproducible.
std::string Id(uint64_t space, uint64_t index) {
  utracker::wire::UuidBytes b{};
  const uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(kBase)) + index / 64;
  const uint64_t r = Mix(space << 56 ^ index);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((index >> 8) & 0x0f));
  b[7] = static_cast<uint8_t>(index);
  b[8] = static_cast<uint8_t>(0x80 | (space & 0x3f));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<uint8_t>(r >> (8 * (i - 9)));
  return utracker::wire::FormatUuid(b);
}

struct Shape {
  uint64_t message, flow;
  int position, stage, author, handler;
};

Shape ShapeOf(uint64_t i) {
  Shape s;
  s.message = i / 3;
  s.stage = static_cast<int>(i % 3);
  s.flow = s.message / 4;
  s.position = static_cast<int>(s.message % 4);
  s.author = static_cast<int>(Mix(s.message) % kServices);
  s.handler = (s.author + 1 + static_cast<int>(Mix(s.message + 7) % (kServices - 1))) % kServices;
  return s;
}

std::string Payload(uint64_t i) {
  return absl::StrFormat(
      R"({"order_id":"A-%08d","amount":%d.%02d,"currency":"EUR","items":%d,"note":"ok"})",
      static_cast<int>(i % 100000000), static_cast<int>(Mix(i) % 1000), static_cast<int>(i % 100),
      static_cast<int>(i % 7 + 1));
}

const utracker::v1::EventKind kStageKinds[3] = {utracker::v1::EVENT_KIND_SENT,
                                                utracker::v1::EVENT_KIND_RECEIVED,
                                                utracker::v1::EVENT_KIND_PROCESSED};

utracker::v1::Event MakeEvent(uint64_t i) {
  const Shape s = ShapeOf(i);
  utracker::v1::Event e;
  e.set_event_id(Id(1, i));
  e.set_message_id(Id(2, s.message));
  const uint64_t root = s.flow * 4;
  e.set_root_id(Id(2, root));
  if (s.position > 0) {
    e.set_parent_id(Id(2, root));
    e.set_depth(1);
  }
  const int service = s.stage == 0 ? s.author : s.handler;
  e.set_service(kServiceNames[service]);
  e.set_instance(absl::StrCat(kServiceNames[service], "-", i % 3));
  e.set_kind(kStageKinds[s.stage]);
  const int64_t micros = absl::ToUnixMicros(kBase) + static_cast<int64_t>(i) * step_micros;
  e.mutable_occurred_at()->set_seconds(micros / 1000000);
  e.mutable_occurred_at()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  if (s.stage == 0) e.set_destination(kServiceNames[s.handler]);
  (*e.mutable_attributes())["tenant"] = absl::StrCat("t", Mix(s.flow) % 50);
  if (i % 2 == 0) {
    e.set_content(Payload(i));
    e.set_content_type("application/json");
  }
  return e;
}

void Report(const std::string& mode, int64_t n, absl::Duration took,
            const std::string& extra = "") {
  const double secs = absl::ToDoubleSeconds(took);
  std::printf("mode=%s events=%lld seconds=%.3f events_per_s=%.0f%s\n", mode.c_str(),
              static_cast<long long>(n), secs, n / secs, extra.c_str());
}

int CopyFile(int64_t n) {
  std::ofstream out(absl::GetFlag(FLAGS_out), std::ios::binary);
  utracker::server::storage::BinaryCopyWriter enc;
  for (int64_t i = 0; i < n; ++i) {
    utracker::server::storage::EncodeEvent(MakeEvent(static_cast<uint64_t>(i)), &enc);
    if (enc.data().size() > (1 << 20)) {
      out.write(enc.data().data(), static_cast<std::streamsize>(enc.data().size()));
      enc.Consume();
    }
  }
  enc.Finish();
  out.write(enc.data().data(), static_cast<std::streamsize>(enc.data().size()));
  return out.good() ? 0 : 1;
}

// Binary COPY files for events and messages: the N generated events plus one flow of
// `--tree` messages (a root and its children, 3 events each), whose root id is printed.
int CopyAll(int64_t n) {
  using utracker::server::storage::BinaryCopyWriter;
  std::ofstream events_out(absl::GetFlag(FLAGS_out), std::ios::binary);
  std::ofstream messages_out(absl::GetFlag(FLAGS_out_messages), std::ios::binary);
  BinaryCopyWriter ev, msg;
  auto flush = [&](bool force) {
    if (force || ev.data().size() > (1 << 20)) {
      events_out.write(ev.data().data(), static_cast<std::streamsize>(ev.data().size()));
      ev.Consume();
    }
    if (force || msg.data().size() > (1 << 20)) {
      messages_out.write(msg.data().data(), static_cast<std::streamsize>(msg.data().size()));
      msg.Consume();
    }
  };
  auto add = [&](const utracker::v1::Event& e) {
    utracker::server::storage::EncodeEvent(e, &ev);
    if (e.kind() == utracker::v1::EVENT_KIND_SENT) {  // the author's first event: the row
      utracker::server::storage::MessageRow row;
      row.first = &e;
      row.origin_service = e.service();
      row.origin_sent = true;
      row.origin_at = row.first_seen_at =
          utracker::server::storage::PgTimestampMicros(e.occurred_at());
      if (!e.content().empty()) row.content = &e;
      utracker::server::storage::EncodeMessageRow(row, &msg);
    }
    flush(false);
  };
  for (int64_t i = 0; i < n; ++i) add(MakeEvent(static_cast<uint64_t>(i)));
  // The big flow: ids in their own space, times after the generated ones.
  const int64_t tree = absl::GetFlag(FLAGS_tree);
  const std::string root = Id(3, 0);
  for (int64_t m = 0; m < tree; ++m) {
    for (int stage = 0; stage < 3; ++stage) {
      utracker::v1::Event e = MakeEvent(static_cast<uint64_t>(m * 3 + stage));
      e.set_event_id(Id(4, static_cast<uint64_t>(m * 3 + stage)));
      e.set_message_id(Id(3, static_cast<uint64_t>(m)));
      e.set_root_id(root);
      e.clear_parent_id();
      e.set_depth(0);
      if (m > 0) {
        e.set_parent_id(root);
        e.set_depth(1);
      }
      add(e);
    }
  }
  ev.Finish();
  msg.Finish();
  flush(true);
  std::printf("root=%s\n", root.c_str());
  return events_out.good() && messages_out.good() ? 0 : 1;
}

// GetFlow of the big flow (copyall's tree), as a user's client would call it.
bool GetBigFlow(utracker::v1::Flows::Stub& stub, size_t* messages) {
  grpc::ClientContext ctx;
  utracker::v1::GetFlowRequest req;
  req.set_message_id(Id(3, 0));
  // Parsed onto an arena, as utracker's CLI does: a big flow is thousands of small messages
  // and strings, allocated in a few blocks and freed at once.
  google::protobuf::Arena arena;
  auto* resp = google::protobuf::Arena::CreateMessage<utracker::v1::GetFlowResponse>(&arena);
  const grpc::Status st = stub.GetFlow(&ctx, req, resp);
  if (!st.ok()) std::cerr << "GetFlow: " << st.error_message() << "\n";
  *messages = resp->messages_size();
  return st.ok();
}

// PostgreSQL alone reading what GetFlow reads for the big flow: the server's two queries
// (messages of the root in answer order, then its events), binary results, every row fetched
// by libpq and nothing decoded. The floor the database sets for a GetFlow.
bool SqlFlow(PGconn* conn, const std::string& id, int* events) {
  auto run = [conn](const char* sql, const char* param, int* rows) {
    PGresult* r = PQexecParams(conn, sql, param ? 1 : 0, nullptr, param ? &param : nullptr,
                               nullptr, nullptr, /*resultFormat=*/1);
    const ExecStatusType status = PQresultStatus(r);
    const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok) std::cerr << "flow SQL: " << PQresultErrorMessage(r);
    if (rows != nullptr) *rows = PQntuples(r);
    PQclear(r);
    return ok;
  };
  return run("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", nullptr, nullptr) &&
         run("SELECT depth, first_seen_at, id, root_id, origin_service, parent_id, content_type"
             " FROM messages WHERE root_id = (SELECT root_id FROM messages WHERE id = $1::uuid)"
             " ORDER BY depth, first_seen_at, id",
             id.c_str(), nullptr) &&
         run("SELECT event_id, message_id, service, instance, kind, name, occurred_at,"
             " destination, attributes, error FROM events"
             " WHERE root_id = (SELECT root_id FROM messages WHERE id = $1::uuid)",
             id.c_str(), events) &&
         run("COMMIT", nullptr, nullptr);
}

// GetFlow of the big flow and SqlFlow of the same flow, in pairs (which goes first
// alternates), so that both see the same machine: its speed drifts up to 2x within minutes.
// Prints the medians and the median of the pairs' ratios.
bool FlowAgainstSql(utracker::v1::Flows::Stub& stub, const std::string& db, int runs) {
  PGconn* conn = PQconnectdb(db.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::cerr << PQerrorMessage(conn);
    PQfinish(conn);
    return false;
  }
  const std::string id = Id(3, 0);
  std::vector<double> grpc_ms, sql_ms, ratios;
  int events = 0;
  bool ok = true;
  for (int i = 0; i < runs && ok; ++i) {
    double g = 0, q = 0;
    for (int j = 0; j < 2 && ok; ++j) {
      const absl::Time start = absl::Now();
      if ((i + j) % 2 == 0) {
        size_t messages = 0;
        ok = GetBigFlow(stub, &messages);
        g = absl::ToDoubleMilliseconds(absl::Now() - start);
      } else {
        ok = SqlFlow(conn, id, &events);
        q = absl::ToDoubleMilliseconds(absl::Now() - start);
      }
    }
    grpc_ms.push_back(g);
    sql_ms.push_back(q);
    ratios.push_back(g / q);
  }
  PQfinish(conn);
  if (!ok) return false;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("flow_vs_sql: pairs=%d sql_events=%d flow_ms=%.1f sql_ms=%.1f flow/sql=%.2f\n",
              runs, events, median(grpc_ms), median(sql_ms), median(ratios));
  return true;
}

// Times the Flows queries the targets name: GetServiceGraph over 24 h, GetFlow of the big
// flow, a ListMessages page. Nine runs each (--runs); prints the medians. The graph window is
// the 24 h from 2025-11-28 00:00 UTC (query_bench.sh spreads the events over it).
int Query() {
  auto stub = utracker::v1::Flows::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials()));
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const std::vector<std::string> wanted = absl::GetFlag(FLAGS_queries);
  for (const std::string& q : wanted) {
    if (q != "graph" && q != "flow" && q != "page") {
      std::cerr << "--queries: unknown query '" << q << "' (graph, flow, page)\n";
      return 2;
    }
  }
  if (wanted.empty()) {
    std::cerr << "--queries: name at least one of graph, flow, page\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_runs) < 1) {
    std::cerr << "--runs: at least 1\n";
    return 2;
  }
  bool failed = false;
  auto time = [&](const char* name, auto call) {
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) return -1.0;
    std::vector<double> ms;
    for (int i = 0; i < absl::GetFlag(FLAGS_runs); ++i) {
      const absl::Time start = absl::Now();
      if (!call()) {
        failed = true;
        return -1.0;
      }
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    return median(ms);
  };
  size_t flow_messages = 0, edges = 0, page = 0;
  const double graph_ms = time("graph", [&] {
    grpc::ClientContext ctx;
    utracker::v1::GetServiceGraphRequest req;
    const int64_t micros = absl::ToUnixMicros(kBase);
    req.mutable_from()->set_seconds(micros / 1000000);
    req.mutable_to()->set_seconds(micros / 1000000 + 24 * 3600);
    utracker::v1::GetServiceGraphResponse resp;
    grpc::Status st = stub->GetServiceGraph(&ctx, req, &resp);
    if (!st.ok()) std::cerr << "GetServiceGraph: " << st.error_message() << "\n";
    edges = resp.edges_size();
    return st.ok();
  });
  const double flow_ms = time("flow", [&] { return GetBigFlow(*stub, &flow_messages); });
  const double page_ms = time("page", [&] {
    grpc::ClientContext ctx;
    utracker::v1::ListMessagesRequest req;
    req.set_page_size(50);
    req.set_service("payments");
    utracker::v1::ListMessagesResponse resp;
    grpc::Status st = stub->ListMessages(&ctx, req, &resp);
    if (!st.ok()) std::cerr << "ListMessages: " << st.error_message() << "\n";
    page = resp.messages_size();
    return st.ok();
  });
  std::printf("graph_edges=%zu flow_messages=%zu page_messages=%zu\n", edges, flow_messages, page);
  if (!absl::GetFlag(FLAGS_db).empty() && flow_ms >= 0 && !failed) {
    if (!FlowAgainstSql(*stub, absl::GetFlag(FLAGS_db), absl::GetFlag(FLAGS_runs))) return 1;
  }
  std::printf("graph_ms=%.1f flow_ms=%.1f page_ms=%.1f\n", graph_ms, flow_ms, page_ms);
  return failed ? 1 : 0;
}

// Times the alert evaluator's pass (the issue: <= 1 s with 10 M events stored) at the end of
// the generated day, as the leading replica runs it: nine passes, the median.
int AlertScan() {
  utracker::server::alerts::AlertEvaluator evaluator(
      std::make_unique<utracker::server::storage::PgAlertStore>(absl::GetFlag(FLAGS_db)),
      utracker::server::alerts::AlertConfig{}, absl::Seconds(10));
  const absl::Time at = kBase + absl::Hours(24);
  std::vector<double> ms;
  for (int i = 0; i < 9; ++i) {
    const absl::Time start = absl::Now();
    absl::Status st = evaluator.EvaluateOnce(at + absl::Seconds(i));
    if (!st.ok()) {
      std::cerr << "alert evaluation: " << st << "\n";
      return 1;
    }
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("alert_scan_ms=%.1f\n", ms[ms.size() / 2]);
  return 0;
}

int Naive(int64_t n) {
  PGconn* conn = PQconnectdb(absl::GetFlag(FLAGS_db).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::cerr << PQerrorMessage(conn);
    return 1;
  }
  // The naive path a first version would take: one INSERT (and commit) per event, messages
  // row included, text parameters.
  const char* sql =
      "WITH e AS (INSERT INTO events (event_id, occurred_at, message_id, parent_id, root_id, depth,"
      " service, instance, kind, destination, attributes) VALUES ($1, to_timestamp($2::float8 / "
      "1e6),"
      " $3, $4, $5, $6, $7, $8, $9::event_kind, $10, $11::jsonb) ON CONFLICT DO NOTHING RETURNING "
      "1)"
      " INSERT INTO messages (id, parent_id, root_id, depth, origin_service, origin_sent, "
      "origin_at,"
      " first_seen_at) VALUES ($3, $4, $5, $6, $7, $9 = 'sent', to_timestamp($2::float8 / 1e6),"
      " to_timestamp($2::float8 / 1e6)) ON CONFLICT (id) DO NOTHING";
  PGresult* prep = PQprepare(conn, "ins", sql, 0, nullptr);
  if (PQresultStatus(prep) != PGRES_COMMAND_OK) {
    std::cerr << PQresultErrorMessage(prep);
    return 1;
  }
  PQclear(prep);
  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < n; ++i) {
    const utracker::v1::Event e = MakeEvent(static_cast<uint64_t>(i));
    const std::string micros =
        absl::StrCat(e.occurred_at().seconds() * 1000000 + e.occurred_at().nanos() / 1000);
    const std::string depth = absl::StrCat(e.depth());
    const std::string kind = std::string(utracker::server::storage::EventKindLabel(e.kind()));
    const std::string attrs = absl::StrCat(R"({"tenant":")", e.attributes().at("tenant"), "\"}");
    const char* params[11] = {
        e.event_id().c_str(),   micros.c_str(),
        e.message_id().c_str(), e.parent_id().empty() ? nullptr : e.parent_id().c_str(),
        e.root_id().c_str(),    depth.c_str(),
        e.service().c_str(),    e.instance().c_str(),
        kind.c_str(),           e.destination().empty() ? nullptr : e.destination().c_str(),
        attrs.c_str()};
    PGresult* r = PQexecPrepared(conn, "ins", 11, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::cerr << PQresultErrorMessage(r);
      return 1;
    }
    PQclear(r);
  }
  Report("naive", n, absl::Now() - start);
  PQfinish(conn);
  return 0;
}

int Stream(int64_t n) {  // n is rounded down to whole messages
  std::vector<std::shared_ptr<utracker::Client>> clients;
  for (const char* name : kServiceNames) {
    utracker::Config c;
    c.service = name;
    c.instance = absl::StrCat(name, "-0");
    c.server = absl::GetFlag(FLAGS_server);
    c.max_buffered_events = 200000;
    c.max_buffered_bytes = size_t{1} << 30;  // the producers keep below 150 000 events
    auto client = utracker::Client::Create(c);
    if (!client.ok()) {
      std::cerr << client.status() << "\n";
      return 1;
    }
    clients.push_back(*client);
  }
  const absl::Time start = absl::Now();
  // Two producer threads (a service process logs from its own threads). Per message, as
  // services do: the author packs it (a root, or a child of its flow's root) and logs SENT
  // with the payload; the handler unpacks the bytes and logs RECEIVED and PROCESSED.
  const int64_t messages = n / 3 / 4 * 4;  // whole flows of 4 messages
  auto produce = [&](int64_t from, int64_t step) {
    std::optional<utracker::Message> root;
    for (int64_t flow = from; flow < messages / 4; flow += step) {
      for (int64_t m = flow * 4; m < flow * 4 + 4; ++m) {
        const Shape s = ShapeOf(static_cast<uint64_t>(m) * 3);
        auto& author = clients[s.author];
        auto& handler = clients[s.handler];
        const std::string payload = Payload(static_cast<uint64_t>(m));
        utracker::Message msg =
            (s.position == 0 || !root) ? author->PackJson(payload) : root->PackChildJson(payload);
        if (s.position == 0) root = msg;
        utracker::LogOptions sent;
        sent.destination = kServiceNames[s.handler];
        sent.attributes["tenant"] = absl::StrCat("t", Mix(s.flow) % 50);
        sent.with_payload = true;
        msg.Log(utracker::kSent, sent);
        absl::StatusOr<utracker::Message> got = handler->Unpack(msg.ToBytes());
        if (!got.ok()) continue;
        utracker::LogOptions handled;
        handled.attributes = sent.attributes;
        got->Log(utracker::kReceived, handled);
        got->Log(utracker::kProcessed, handled);
        // Keep below the buffer limit: a benchmark must not win by dropping.
        if (m % 1024 == 0) {
          for (auto& c : {author, handler}) {
            while (c->stats().buffered > 150000) absl::SleepFor(absl::Milliseconds(1));
          }
        }
      }
    }
  };
  std::thread t1(produce, 0, 2), t2(produce, 1, 2);
  t1.join();
  t2.join();
  n = messages * 3;
  uint64_t dropped = 0, rejected = 0;
  for (auto& c : clients) {
    if (!c->Flush(absl::Minutes(10)).ok()) {
      std::cerr << "flush timed out\n";
      return 1;
    }
    dropped += c->stats().dropped;
    rejected += c->stats().rejected;
  }
  // The CPU this process used (client library + the load's own packing), for the per-event
  // CPU split ingest_bench.sh prints.
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu_s = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  Report("stream", n, absl::Now() - start,
         absl::StrCat(" dropped=", dropped, " rejected=", rejected, " cpu_s=", cpu_s));
  for (auto& c : clients) c->Shutdown(absl::Seconds(1));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  const int64_t n = absl::GetFlag(FLAGS_events);
  if (absl::GetFlag(FLAGS_span) > absl::ZeroDuration() && n > 0) {
    step_micros = std::max<int64_t>(1, absl::ToInt64Microseconds(absl::GetFlag(FLAGS_span)) / n);
  }
  const std::string mode = rest.size() > 1 ? rest[1] : "";
  if (mode == "copyfile") return CopyFile(n);
  if (mode == "naive") return Naive(n);
  if (mode == "stream") return Stream(n);
  if (mode == "copyall") return CopyAll(n);
  if (mode == "query") return Query();
  if (mode == "alertscan") return AlertScan();
  std::cerr << "usage: ingest_loadgen copyfile|naive|stream [--events N] ...\n";
  return 2;
}
