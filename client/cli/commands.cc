#include "commands.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "alert_text.h"
#include "args.h"
#include "flow_text.h"
#include "graph_text.h"
#include "utracker/utracker.h"
#include "utracker/v1/alerts.grpc.pb.h"
#include "utracker/v1/flows.grpc.pb.h"
#include "wire/alert_rule.h"
#include "wire/timestamp.h"

namespace utracker::cli {
namespace {

using google::protobuf::util::TimeUtil;

struct Command {
  std::string summary;
  std::string usage;
  std::vector<FlagSpec> flags;
  std::function<int(const Args&, std::ostream&, std::ostream&)> run;
};

const FlagSpec kServerFlag{
    "server", "utracker-server address (env UTRACKER_SERVER; default 127.0.0.1:50051)"};
const FlagSpec kTimeoutFlag{"timeout", "how long to wait for the server (default 10s)"};
const FlagSpec kHelpFlag{"help", "show this help", true};

std::string Server(const Args& a) {
  const char* env = std::getenv("UTRACKER_SERVER");
  return a.Get("server", env != nullptr && *env != '\0' ? env : "127.0.0.1:50051");
}

bool Timeout(const Args& a, absl::Duration* out, std::ostream& err) {
  if (!absl::ParseDuration(a.Get("timeout", "10s"), out) || *out <= absl::ZeroDuration()) {
    err << "utracker: --timeout wants a duration such as 10s or 500ms\n";
    return false;
  }
  return true;
}

int ExitFor(const grpc::Status& st, std::ostream& err) {
  err << "utracker: " << st.error_message() << " (" << st.error_code() << ")\n";
  switch (st.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return kExitFailed;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return kExitUsage;
    default:
      return kExitUnavailable;
  }
}

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

// The server keeps flows under gRPC's default 4 MiB, but not one message's events (a message
// logged about a million times): the CLI takes answers up to 256 MiB.
std::shared_ptr<grpc::Channel> Channel(const Args& a) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  return grpc::CreateCustomChannel(Server(a), grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<v1::Flows::Stub> FlowsStub(const Args& a) { return v1::Flows::NewStub(Channel(a)); }

bool ParseKind(std::string text, EventKind* kind) {
  absl::AsciiStrToUpper(&text);
  if (!absl::StartsWith(text, "EVENT_KIND_")) text = "EVENT_KIND_" + text;
  return v1::EventKind_Parse(text, kind) && *kind != v1::EVENT_KIND_UNSPECIFIED;
}

int RunLog(const Args& a, std::ostream& out, std::ostream& err) {
  if (!a.positional.empty()) {
    err << "utracker log: unexpected argument " << a.positional[0] << "\n";
    return kExitUsage;
  }
  EventKind kind;
  if (!ParseKind(a.Get("kind"), &kind)) {
    err << "utracker log: --kind must be one of sent, received, processed, failed, note, "
           "replayed\n";
    return kExitUsage;
  }
  absl::Duration timeout;
  if (!Timeout(a, &timeout, err)) return kExitUsage;
  absl::StatusOr<Config> config = ConfigFromEnv();
  if (!config.ok()) {
    err << "utracker log: " << config.status().message() << "\n";
    return kExitUsage;
  }
  config->service = a.Get("service", config->service);
  config->instance = a.Get("instance", config->instance);
  config->server = Server(a);
  config->min_backoff = absl::Milliseconds(50);
  config->max_backoff = absl::Seconds(1);
  config->diagnostics = [](absl::string_view) {};  // the outcome is reported below instead
  if (config->service.empty()) {
    err << "utracker log: --service is required (or UTRACKER_SERVICE)\n";
    return kExitUsage;
  }
  auto client = Client::Create(*config);
  if (!client.ok()) {
    err << "utracker log: " << client.status().message() << "\n";
    return kExitUsage;
  }

  // The message: given by id (with its lineage), or a new root.
  std::map<std::string, std::string> headers;
  std::string id = a.Get("message");
  Message message = (*client)->Pack("");
  if (!id.empty()) {
    headers["utracker-id"] = id;
    if (a.Has("parent")) headers["utracker-parent-id"] = a.Get("parent");
    if (a.Has("root")) headers["utracker-root-id"] = a.Get("root");
    headers["utracker-depth"] = a.Get("depth", a.Has("parent") ? "1" : "0");
    absl::StatusOr<Message> m = (*client)->FromHeaders(headers, "");
    if (!m.ok()) {
      err << "utracker log: " << m.status().message() << "\n";
      return kExitUsage;
    }
    message = *std::move(m);
  } else if (a.Has("parent") || a.Has("root")) {
    err << "utracker log: --parent/--root need --message\n";
    return kExitUsage;
  }

  LogOptions options;
  options.name = a.Get("name");
  options.destination = a.Get("destination");
  options.error = a.Get("error");
  if (auto it = a.flags.find("attr"); it != a.flags.end()) {
    for (const std::string& kv : it->second) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        err << "utracker log: --attr wants KEY=VALUE, got " << kv << "\n";
        return kExitUsage;
      }
      options.attributes[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  message.Log(kind, options);
  const absl::Status flushed = (*client)->Flush(timeout);
  const Stats stats = (*client)->stats();
  (*client)->Shutdown(absl::ZeroDuration());
  if (!flushed.ok()) {
    err << "utracker log: no ack from " << config->server << " within " << timeout
        << " (is utracker-server running?)\n";
    return kExitUnavailable;
  }
  if (stats.rejected > 0) {
    err << "utracker log: rejected: " << stats.last_rejection << "\n";
    return kExitFailed;
  }
  out << message.id() << "\n";
  return kExitOk;
}

bool HaveDot(std::ostream& err) {
  if (std::system("command -v dot >/dev/null 2>&1") == 0) return true;
  err << "utracker: svg and png need Graphviz's `dot` (Debian: apt-get install graphviz); "
         "--format dot prints the graph for it\n";
  return false;
}

// Renders DOT through Graphviz; its output goes straight to our stdout.
int RenderDot(const std::string& text, const std::string& format, std::ostream& out,
              std::ostream& err) {
  out.flush();
  FILE* dot = popen(absl::StrCat("dot -T", format).c_str(), "w");
  if (dot == nullptr) {
    err << "utracker: cannot run dot\n";
    return kExitFailed;
  }
  std::fwrite(text.data(), 1, text.size(), dot);
  if (pclose(dot) != 0) {
    err << "utracker: dot failed\n";
    return kExitFailed;
  }
  return kExitOk;
}

int RunFlow(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional.size() != 1) {
    err << "utracker flow: give exactly one message id\n";
    return kExitUsage;
  }
  const std::string format = a.Get("format", "tree");
  if (format != "tree" && format != "json" && format != "mermaid" && format != "dot" &&
      format != "svg" && format != "png") {
    err << "utracker flow: --format is tree, mermaid, dot, svg, png or json\n";
    return kExitUsage;
  }
  if ((format == "svg" || format == "png") && !HaveDot(err)) return kExitFailed;
  absl::Duration timeout;
  if (!Timeout(a, &timeout, err)) return kExitUsage;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::GetFlowRequest req;
  req.set_message_id(a.positional[0]);
  // Parsed onto an arena: a big flow is thousands of small messages and strings, allocated in
  // a few blocks and freed at once.
  google::protobuf::Arena arena;
  v1::GetFlowResponse& resp = *google::protobuf::Arena::CreateMessage<v1::GetFlowResponse>(&arena);
  grpc::Status st = FlowsStub(a)->GetFlow(&ctx, req, &resp);
  if (!st.ok()) return ExitFor(st, err);
  if (format == "json") {
    out << ToJson(resp) << "\n";
  } else if (format == "mermaid") {
    out << FlowToMermaid(resp);
  } else if (format == "dot") {
    out << FlowToDot(resp);
  } else if (format == "svg" || format == "png") {
    return RenderDot(FlowToDot(resp), format, out, err);
  } else {
    out << FlowToText(resp, absl::UTCTimeZone());
  }
  return kExitOk;
}

// --since 1h, or --from/--to as RFC 3339.
bool TimeRange(const Args& a, v1::ListMessagesRequest* req, std::ostream& err) {
  auto set = [&](const char* flag, google::protobuf::Timestamp* ts) {
    absl::Time t;
    std::string why;
    if (!absl::ParseTime(absl::RFC3339_full, a.Get(flag), &t, &why)) {
      err << "utracker: --" << flag << " wants RFC 3339, e.g. 2026-11-28T10:00:00Z\n";
      return false;
    }
    absl::StatusOr<google::protobuf::Timestamp> in_range =
        wire::ToTimestamp(t, absl::StrCat("--", flag));
    if (!in_range.ok()) {
      err << "utracker: " << in_range.status().message() << "\n";
      return false;
    }
    *ts = *std::move(in_range);
    return true;
  };
  if (a.Has("since")) {
    absl::Duration d;
    if (!absl::ParseDuration(a.Get("since"), &d) || d <= absl::ZeroDuration()) {
      err << "utracker: --since wants a duration such as 15m or 24h\n";
      return false;
    }
    absl::StatusOr<google::protobuf::Timestamp> from = wire::ToTimestamp(absl::Now() - d, "--since");
    if (!from.ok()) {
      err << "utracker: " << from.status().message() << "\n";
      return false;
    }
    *req->mutable_from() = *std::move(from);
  }
  if (a.Has("from") && !set("from", req->mutable_from())) return false;
  if (a.Has("to") && !set("to", req->mutable_to())) return false;
  return true;
}

int RunMessages(const Args& a, std::ostream& out, std::ostream& err) {
  v1::ListMessagesRequest req;
  req.set_service(a.Get("service"));
  req.set_destination(a.Get("destination"));
  if (a.Has("kind")) {
    EventKind kind;
    if (!ParseKind(a.Get("kind"), &kind)) {
      err << "utracker messages: --kind must be one of sent, received, processed, failed, note, "
             "replayed\n";
      return kExitUsage;
    }
    req.set_kind(kind);
  }
  if (a.Has("state")) {
    std::string state = a.Get("state");
    absl::AsciiStrToUpper(&state);
    v1::MessageState s;
    if (!v1::MessageState_Parse("MESSAGE_STATE_" + state, &s) ||
        s == v1::MESSAGE_STATE_UNSPECIFIED) {
      err << "utracker messages: --state must be one of in_flight, received, processed, failed\n";
      return kExitUsage;
    }
    req.set_state(s);
  }
  uint32_t limit = 20;
  if (a.Has("limit") && !absl::SimpleAtoi(a.Get("limit"), &limit)) {
    err << "utracker messages: --limit wants a number\n";
    return kExitUsage;
  }
  req.set_page_size(limit);
  req.set_page_token(a.Get("page_token"));
  if (!TimeRange(a, &req, err)) return kExitUsage;
  absl::Duration timeout;
  if (!Timeout(a, &timeout, err)) return kExitUsage;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::ListMessagesResponse resp;
  grpc::Status st = FlowsStub(a)->ListMessages(&ctx, req, &resp);
  if (!st.ok()) return ExitFor(st, err);
  if (a.Get("format", "text") == "json") {
    out << ToJson(resp) << "\n";
    return kExitOk;
  }
  for (const auto& m : resp.messages()) out << MessageLine(m, absl::UTCTimeZone()) << "\n";
  if (!resp.next_page_token().empty())
    out << "more: --page_token " << resp.next_page_token() << "\n";
  return kExitOk;
}

int RunGraph(const Args& a, std::ostream& out, std::ostream& err) {
  const std::string format = a.Get("format", "dot");
  if (format != "dot" && format != "mermaid" && format != "svg" && format != "png" &&
      format != "json") {
    err << "utracker graph: --format is dot, mermaid, svg, png or json\n";
    return kExitUsage;
  }
  // Reuses the --since/--from/--to parsing. Without --since or --from the server takes the
  // hour before `to` (now, without --to).
  v1::ListMessagesRequest range;
  if (!TimeRange(a, &range, err)) return kExitUsage;
  if ((format == "svg" || format == "png") && !HaveDot(err)) return kExitFailed;
  absl::Duration timeout;
  if (!Timeout(a, &timeout, err)) return kExitUsage;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::GetServiceGraphRequest req;
  if (range.has_from()) *req.mutable_from() = range.from();
  if (range.has_to()) *req.mutable_to() = range.to();
  v1::GetServiceGraphResponse resp;
  grpc::Status st = FlowsStub(a)->GetServiceGraph(&ctx, req, &resp);
  if (!st.ok()) return ExitFor(st, err);
  if (format == "json") {
    out << ToJson(resp) << "\n";
  } else if (format == "mermaid") {
    out << GraphToMermaid(resp);
  } else if (format == "dot") {
    out << GraphToDot(resp);
  } else {
    return RenderDot(GraphToDot(resp), format, out, err);
  }
  return kExitOk;
}

int RunServices(const Args& a, std::ostream& out, std::ostream& err) {
  absl::Duration timeout;
  if (!Timeout(a, &timeout, err)) return kExitUsage;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::ListServicesResponse resp;
  grpc::Status st = FlowsStub(a)->ListServices(&ctx, v1::ListServicesRequest(), &resp);
  if (!st.ok()) return ExitFor(st, err);
  if (a.Get("format", "text") == "json") {
    out << ToJson(resp) << "\n";
    return kExitOk;
  }
  auto time = [](const google::protobuf::Timestamp& ts) {
    return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(ts.seconds()),
                            absl::UTCTimeZone());
  };
  for (const auto& s : resp.services()) {
    out << s.name() << "  first " << time(s.first_seen_at()) << "  last " << time(s.last_seen_at())
        << "  instances " << absl::StrJoin(s.instances(), ",") << "\n";
  }
  return kExitOk;
}

int RunMessage(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional.size() != 1) {
    err << "utracker message: give exactly one message id\n";
    return kExitUsage;
  }
  const std::string format = a.Get("format", "text");
  if (format != "text" && format != "json") {
    err << "utracker message: --format is text or json\n";
    return kExitUsage;
  }
  absl::Duration timeout;
  if (!Timeout(a, &timeout, err)) return kExitUsage;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::GetMessageRequest req;
  req.set_message_id(a.positional[0]);
  req.set_include_content(a.Has("content"));
  v1::GetMessageResponse resp;
  grpc::Status st = FlowsStub(a)->GetMessage(&ctx, req, &resp);
  if (!st.ok()) return ExitFor(st, err);
  out << (format == "json" ? ToJson(resp) + "\n"
                           : MessageToText(resp.message(), absl::UTCTimeZone()));
  return kExitOk;
}

std::unique_ptr<v1::Alerts::Stub> AlertsStub(const Args& a) {
  return v1::Alerts::NewStub(Channel(a));
}

// The open alerts, then every change, until SIGINT/SIGTERM (exit 0) or the stream ends.
// --rule/--service filter here: the server sends every change.
int FollowAlerts(const Args& a, v1::AlertRule rule, const std::string& service, bool json,
                 std::ostream& out, std::ostream& err) {
  // The signals are blocked before gRPC starts its threads (they inherit the mask) and
  // waited for on a thread of our own, which cancels the stream.
  sigset_t signals, old_mask;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &old_mask);
  grpc::ClientContext ctx;
  std::atomic<bool> done{false}, interrupted{false};
  std::thread waiter([&] {
    const timespec tick{0, 100 * 1000 * 1000};
    while (!done.load()) {
      if (sigtimedwait(&signals, nullptr, &tick) > 0) {
        interrupted = true;
        ctx.TryCancel();
        return;
      }
    }
  });
  auto stub = AlertsStub(a);
  std::unique_ptr<grpc::ClientReader<v1::AlertChange>> reader =
      stub->WatchAlerts(&ctx, v1::WatchAlertsRequest());
  google::protobuf::util::JsonPrintOptions line_options;
  line_options.preserve_proto_field_names = true;
  v1::AlertChange change;
  while (reader->Read(&change)) {
    if (rule != v1::ALERT_RULE_UNSPECIFIED && change.alert().rule() != rule) continue;
    if (!service.empty() && change.alert().service() != service) continue;
    if (json) {
      std::string line;  // JSON Lines: one change per line
      (void)google::protobuf::util::MessageToJsonString(change, &line, line_options);
      out << line << std::endl;
    } else {
      out << AlertChangeLine(change) << std::endl;
    }
  }
  const grpc::Status st = reader->Finish();
  done = true;
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (interrupted || st.ok()) return kExitOk;
  return ExitFor(st, err);
}

int RunAlerts(const Args& a, std::ostream& out, std::ostream& err) {
  if (!a.positional.empty()) {
    err << "utracker alerts: unexpected argument " << a.positional[0] << "\n";
    return kExitUsage;
  }
  const std::string format = a.Get("format", "text");
  if (format != "text" && format != "json") {
    err << "utracker alerts: --format is text or json\n";
    return kExitUsage;
  }
  v1::ListAlertsRequest req;
  if (a.Has("rule")) {
    const v1::AlertRule r = wire::AlertRuleFromName(absl::AsciiStrToLower(a.Get("rule")));
    if (r == v1::ALERT_RULE_UNSPECIFIED) {
      err << "utracker alerts: --rule must be one of stuck, failure_ratio, silence\n";
      return kExitUsage;
    }
    req.set_rule(r);
  }
  req.set_service(a.Get("service"));
  if (a.Has("follow")) {
    if (a.Has("state") || a.Has("limit")) {
      err << "utracker alerts: --follow shows the open alerts, then every change; --state and "
             "--limit do not apply\n";
      return kExitUsage;
    }
    return FollowAlerts(a, req.rule(), req.service(), format == "json", out, err);
  }
  const std::string state = a.Get("state", "open");
  if (state == "open") {
    req.set_state(v1::ALERT_STATE_OPEN);
  } else if (state == "resolved") {
    req.set_state(v1::ALERT_STATE_RESOLVED);
  } else if (state != "all") {
    err << "utracker alerts: --state must be one of open, resolved, all\n";
    return kExitUsage;
  }
  int32_t limit = 100;
  if (a.Has("limit") && !absl::SimpleAtoi(a.Get("limit"), &limit)) {
    err << "utracker alerts: --limit wants a number\n";
    return kExitUsage;
  }
  req.set_limit(limit);
  absl::Duration timeout;
  if (!Timeout(a, &timeout, err)) return kExitUsage;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::ListAlertsResponse resp;
  grpc::Status st = AlertsStub(a)->ListAlerts(&ctx, req, &resp);
  if (!st.ok()) return ExitFor(st, err);
  if (format == "json") {
    out << ToJson(resp) << "\n";
    return kExitOk;
  }
  for (const v1::Alert& alert : resp.alerts()) out << AlertLine(alert) << "\n";
  return kExitOk;
}

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"log",
       {"log an event about a message (for shell scripts)",
        "utracker log --service S --kind KIND [--message ID [--parent ID --root ID --depth N]] "
        "[--name TEXT] [--destination D] [--error E] [--attr K=V]...\n\n"
        "Without --message a new root message id is made. Prints the message id once the "
        "server has committed the event. KIND: sent, received, processed, failed, note, replayed.",
        {{"service", "the service logging (env UTRACKER_SERVICE)"},
         {"instance", "host or pod (default: host name)"},
         {"kind", "sent|received|processed|failed|note|replayed"},
         {"message", "the message id (UUID)"},
         {"parent", "parent message id"},
         {"root", "root message id (required with --parent)"},
         {"depth", "depth in the flow (default 1 with --parent, else 0)"},
         {"name", "free text, e.g. sending_content"},
         {"destination", "queue, topic or target service"},
         {"error", "why it failed"},
         {"attr", "an attribute KEY=VALUE (repeatable)", false, true},
         kServerFlag,
         kTimeoutFlag,
         kHelpFlag},
        RunLog}},
      {"flow",
       {"show the whole flow (tree) a message belongs to",
        "utracker flow ID [--format tree|mermaid|dot|svg|png|json]\n\nmermaid: a sequence "
        "diagram of the conversation (paste into any Mermaid renderer); dot/svg/png: the tree "
        "of messages drawn by Graphviz.",
        {{"format", "tree (default), mermaid, dot, svg, png or json"},
         kServerFlag,
         kTimeoutFlag,
         kHelpFlag},
        RunFlow}},
      {"messages",
       {"list messages, newest first, with filters",
        "utracker messages [--service S] [--destination D] [--state STATE] [--kind KIND] "
        "[--since 1h | --from T --to T] [--limit N] [--page_token T] [--format text|json]",
        {{"service", "messages this service logged anything about"},
         {"destination", "messages sent to this destination"},
         {"state", "in_flight|received|processed|failed|stuck"},
         {"kind", "messages with an event of this kind"},
         {"since", "first seen within this duration, e.g. 15m, 24h"},
         {"from", "first seen at or after (RFC 3339)"},
         {"to", "first seen before (RFC 3339)"},
         {"limit", "page size (default 20, max 1000)"},
         {"page_token", "continue after a previous page"},
         {"format", "text (default) or json"},
         kServerFlag,
         kTimeoutFlag,
         kHelpFlag},
        RunMessages}},
      {"graph",
       {"draw who sends to whom (service graph) over a time window",
        "utracker graph [--since 1h | --from T --to T] [--format dot|mermaid|svg|png|json]\n\n"
        "Edges read \"<count> msgs, p95 <latency>[, <n> failed][, <n> stuck]\"; edges with "
        "failures are red, edges with stuck messages (sent, not handled within the server's "
        "--stuck_after) orange and dashed; sends nobody handled go to \"(no handler)\". "
        "svg and png go through Graphviz's dot. Default window: the last hour.",
        {{"since", "window: the last ... (e.g. 15m, 24h; default 1h)"},
         {"from", "window start (RFC 3339)"},
         {"to", "window end (RFC 3339; default now)"},
         {"format", "dot (default), mermaid, svg, png or json"},
         kServerFlag,
         kTimeoutFlag,
         kHelpFlag},
        RunGraph}},
      {"services",
       {"list the services that ever logged: first/last seen, instances",
        "utracker services [--format text|json]",
        {{"format", "text (default) or json"}, kServerFlag, kTimeoutFlag, kHelpFlag},
        RunServices}},
      {"message",
       {"show one message with its events and state",
        "utracker message ID [--format text|json] [--content]",
        {{"format", "text (default) or json"},
         {"content", "include the stored (filtered) content", true},
         kServerFlag,
         kTimeoutFlag,
         kHelpFlag},
        RunMessage}},
      {"alerts",
       {"list alerts (stuck messages, failing or silent services), or follow them",
        "utracker alerts [--state open|resolved|all] [--rule stuck|failure_ratio|silence] "
        "[--service S] [--limit N] [--format text|json]\n"
        "       utracker alerts --follow [--rule R] [--service S] [--format text|json]\n\n"
        "One line per alert, newest first, times in UTC:\n"
        "  #17  OPEN      stuck  bob <- orders  value 12 (peak 15, threshold 1)  since "
        "2026-11-28T04:31:00Z  last seen 2026-11-28T04:35:10Z  5 evaluations  | summary\n"
        "(a resolved alert shows \"resolved <time>\" instead of \"last seen <time>\"). "
        "value: the signal at the last evaluation that saw the condition (stuck messages, "
        "failure ratio, seconds of silence), peak: the largest while open.\n\n"
        "--follow prints the alerts open now (\"open-at-start\"), then each change as it "
        "happens, prefixed with its kind (opened, updated, resolved), until interrupted "
        "(Ctrl-C: exit 0). A slow reader gets the latest version of each changed alert. "
        "--format json prints one JSON object per line (AlertChange).",
        {{"state", "open (default), resolved or all"},
         {"rule", "stuck, failure_ratio or silence"},
         {"service", "alerts about this service (the receiver for stuck)"},
         {"limit", "at most this many (default 100, max 1000)"},
         {"follow", "print changes as they happen, until interrupted", true},
         {"format", "text (default) or json"},
         kServerFlag,
         kTimeoutFlag,
         kHelpFlag},
        RunAlerts}},
  };
  return *commands;
}

void MainHelp(std::ostream& out) {
  out << "utracker — micro-tracker's command line\n\nusage: utracker COMMAND "
         "[flags]\n\ncommands:\n";
  for (const auto& [name, c] : Commands())
    out << "  " << name << std::string(10 - name.size(), ' ') << c.summary << "\n";
  out << "\n`utracker COMMAND --help` describes a command. Exit codes: 0 ok, 1 not found or "
         "rejected, 2 usage error, 3 server unavailable.\n";
}

}  // namespace

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    MainHelp(args.empty() ? err : out);
    return args.empty() ? kExitUsage : kExitOk;
  }
  auto it = Commands().find(args[0]);
  if (it == Commands().end()) {
    err << "utracker: unknown command " << args[0] << "\n\n";
    MainHelp(err);
    return kExitUsage;
  }
  const Command& c = it->second;
  absl::StatusOr<Args> parsed =
      ParseArgs(std::vector<std::string>(args.begin() + 1, args.end()), c.flags);
  if (!parsed.ok()) {
    err << "utracker " << args[0] << ": " << parsed.status().message() << "\n\nusage: " << c.usage
        << "\n";
    return kExitUsage;
  }
  if (parsed->Has("help")) {
    out << "usage: " << c.usage << "\n\nflags:\n" << FlagHelp(c.flags);
    return kExitOk;
  }
  return c.run(*parsed, out, err);
}

}  // namespace utracker::cli
