#include "storage/inbox_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "support/event_factory.h"
#include "wire/uuid.h"

namespace utracker::server::storage {
namespace {

using testing::MakeEvent;

TEST(InboxBatch, RoundTripsWhatTheRollupJobNeeds) {
  const absl::Time t = absl::FromUnixMicros(1764288000123456) + absl::Nanoseconds(789);
  std::vector<v1::Event> events = {
      MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t),
      // A service name longer than 127 bytes takes a two-byte length.
      MakeEvent(wire::NewUuidV7(), std::string(300, 's'), v1::EVENT_KIND_FAILED,
                t + absl::Hours(1)),
      MakeEvent(wire::NewUuidV7(), "Dave \"the\" \xc3\xa9 worker", v1::EVENT_KIND_REPLAYED, t),
  };
  events[0].set_destination("billing, eu");
  std::vector<const v1::Event*> ptrs;
  for (const auto& e : events) ptrs.push_back(&e);

  absl::StatusOr<std::string> payload = EncodeInboxBatch(ptrs);
  ASSERT_TRUE(payload.ok()) << payload.status();
  std::vector<rollup::InboxEvent> out(1);  // decoding appends
  ASSERT_TRUE(DecodeInboxBatch(*payload, 3, &out).ok());
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < events.size(); ++i) {
    const rollup::InboxEvent& got = out[i + 1];
    EXPECT_EQ(got.message_id, events[i].message_id());
    EXPECT_EQ(got.service, events[i].service());
    EXPECT_EQ(got.kind, events[i].kind());
    EXPECT_EQ(got.destination, events[i].destination());
  }
  // Microseconds, truncated as the events table stores them.
  EXPECT_EQ(out[1].at, 1764288000123456);
  EXPECT_EQ(out[2].at, 1764288000123456 + 3600000000LL);
}

// The layout, byte for byte: batches written by an earlier server wait in the table and must
// still read the same.
TEST(InboxBatch, KeepsItsLayout) {
  v1::Event e = MakeEvent("0190a1a0-0000-7000-8000-0000000000aa", "svc",
                          v1::EVENT_KIND_PROCESSED, absl::FromUnixMicros(0x0102030405));
  e.set_destination(std::string(130, 'd'));  // a two-byte length
  const v1::Event* one[] = {&e};
  const std::string expected =
      std::string("\x01", 1) +
      std::string("\x01\x90\xa1\xa0\x00\x00\x70\x00\x80\x00\x00\x00\x00\x00\x00\xaa", 16) +
      std::string(1, static_cast<char>(v1::EVENT_KIND_PROCESSED)) +
      std::string("\x05\x04\x03\x02\x01\x00\x00\x00", 8) + "\x03svc" +
      std::string("\x82\x01", 2) + std::string(130, 'd');
  EXPECT_EQ(*EncodeInboxBatch(one), expected);
}

TEST(InboxBatch, RefusesATruncatedOrUnknownPayloadAndLeavesTheOutputAlone) {
  v1::Event e = MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, absl::Now());
  e.set_destination("orders");
  const v1::Event* one[] = {&e};
  const std::string payload = *EncodeInboxBatch(one);
  // The version byte alone is an empty batch; any other cut is truncated.
  std::vector<rollup::InboxEvent> none;
  EXPECT_TRUE(DecodeInboxBatch(payload.substr(0, 1), 0, &none).ok());
  EXPECT_TRUE(none.empty());
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    if (cut == 1) continue;
    std::vector<rollup::InboxEvent> out;
    EXPECT_EQ(DecodeInboxBatch(payload.substr(0, cut), 1, &out).code(),
              absl::StatusCode::kDataLoss)
        << "cut at " << cut;
    EXPECT_TRUE(out.empty());
  }
  std::string future = payload;
  future[0] = 2;
  std::vector<rollup::InboxEvent> out;
  EXPECT_EQ(DecodeInboxBatch(future, 1, &out).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeInboxBatch(payload, 2, &out).code(), absl::StatusCode::kDataLoss)
      << "fewer events than the row says were written";
  EXPECT_TRUE(out.empty());
}

TEST(InboxBatch, CatchesACutBetweenEventsAndAnOverlongLength) {
  const absl::Time t = absl::Now();
  std::vector<v1::Event> events = {MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT, t),
                                   MakeEvent(wire::NewUuidV7(), "bob", v1::EVENT_KIND_SENT, t)};
  const v1::Event* one[] = {&events[0]};
  const v1::Event* two[] = {&events[0], &events[1]};
  const std::string first = *EncodeInboxBatch(one), both = *EncodeInboxBatch(two);
  ASSERT_EQ(both.substr(0, first.size()), first);
  std::vector<rollup::InboxEvent> out;
  // Cut exactly after the first event: readable, but not the two events written.
  EXPECT_EQ(DecodeInboxBatch(first, 2, &out).code(), absl::StatusCode::kDataLoss);
  // A length whose LEB128 never ends within 5 bytes.
  std::string overlong = first.substr(0, 1 + 16 + 1 + 8) + std::string(6, '\xff');
  EXPECT_EQ(DecodeInboxBatch(overlong, 1, &out).code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(out.empty());
}

TEST(InboxBatch, KeepsTimesBefore1970) {
  // Validation refuses them today; the encoding does not depend on it.
  v1::Event e = MakeEvent(wire::NewUuidV7(), "alice", v1::EVENT_KIND_SENT,
                          absl::FromUnixMicros(-1500001));
  const v1::Event* one[] = {&e};
  std::vector<rollup::InboxEvent> out;
  ASSERT_TRUE(DecodeInboxBatch(*EncodeInboxBatch(one), 1, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].at, -1500001);
}

TEST(InboxBatch, RefusesAMessageIdThatIsNotAUuid) {
  v1::Event e = MakeEvent("not-a-uuid", "alice", v1::EVENT_KIND_SENT, absl::Now());
  const v1::Event* one[] = {&e};
  EXPECT_EQ(EncodeInboxBatch(one).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace utracker::server::storage
