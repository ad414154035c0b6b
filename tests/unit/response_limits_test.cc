// Answers kept under what gRPC clients accept by default.
#include "query/response_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace utracker::server::query {
namespace {

v1::GetFlowResponse FlowOf(int messages, size_t note_bytes) {
  v1::GetFlowResponse flow;
  flow.set_root_id("r");
  for (int i = 0; i < messages; ++i) {
    v1::TrackedMessage* m = flow.add_messages();
    m->set_id(std::to_string(i));
    (*m->add_events()->mutable_attributes())["note"] = std::string(note_bytes, 'x');
  }
  return flow;
}

TEST(CapFlowBytes, KeepsTheLongestPrefixThatFitsAndSaysTruncated) {
  v1::GetFlowResponse small = FlowOf(10, 100);
  EXPECT_FALSE(CapFlowBytes(&small, 10000));
  EXPECT_EQ(small.messages_size(), 10);
  EXPECT_FALSE(small.truncated());

  v1::GetFlowResponse big = FlowOf(100, 1000);
  const size_t limit = 20000;
  EXPECT_TRUE(CapFlowBytes(&big, limit));
  EXPECT_TRUE(big.truncated());
  EXPECT_LE(big.ByteSizeLong(), limit);
  ASSERT_GT(big.messages_size(), 0);
  EXPECT_EQ(big.messages(0).id(), "0");
  EXPECT_EQ(big.messages(big.messages_size() - 1).id(), std::to_string(big.messages_size() - 1));
  // One more message would not have fitted.
  v1::GetFlowResponse one_more = FlowOf(big.messages_size() + 1, 1000);
  one_more.set_truncated(true);
  EXPECT_GT(one_more.ByteSizeLong(), limit);
  EXPECT_EQ(big.root_id(), "r");

  // The default: under gRPC's 4 MiB.
  v1::GetFlowResponse huge = FlowOf(3000, 2000);
  EXPECT_TRUE(CapFlowBytes(&huge));
  EXPECT_LE(huge.ByteSizeLong(), kMaxAnswerBytes);
  EXPECT_LT(kMaxAnswerBytes, 4u << 20);
}

}  // namespace
}  // namespace utracker::server::query
