#include "wire/event_validation.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "support/event_factory.h"
#include "wire/text.h"

namespace utracker::wire {
namespace {

using utracker::testing::MakeEvent;

const absl::Time kNow = absl::FromUnixSeconds(1764288000);  // 2025-11-28
const std::string kMsg = "0190a1a0-0000-7000-8000-0000000000aa";
const std::string kRoot = "0190a1a0-0000-7000-8000-0000000000bb";

v1::Event Valid() { return MakeEvent(kMsg, "alice", v1::EVENT_KIND_SENT, kNow); }

// Expects rejection with a reason starting with `field`.
void ExpectRejected(v1::Event e, const std::string& field) {
  absl::Status st = ValidateAndNormalizeEvent(e, kNow);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_TRUE(absl::StartsWith(st.message(), field)) << st.message();
  EXPECT_TRUE(IsValidUtf8(st.message()));
  EXPECT_FALSE(ContainsNul(st.message()));
}

TEST(EventValidation, AcceptsAndNormalisesAValidEvent) {
  v1::Event e = Valid();
  e.set_message_id("0190A1A0-0000-7000-8000-0000000000AA");
  e.clear_root_id();
  e.mutable_occurred_at()->set_nanos(123456789);
  ASSERT_TRUE(ValidateAndNormalizeEvent(e, kNow).ok());
  EXPECT_EQ(e.message_id(), kMsg);                // lower-cased
  EXPECT_EQ(e.root_id(), kMsg);                   // a root's root is itself
  EXPECT_EQ(e.occurred_at().nanos(), 123456000);  // microseconds, like PostgreSQL
}

TEST(EventValidation, RequiredFields) {
  v1::Event e = Valid();
  e.clear_event_id();
  ExpectRejected(e, "event_id");
  e = Valid();
  e.clear_message_id();
  ExpectRejected(e, "message_id");
  e = Valid();
  e.clear_service();
  ExpectRejected(e, "service");
  e = Valid();
  e.clear_occurred_at();
  ExpectRejected(e, "occurred_at");
  e = Valid();
  e.set_kind(v1::EVENT_KIND_UNSPECIFIED);
  ExpectRejected(e, "kind");
  e = Valid();
  e.set_kind(static_cast<v1::EventKind>(42));  // proto3 enums are open
  ExpectRejected(e, "kind");
}

TEST(EventValidation, UuidSyntax) {
  v1::Event e = Valid();
  e.set_event_id("not-a-uuid");
  ExpectRejected(e, "event_id");
  e = Valid();
  e.set_parent_id("0190a1a0-0000-7000-8000-0000000000zz");
  ExpectRejected(e, "parent_id");
}

TEST(EventValidation, Lineage) {
  v1::Event child = MakeEvent(kMsg, "bob", v1::EVENT_KIND_SENT, kNow, kRoot, kRoot, 1);
  EXPECT_TRUE(ValidateAndNormalizeEvent(child, kNow).ok());

  v1::Event e = child;
  e.clear_root_id();
  ExpectRejected(e, "root_id");  // a child must name its root
  e = child;
  e.set_depth(0);
  ExpectRejected(e, "depth");
  e = child;
  e.set_parent_id(kMsg);
  ExpectRejected(e, "parent_id");
  e = Valid();
  e.set_depth(3);
  ExpectRejected(e, "depth");  // roots are at depth 0
  e = Valid();
  e.set_root_id(kRoot);
  ExpectRejected(e, "root_id");  // a root's root is itself
}

TEST(EventValidation, NulBytesAndInvalidUtf8InAnyText) {
  const std::string nul("x\0y", 3);
  v1::Event e = Valid();
  e.set_name(nul);
  ExpectRejected(e, "name");
  e = Valid();
  e.set_destination(nul);
  ExpectRejected(e, "destination");
  e = Valid();
  e.set_error("\xc3\x28");
  ExpectRejected(e, "error");
  e = Valid();
  (*e.mutable_attributes())["k"] = nul;
  ExpectRejected(e, "attributes[");
  e = Valid();
  (*e.mutable_attributes())[nul] = "v";
  ExpectRejected(e, "attributes key");
  e = Valid();
  e.set_content(nul);  // content is bytes: anything goes
  EXPECT_TRUE(ValidateAndNormalizeEvent(e, kNow).ok());
}

TEST(EventValidation, Sizes) {
  v1::Event e = Valid();
  e.set_service(std::string(kMaxServiceBytes, 's'));
  EXPECT_TRUE(ValidateAndNormalizeEvent(e, kNow).ok());
  e.set_service(std::string(kMaxServiceBytes + 1, 's'));
  ExpectRejected(e, "service");
  e = Valid();
  e.set_content(std::string(kMaxContentBytes + 1, 'c'));
  ExpectRejected(e, "content");
  e = Valid();
  for (size_t i = 0; i <= kMaxAttributes; ++i) (*e.mutable_attributes())[std::to_string(i)] = "v";
  ExpectRejected(e, "attributes");
}

TEST(EventValidation, TimestampRange) {
  v1::Event e = Valid();
  e.mutable_occurred_at()->set_seconds(-1);
  ExpectRejected(e, "occurred_at");
  e = Valid();
  testing::SetTime(kNow + absl::Hours(25), e.mutable_occurred_at());
  ExpectRejected(e, "occurred_at");
  e = Valid();
  testing::SetTime(kNow + absl::Hours(23), e.mutable_occurred_at());
  EXPECT_TRUE(ValidateAndNormalizeEvent(e, kNow).ok());
  e = Valid();
  e.mutable_occurred_at()->set_nanos(1000000000);
  ExpectRejected(e, "occurred_at");
}

}  // namespace
}  // namespace utracker::wire
