#ifndef UTRACKER_TESTS_SUPPORT_EVENT_FACTORY_H_
#define UTRACKER_TESTS_SUPPORT_EVENT_FACTORY_H_

#include <string>

#include "absl/time/time.h"
#include "utracker/v1/event.pb.h"

namespace utracker::testing {

// A valid event (fresh UUIDv7 event id) about `message_id`, as a root message unless
// parent/root are given.
v1::Event MakeEvent(const std::string& message_id, const std::string& service, v1::EventKind kind,
                    absl::Time at, const std::string& parent_id = "",
                    const std::string& root_id = "", uint32_t depth = 0);

void SetTime(absl::Time t, google::protobuf::Timestamp* ts);

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_EVENT_FACTORY_H_
