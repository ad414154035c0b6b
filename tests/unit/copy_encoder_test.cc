#include "storage/copy_encoder.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "storage/message_rows.h"
#include "storage/pg_arrays.h"
#include "support/event_factory.h"

namespace utracker::server::storage {
namespace {

// Reads big-endian fields back out of the encoder's output.
struct Reader {
  absl::string_view s;
  size_t pos = 0;
  int64_t Int(int bytes) {
    int64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<uint8_t>(s[pos++]);
    if (bytes == 2) return static_cast<int16_t>(v);
    if (bytes == 4) return static_cast<int32_t>(v);
    return v;
  }
  // A field: its bytes, or "<NULL>".
  std::string Field() {
    const int64_t len = Int(4);
    if (len < 0) return "<NULL>";
    std::string out(s.substr(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len);
    return out;
  }
};

TEST(CopyEncoder, WritesHeaderRowsAndTrailerInPostgresBinaryFormat) {
  const absl::Time t = absl::FromUnixSeconds(946684800 + 1) + absl::Microseconds(5);
  v1::Event e =
      testing::MakeEvent("0190a1a0-0000-7000-8000-0000000000aa", "alice", v1::EVENT_KIND_SENT, t);
  e.set_destination("bob");
  (*e.mutable_attributes())["q\"k"] = "line\nbreak";
  BinaryCopyWriter enc;
  EncodeEvent(e, &enc);
  enc.Finish();
  const std::string out(enc.data());

  ASSERT_EQ(out.substr(0, 11), std::string("PGCOPY\n\377\r\n\0", 11));
  Reader r{out, 11};
  EXPECT_EQ(r.Int(4), 0);            // flags
  EXPECT_EQ(r.Int(4), 0);            // extension
  EXPECT_EQ(r.Int(2), 13);           // columns
  EXPECT_EQ(r.Field().size(), 16u);  // event_id
  std::string ts = r.Field();
  ASSERT_EQ(ts.size(), 8u);
  Reader tr{ts};
  EXPECT_EQ(tr.Int(8), 1000005);  // µs since 2000-01-01
  std::string msg = r.Field();
  EXPECT_EQ(static_cast<uint8_t>(msg[0]), 0x01);
  EXPECT_EQ(static_cast<uint8_t>(msg[15]), 0xaa);
  EXPECT_EQ(r.Field(), "<NULL>");   // parent_id
  EXPECT_EQ(r.Field(), msg);        // root_id
  EXPECT_EQ(r.Field().size(), 4u);  // depth
  EXPECT_EQ(r.Field(), "alice");
  EXPECT_EQ(r.Field(), "test-host");
  EXPECT_EQ(r.Field(), "sent");
  EXPECT_EQ(r.Field(), "<NULL>");  // name
  EXPECT_EQ(r.Field(), "bob");
  EXPECT_EQ(r.Field(), "\x01{\"q\\\"k\":\"line\\nbreak\"}");  // jsonb v1 + escaped JSON
  EXPECT_EQ(r.Field(), "<NULL>");                             // error
  EXPECT_EQ(r.Int(2), -1);                                    // trailer
  EXPECT_EQ(r.pos, out.size());
}

TEST(MessageRows, OneRowPerMessageWithTheBestAuthorEarliestSightAndFirstContent) {
  const absl::Time t = absl::FromUnixSeconds(1764288000);
  const std::string a = "0190a1a0-0000-7000-8000-0000000000aa";
  const std::string b = "0190a1a0-0000-7000-8000-0000000000bb";
  std::vector<v1::Event> ev = {
      testing::MakeEvent(a, "bob", v1::EVENT_KIND_RECEIVED, t + absl::Seconds(1)),
      testing::MakeEvent(b, "carl", v1::EVENT_KIND_NOTE, t + absl::Seconds(9)),
      testing::MakeEvent(a, "relay", v1::EVENT_KIND_SENT, t + absl::Seconds(3)),
      testing::MakeEvent(a, "alice", v1::EVENT_KIND_NOTE, t + absl::Seconds(5)),
      testing::MakeEvent(b, "dave", v1::EVENT_KIND_NOTE, t + absl::Seconds(2)),
  };
  ev[0].set_content("late");  // content: the earliest event carrying it wins
  ev[2].set_content("");
  ev[3].set_origin_service("alice");  // declared: beats the SENT by relay
  ev[3].set_content("x");
  std::vector<const v1::Event*> ptrs;
  for (const auto& e : ev) ptrs.push_back(&e);
  std::vector<MessageRow> rows = BuildMessageRows(ptrs);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first->message_id(), a);
  EXPECT_EQ(rows[0].origin_service, "alice");
  EXPECT_TRUE(rows[0].origin_declared);
  EXPECT_EQ(rows[0].first_seen_at, PgTimestampMicros(ev[0].occurred_at()));
  EXPECT_EQ(rows[0].content, &ev[0]);
  EXPECT_EQ(rows[1].origin_service, "dave");  // no SENT, nothing declared: the earliest
  EXPECT_FALSE(rows[1].origin_sent);
  EXPECT_EQ(rows[1].content, nullptr);

  BinaryCopyWriter w;
  EncodeMessageRow(rows[1], &w);
  Reader r{w.data(), 19};
  EXPECT_EQ(r.Int(2), 12);  // columns: kMessageRowColumns
  EXPECT_EQ(r.Field().size(), 16u);  // id
  EXPECT_EQ(r.Field(), "<NULL>");    // parent
  r.Field();                         // root
  r.Field();                         // depth
  EXPECT_EQ(r.Field(), "dave");
  EXPECT_EQ(r.Field(), std::string(1, '\0'));  // declared = false
}

TEST(CopyEncoder, TimestampsBeforeThePostgresEpochAreNegative) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(0);
  EXPECT_EQ(PgTimestampMicros(ts), -946684800LL * 1000000);
}

// Reading times back: Unix microseconds into a Timestamp, also before 1970 (nanos stay in
// [0, 1e9), as protobuf requires), and the same as TimeUtil's conversion.
TEST(SetMicros, MatchesTimeUtilOnBothSidesOf1970) {
  for (int64_t micros : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{-1500001}, int64_t{999999},
                         int64_t{1764288000123456}, int64_t{-62135596800000000}}) {
    google::protobuf::Timestamp ts;
    SetMicros(micros, &ts);
    EXPECT_GE(ts.nanos(), 0) << micros;
    EXPECT_LT(ts.nanos(), 1000000000) << micros;
    EXPECT_EQ(google::protobuf::util::TimeUtil::TimestampToMicroseconds(ts), micros);
    EXPECT_EQ(ts, google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros)) << micros;
  }
}

}  // namespace
}  // namespace utracker::server::storage
