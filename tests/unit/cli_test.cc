#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "args.h"
#include "flow_text.h"
#include "graph_text.h"
#include "support/event_factory.h"

namespace utracker::cli {
namespace {

TEST(Args, FlagsValuesSwitchesRepeatsAndErrors) {
  std::vector<FlagSpec> specs = {{"a", ""}, {"s", "", true}, {"r", "", false, true}};
  auto args = ParseArgs({"x", "--a", "1", "--a=2", "--s", "--r", "k=v", "--r=q", "y"}, specs);
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->Get("a"), "2");
  EXPECT_TRUE(args->Has("s"));
  EXPECT_EQ(args->flags.at("r"), (std::vector<std::string>{"k=v", "q"}));
  EXPECT_EQ(args->positional, (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(ParseArgs({"--nope"}, specs).ok());
  EXPECT_FALSE(ParseArgs({"--a"}, specs).ok());
  EXPECT_FALSE(ParseArgs({"--s=1"}, specs).ok());
}

TEST(FlowText, TreeNestsChildrenAndShowsHopLatencies) {
  const absl::Time t0 = absl::FromUnixSeconds(1764288000);
  v1::GetFlowResponse flow;
  flow.set_root_id("r");
  auto* child = flow.add_messages();  // deliberately before its parent
  child->set_id("c");
  child->set_parent_id("r");
  child->set_origin_service("bob");
  child->set_state(v1::MESSAGE_STATE_IN_FLIGHT);
  auto* root = flow.add_messages();
  root->set_id("r");
  root->set_origin_service("alice");
  root->set_state(v1::MESSAGE_STATE_PROCESSED);
  root->mutable_send_to_receive()->set_nanos(42000000);
  root->mutable_receive_to_process()->set_seconds(2);
  testing::SetTime(t0, root->mutable_sent_at());
  *root->add_events() = testing::MakeEvent("r", "alice", v1::EVENT_KIND_SENT, t0);
  root->mutable_events(0)->set_destination("bob");
  *root->add_events() =
      testing::MakeEvent("r", "bob", v1::EVENT_KIND_RECEIVED, t0 + absl::Milliseconds(42));
  const std::string text = FlowToText(flow, absl::UTCTimeZone());
  EXPECT_TRUE(absl::StrContains(text, "flow r (2 messages)\n")) << text;
  EXPECT_TRUE(absl::StrContains(
      text, "  r  alice → bob  PROCESSED  send→receive 42ms  receive→process 2.0s\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "      00:00:00.000  alice      SENT      → bob\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "00:00:00.042  bob        RECEIVED   +42ms\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\n    c  bob  IN_FLIGHT\n"))
      << "child indented under root:\n"
      << text;
  EXPECT_LT(text.find("  r  alice"), text.find("    c  bob"));
}

TEST(FlowText, MermaidAliasesAndEscapesOddServiceNames) {
  const absl::Time t0 = absl::FromUnixSeconds(1764288000);
  v1::GetFlowResponse flow;
  auto* m = flow.add_messages();
  m->set_id("0190a1a0-0000-7000-8000-0000000000aa");
  m->set_origin_service("al\"ice; #1");
  m->add_handlers("b:o\nb");
  m->set_state(v1::MESSAGE_STATE_FAILED);
  testing::SetTime(t0, m->mutable_sent_at());
  m->mutable_send_to_receive()->set_nanos(5000000);
  *m->add_events() = testing::MakeEvent(m->id(), "al\"ice; #1", v1::EVENT_KIND_SENT, t0);
  m->mutable_events(0)->set_destination("q<1>");
  *m->add_events() =
      testing::MakeEvent(m->id(), "b:o\nb", v1::EVENT_KIND_FAILED, t0 + absl::Milliseconds(5));
  m->mutable_events(1)->set_error("boom; bad");
  const std::string text = FlowToMermaid(flow);
  EXPECT_EQ(text,
            "sequenceDiagram\n"
            "  participant s0 as \"al#quot;ice#59; #35;1\"\n"
            "  participant s1 as \"b#58;o b\"\n"
            "  s0-xs1: 0190a1a0 to q#lt;1#gt; (5ms)\n"
            "  Note right of s1: FAILED boom#59; bad\n");
}

TEST(FlowText, DotDrawsParentToChildColouredByState) {
  v1::GetFlowResponse flow;
  auto* root = flow.add_messages();
  root->set_id("0190a1a0-0000-7000-8000-0000000000aa");
  root->set_origin_service("al\"ice");
  root->set_state(v1::MESSAGE_STATE_PROCESSED);
  root->add_destinations("bob");
  auto* child = flow.add_messages();
  child->set_id("0190a1a0-0000-7000-8000-0000000000bb");
  child->set_parent_id(root->id());
  child->set_origin_service("bob");
  child->set_state(v1::MESSAGE_STATE_FAILED);
  *child->add_events() = testing::MakeEvent(child->id(), "carl", v1::EVENT_KIND_FAILED, absl::Now());
  child->mutable_events(0)->set_error("db \"down\"");
  const std::string dot = FlowToDot(flow);
  EXPECT_TRUE(absl::StrContains(dot, "[label=\"0190a1a0  al\\\"ice → bob\\nPROCESSED\", fillcolor=\"#d8f0d8\"]")) << dot;
  EXPECT_TRUE(absl::StrContains(dot, "carl: db \\\"down\\\"\", fillcolor=\"#f8d0d0\"]")) << dot;
  EXPECT_TRUE(absl::StrContains(dot, "\"0190a1a0-0000-7000-8000-0000000000aa\" -> \"0190a1a0-0000-7000-8000-0000000000bb\";")) << dot;
}

TEST(GraphText, DotAndMermaidQuoteOddNamesAndMarkFailingEdges) {
  v1::GetServiceGraphResponse g;
  auto* n = g.add_nodes();
  n->set_name("a\"b\\c");
  n->set_events(3);
  auto* e = g.add_edges();
  e->set_sender("a\"b\\c");
  e->set_handler("x\ny");
  e->set_destination("q");
  e->set_messages(7);
  e->set_failures(2);
  e->mutable_p95()->set_nanos(42000000);
  auto* ok = g.add_edges();
  ok->set_sender("x\ny");
  ok->set_handler("a\"b\\c");
  ok->set_messages(1);
  const std::string dot = GraphToDot(g);
  EXPECT_TRUE(absl::StrContains(dot, "  \"a\\\"b\\\\c\" [label=\"a\\\"b\\\\c\\n3 events\"];\n")) << dot;
  EXPECT_TRUE(absl::StrContains(dot, "  \"a\\\"b\\\\c\" -> \"x\\ny\" [label=\"via q\\n7 msgs, p95 42ms, 2 failed\", color=red, fontcolor=red, penwidth=2];\n")) << dot;
  EXPECT_TRUE(absl::StrContains(dot, "  \"x\\ny\" -> \"a\\\"b\\\\c\" [label=\"1 msgs, p95 0µs\"];\n")) << dot;
  const std::string mermaid = GraphToMermaid(g);
  EXPECT_EQ(mermaid,
            "flowchart LR\n"
            "  n0[\"a#quot;b\\c\"]\n"
            "  n1[\"x y\"]\n"
            "  n0 -->|\"via q, 7 msgs, p95 42ms, 2 failed\"| n1\n"
            "  n1 -->|\"1 msgs, p95 0µs\"| n0\n"
            "  linkStyle 0 stroke:red,color:red\n");
}

TEST(GraphText, StuckEdgesAreOrangeAndSendsToNobodyGetANode) {
  v1::GetServiceGraphResponse g;
  auto* e = g.add_edges();
  e->set_sender("alice");
  e->set_handler("bob");
  e->set_destination("bob");
  e->set_messages(5);
  e->set_stuck(2);
  auto* lost = g.add_edges();
  lost->set_sender("alice");
  lost->set_destination("ghosts");
  lost->set_stuck(3);
  const std::string dot = GraphToDot(g);
  EXPECT_TRUE(absl::StrContains(dot, "\"alice\" -> \"bob\" [label=\"5 msgs, p95 0µs, 2 stuck\", color=darkorange, fontcolor=darkorange, style=dashed, penwidth=2];")) << dot;
  EXPECT_TRUE(absl::StrContains(dot, "\"(no handler)\" [label=\"(no handler)\"];")) << dot;
  EXPECT_TRUE(absl::StrContains(dot, "\"alice\" -> \"(no handler)\" [label=\"via ghosts\\n3 stuck\", color=darkorange")) << dot;
  const std::string mermaid = GraphToMermaid(g);
  EXPECT_TRUE(absl::StrContains(mermaid, "-->|\"via ghosts, 3 stuck\"|")) << mermaid;
  EXPECT_TRUE(absl::StrContains(mermaid, "linkStyle 1 stroke:darkorange")) << mermaid;
}

TEST(FlowText, ShortDurations) {
  EXPECT_EQ(ShortDuration(absl::Microseconds(250)), "250µs");
  EXPECT_EQ(ShortDuration(absl::Milliseconds(42)), "42ms");
  EXPECT_EQ(ShortDuration(absl::Milliseconds(1500)), "1.5s");
  EXPECT_EQ(ShortDuration(absl::Seconds(123)), "2m3s");
  EXPECT_EQ(ShortDuration(absl::Hours(2) + absl::Minutes(5)), "2h5m");
  EXPECT_EQ(ShortDuration(-absl::Milliseconds(3)), "-3ms");
}

}  // namespace
}  // namespace utracker::cli
