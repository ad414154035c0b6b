#include "support/event_factory.h"

#include <google/protobuf/util/time_util.h>

#include "wire/uuid.h"

namespace utracker::testing {

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  *ts = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

v1::Event MakeEvent(const std::string& message_id, const std::string& service, v1::EventKind kind,
                    absl::Time at, const std::string& parent_id, const std::string& root_id,
                    uint32_t depth) {
  v1::Event e;
  e.set_event_id(wire::NewUuidV7());
  e.set_message_id(message_id);
  e.set_parent_id(parent_id);
  e.set_root_id(root_id.empty() ? message_id : root_id);
  e.set_depth(depth);
  e.set_service(service);
  e.set_instance("test-host");
  e.set_kind(kind);
  SetTime(at, e.mutable_occurred_at());
  return e;
}

}  // namespace utracker::testing
