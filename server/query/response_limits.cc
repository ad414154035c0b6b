#include "query/response_limits.h"

#include <google/protobuf/io/coded_stream.h>

namespace utracker::server::query {

bool CapFlowBytes(v1::GetFlowResponse* flow, size_t max_bytes) {
  // The whole size is computed once (a 1 000-message flow: well under a millisecond); only
  // an answer over the limit is measured message by message.
  if (flow->ByteSizeLong() <= max_bytes) return false;
  v1::GetFlowResponse rest;  // everything but the messages
  rest.set_root_id(flow->root_id());
  size_t total = rest.ByteSizeLong() + 2;  // + the truncated flag
  int keep = 0;
  for (const v1::TrackedMessage& m : flow->messages()) {
    const size_t size = m.ByteSizeLong();
    // Field tag (1 byte) + length prefix + the message.
    const size_t entry =
        1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
    if (total + entry > max_bytes) break;
    total += entry;
    ++keep;
  }
  flow->mutable_messages()->DeleteSubrange(keep, flow->messages_size() - keep);
  flow->set_truncated(true);
  return true;
}

}  // namespace utracker::server::query
