#ifndef UTRACKER_CLIENT_CLI_GRAPH_TEXT_H_
#define UTRACKER_CLIENT_CLI_GRAPH_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "utracker/v1/flows.pb.h"

namespace utracker::cli {

// Graphviz DOT of a service graph: one node per service, an edge per sender -> handler and
// destination labelled "<count> msgs, p95 <latency>[, <n> failed]"; edges with failures are
// red. Names are quoted and escaped, so any service name is safe.
std::string GraphToDot(const v1::GetServiceGraphResponse& graph);

// `text` as a DOT double-quoted string (quotes and backslashes escaped, newlines as \n).
std::string DotQuote(absl::string_view text);

// `text` for a Mermaid label: no line breaks, and the characters its parser treats
// specially (;  #  "  :  <  >) as entity codes.
std::string MermaidText(absl::string_view text);

// The same as a Mermaid flowchart (aliases, escaped labels, failing edges in red).
std::string GraphToMermaid(const v1::GetServiceGraphResponse& graph);

}  // namespace utracker::cli

#endif  // UTRACKER_CLIENT_CLI_GRAPH_TEXT_H_
