#include "flow_text.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "graph_text.h"

namespace utracker::cli {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(ts));
}

std::string KindName(v1::EventKind k) {
  std::string name = v1::EventKind_Name(k);
  constexpr absl::string_view kPrefix = "EVENT_KIND_";
  return name.size() > kPrefix.size() ? name.substr(kPrefix.size()) : name;
}

std::string StateName(v1::MessageState s) {
  std::string name = v1::MessageState_Name(s);
  constexpr absl::string_view kPrefix = "MESSAGE_STATE_";
  return name.size() > kPrefix.size() ? name.substr(kPrefix.size()) : name;
}

// "alice → bob, carl  PROCESSED  send→receive 42ms  receive→process 3ms"
std::string Headline(const v1::TrackedMessage& m) {
  std::set<std::string> destinations(m.destinations().begin(), m.destinations().end());
  for (const v1::Event& e : m.events()) {
    if (!e.destination().empty()) destinations.insert(e.destination());
  }
  std::string line = absl::StrCat(m.id(), "  ", m.origin_service());
  if (!destinations.empty()) absl::StrAppend(&line, " → ", absl::StrJoin(destinations, ", "));
  absl::StrAppend(&line, "  ", StateName(m.state()));
  if (m.has_send_to_receive()) {
    absl::StrAppend(&line, "  send→receive ", ShortDuration(m.send_to_receive()));
  }
  if (m.has_receive_to_process()) {
    absl::StrAppend(&line, "  receive→process ", ShortDuration(m.receive_to_process()));
  }
  return line;
}

void AppendEvents(const v1::TrackedMessage& m, absl::TimeZone tz, const std::string& indent,
                  std::string* out) {
  const bool has_sent = m.has_sent_at();
  const absl::Time base = has_sent ? ToTime(m.sent_at()) : ToTime(m.first_seen_at());
  for (const v1::Event& e : m.events()) {
    const absl::Time at = ToTime(e.occurred_at());
    std::string details;
    if (!e.destination().empty()) absl::StrAppend(&details, " → ", e.destination());
    if (!e.name().empty()) absl::StrAppend(&details, " \"", e.name(), "\"");
    if (!e.error().empty()) absl::StrAppend(&details, " error: ", e.error());
    std::string offset;
    if (at != base) offset = absl::StrCat("  +", ShortDuration(at - base));
    absl::StrAppendFormat(out, "%s%s  %-10s %-9s%s%s\n", indent,
                          absl::FormatTime("%H:%M:%E3S", at, tz), e.service(), KindName(e.kind()),
                          details, offset);
  }
}

void AppendTree(const std::string& id,
                const std::map<std::string, const v1::TrackedMessage*>& by_id,
                const std::map<std::string, std::vector<std::string>>& children, absl::TimeZone tz,
                const std::string& indent, std::string* out) {
  const v1::TrackedMessage& m = *by_id.at(id);
  absl::StrAppend(out, indent, Headline(m), "\n");
  AppendEvents(m, tz, indent + "    ", out);
  auto it = children.find(id);
  if (it == children.end()) return;
  for (const std::string& child : it->second) {
    AppendTree(child, by_id, children, tz, indent + "  ", out);
  }
}

}  // namespace

std::string FlowToMermaid(const v1::GetFlowResponse& flow) {
  std::vector<const v1::TrackedMessage*> messages;
  for (const auto& m : flow.messages()) messages.push_back(&m);
  // In the order things happened: by when each message was sent (or first seen).
  std::stable_sort(messages.begin(), messages.end(), [](auto* a, auto* b) {
    const auto& ta = a->has_sent_at() ? a->sent_at() : a->first_seen_at();
    const auto& tb = b->has_sent_at() ? b->sent_at() : b->first_seen_at();
    return std::make_pair(ta.seconds(), ta.nanos()) < std::make_pair(tb.seconds(), tb.nanos());
  });
  std::map<std::string, std::string> alias;
  std::string participants;
  auto participant = [&](const std::string& service) -> const std::string& {
    auto [it, added] = alias.try_emplace(service, absl::StrCat("s", alias.size()));
    if (added)
      absl::StrAppend(&participants, "  participant ", it->second, " as \"", MermaidText(service),
                      "\"\n");
    return it->second;
  };
  std::string body;
  for (const v1::TrackedMessage* m : messages) {
    const std::string& from = participant(m->origin_service());
    std::set<std::string> destinations;
    for (const v1::Event& e : m->events()) {
      if (!e.destination().empty()) destinations.insert(e.destination());
    }
    std::string label = m->id().substr(0, 8);
    if (!destinations.empty()) absl::StrAppend(&label, " to ", absl::StrJoin(destinations, ", "));
    if (m->handlers().empty()) {
      absl::StrAppend(&body, "  Note right of ", from, ": ", MermaidText(label), " ",
                      StateName(m->state()), "\n");
      continue;
    }
    for (const std::string& handler : m->handlers()) {
      const std::string& to = participant(handler);
      std::string text = label;
      if (m->has_send_to_receive())
        absl::StrAppend(&text, " (", ShortDuration(m->send_to_receive()), ")");
      absl::StrAppend(&body, "  ", from, m->state() == v1::MESSAGE_STATE_FAILED ? "-x" : "->>", to,
                      ": ", MermaidText(text), "\n");
      for (const v1::Event& e : m->events()) {
        if (e.service() != handler) continue;
        if (e.kind() == v1::EVENT_KIND_FAILED) {
          absl::StrAppend(&body, "  Note right of ", to, ": FAILED ", MermaidText(e.error()), "\n");
        } else if (e.kind() == v1::EVENT_KIND_PROCESSED && m->has_receive_to_process()) {
          absl::StrAppend(&body, "  Note right of ", to, ": processed in ",
                          ShortDuration(m->receive_to_process()), "\n");
        }
      }
    }
  }
  return absl::StrCat("sequenceDiagram\n", participants, body);
}

std::string FlowToDot(const v1::GetFlowResponse& flow) {
  std::string out =
      "digraph flow {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", "
      "fillcolor=white];\n";
  std::set<std::string> ids;
  for (const auto& m : flow.messages()) ids.insert(m.id());
  for (const auto& m : flow.messages()) {
    std::string label = absl::StrCat(m.id().substr(0, 8), "  ", m.origin_service());
    std::set<std::string> destinations(m.destinations().begin(), m.destinations().end());
    for (const v1::Event& e : m.events()) {
      if (!e.destination().empty()) destinations.insert(e.destination());
    }
    if (!destinations.empty()) absl::StrAppend(&label, " → ", absl::StrJoin(destinations, ", "));
    absl::StrAppend(&label, "\n", StateName(m.state()));
    if (m.has_send_to_receive()) {
      absl::StrAppend(&label, "  received +", ShortDuration(m.send_to_receive()));
    }
    if (m.has_receive_to_process()) {
      absl::StrAppend(&label, "  processed +", ShortDuration(m.receive_to_process()));
    }
    for (const v1::Event& e : m.events()) {
      if (e.kind() == v1::EVENT_KIND_FAILED && !e.error().empty()) {
        absl::StrAppend(&label, "\n", e.service(), ": ", e.error());
      }
    }
    const char* color = m.state() == v1::MESSAGE_STATE_FAILED      ? "#f8d0d0"
                        : m.state() == v1::MESSAGE_STATE_PROCESSED ? "#d8f0d8"
                        : m.state() == v1::MESSAGE_STATE_RECEIVED  ? "#e8eef8"
                                                                   : "#fbe3c0";
    absl::StrAppend(&out, "  ", DotQuote(m.id()), " [label=", DotQuote(label), ", fillcolor=\"",
                    color, "\"];\n");
  }
  for (const auto& m : flow.messages()) {
    if (!m.parent_id().empty() && ids.count(m.parent_id())) {
      absl::StrAppend(&out, "  ", DotQuote(m.parent_id()), " -> ", DotQuote(m.id()), ";\n");
    }
  }
  return out + "}\n";
}

std::string MessageLine(const v1::TrackedMessage& m, absl::TimeZone tz) {
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%E3S  ", ToTime(m.first_seen_at()), tz),
                      Headline(m));
}

std::string ShortDuration(absl::Duration d) {
  if (d < absl::ZeroDuration()) return absl::StrCat("-", ShortDuration(-d));
  if (d < absl::Milliseconds(1)) return absl::StrCat(absl::ToInt64Microseconds(d), "µs");
  if (d < absl::Seconds(1)) return absl::StrCat(absl::ToInt64Milliseconds(d), "ms");
  if (d < absl::Minutes(1)) return absl::StrFormat("%.1fs", absl::ToDoubleSeconds(d));
  const int64_t s = absl::ToInt64Seconds(d);
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
}

std::string ShortDuration(const google::protobuf::Duration& d) {
  return ShortDuration(
      absl::Nanoseconds(google::protobuf::util::TimeUtil::DurationToNanoseconds(d)));
}

std::string FlowToText(const v1::GetFlowResponse& flow, absl::TimeZone tz) {
  std::map<std::string, const v1::TrackedMessage*> by_id;
  std::map<std::string, std::vector<std::string>> children;
  std::vector<std::string> tops;  // the root, plus any message whose parent is not in view
  for (const v1::TrackedMessage& m : flow.messages()) by_id[m.id()] = &m;
  for (const v1::TrackedMessage& m : flow.messages()) {
    if (!m.parent_id().empty() && by_id.count(m.parent_id())) {
      children[m.parent_id()].push_back(m.id());
    } else {
      tops.push_back(m.id());
    }
  }
  std::string out = absl::StrCat("flow ", flow.root_id(), " (", flow.messages_size(), " messages",
                                 flow.truncated() ? ", truncated" : "", ")\n");
  for (const std::string& id : tops) AppendTree(id, by_id, children, tz, "  ", &out);
  return out;
}

std::string MessageToText(const v1::TrackedMessage& m, absl::TimeZone tz) {
  std::string out = absl::StrCat(Headline(m), "\n");
  if (!m.parent_id().empty()) absl::StrAppend(&out, "  parent ", m.parent_id(), "\n");
  absl::StrAppend(&out, "  root ", m.root_id(), "  depth ", m.depth(), "\n");
  if (m.handlers_size() > 0)
    absl::StrAppend(&out, "  handled by ", absl::StrJoin(m.handlers(), ", "), "\n");
  AppendEvents(m, tz, "    ", &out);
  if (!m.content().empty() || !m.content_type().empty()) {
    absl::StrAppend(&out, "  content (", m.content_type(), ", ", m.content().size(), " bytes)\n");
  }
  return out;
}

}  // namespace utracker::cli
