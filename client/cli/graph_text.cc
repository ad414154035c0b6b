#include "graph_text.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "flow_text.h"

namespace utracker::cli {
namespace {

// Sends to a destination nobody handled in the window form an edge with no handler.
constexpr const char* kNobody = "(no handler)";

std::string HandlerName(const v1::ServiceEdge& e) {
  return e.handler().empty() ? kNobody : e.handler();
}

std::string EdgeLabel(const v1::ServiceEdge& e) {
  std::string label =
      e.messages() > 0 ? absl::StrCat(e.messages(), " msgs, p95 ", ShortDuration(e.p95())) : "";
  if (e.failures() > 0) absl::StrAppend(&label, ", ", e.failures(), " failed");
  if (e.stuck() > 0) absl::StrAppend(&label, label.empty() ? "" : ", ", e.stuck(), " stuck");
  return label;
}

// Failures draw an edge red, stuck messages (and no failures) orange and dashed.
std::string DotEdgeStyle(const v1::ServiceEdge& e) {
  if (e.failures() > 0) return ", color=red, fontcolor=red, penwidth=2";
  if (e.stuck() > 0) return ", color=darkorange, fontcolor=darkorange, style=dashed, penwidth=2";
  return "";
}

std::string MermaidQuote(absl::string_view s) { return "\"" + MermaidText(s) + "\""; }

std::set<std::string> Services(const v1::GetServiceGraphResponse& g) {
  std::set<std::string> names;
  for (const auto& n : g.nodes()) names.insert(n.name());
  for (const auto& e : g.edges()) {
    names.insert(e.sender());
    names.insert(HandlerName(e));
  }
  return names;
}

}  // namespace

std::string MermaidText(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\n':
      case '\r':
        out += ' ';
        break;
      case ';':
        out += "#59;";
        break;
      case '#':
        out += "#35;";
        break;
      case '"':
        out += "#quot;";
        break;
      case ':':
        out += "#58;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string DotQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

std::string GraphToDot(const v1::GetServiceGraphResponse& g) {
  std::string out = "digraph utracker {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n";
  std::map<std::string, const v1::ServiceNode*> nodes;
  for (const auto& n : g.nodes()) nodes[n.name()] = &n;
  for (const std::string& name : Services(g)) {
    auto it = nodes.find(name);
    const std::string label =
        it == nodes.end() ? name
                          : absl::StrCat(name, "\n", it->second->events(), " events",
                                         it->second->failed() > 0
                                             ? absl::StrCat(", ", it->second->failed(), " failed")
                                             : "");
    absl::StrAppend(&out, "  ", DotQuote(name), " [label=", DotQuote(label),
                    it != nodes.end() && it->second->failed() > 0 ? ", color=red" : "", "];\n");
  }
  for (const auto& e : g.edges()) {
    std::string label = EdgeLabel(e);
    if (!e.destination().empty() && e.destination() != e.handler()) {
      label = absl::StrCat("via ", e.destination(), "\n", label);
    }
    absl::StrAppend(&out, "  ", DotQuote(e.sender()), " -> ", DotQuote(HandlerName(e)),
                    " [label=", DotQuote(label), DotEdgeStyle(e), "];\n");
  }
  return out + "}\n";
}

std::string GraphToMermaid(const v1::GetServiceGraphResponse& g) {
  std::string out = "flowchart LR\n";
  std::map<std::string, std::string> alias;
  for (const std::string& name : Services(g)) {
    alias[name] = absl::StrCat("n", alias.size());
    absl::StrAppend(&out, "  ", alias[name], "[", MermaidQuote(name), "]\n");
  }
  std::string styles;
  int index = 0;
  for (const auto& e : g.edges()) {
    std::string label = EdgeLabel(e);
    if (!e.destination().empty() && e.destination() != e.handler()) {
      label = absl::StrCat("via ", e.destination(), ", ", label);
    }
    absl::StrAppend(&out, "  ", alias[e.sender()], " -->|", MermaidQuote(label), "| ",
                    alias[HandlerName(e)], "\n");
    if (e.failures() > 0) {
      absl::StrAppend(&styles, "  linkStyle ", index, " stroke:red,color:red\n");
    } else if (e.stuck() > 0) {
      absl::StrAppend(&styles, "  linkStyle ", index,
                      " stroke:darkorange,color:darkorange,stroke-dasharray:4\n");
    }
    ++index;
  }
  return out + styles;
}

}  // namespace utracker::cli
