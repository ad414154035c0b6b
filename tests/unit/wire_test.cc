#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "wire/alert_rule.h"
#include "wire/text.h"
#include "wire/uuid.h"

namespace utracker::wire {
namespace {

TEST(Uuid, ParsesCanonicalFormEitherCase) {
  auto lower = ParseUuid("0190a1a0-0000-7000-8000-0000000000aa");
  auto upper = ParseUuid("0190A1A0-0000-7000-8000-0000000000AA");
  ASSERT_TRUE(lower.has_value());
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(*lower, *upper);
  EXPECT_EQ((*lower)[0], 0x01);
  EXPECT_EQ((*lower)[15], 0xaa);
  EXPECT_EQ(FormatUuid(*upper), "0190a1a0-0000-7000-8000-0000000000aa");
}

TEST(Uuid, RejectsEverythingElse) {
  for (const char* bad :
       {"", "abc", "0190a1a000007000800000000000000aa", "{0190a1a0-0000-7000-8000-0000000000aa}",
        "0190a1a0-0000-7000-8000-0000000000ag", "0190a1a0-0000-7000-8000_0000000000aa",
        "0190a1a0-0000-7000-8000-0000000000aa ", "urn:uuid:0190a1a0-0000-7000-8000-00000000"}) {
    EXPECT_FALSE(ParseUuid(bad).has_value()) << bad;
  }
}

TEST(Uuid, ChecksEveryPositionAndRoundTripsAnyBytes) {
  const std::string good = "0190a1a0-0000-7000-8000-0000000000aa";
  for (size_t i = 0; i < good.size(); ++i) {
    for (const char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '\x80', '\xff', '-', '0'}) {
      std::string text = good;
      text[i] = c;
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      const bool hex = c == '0';
      EXPECT_EQ(ParseUuid(text).has_value(), dash ? c == '-' : hex)
          << "position " << i << " char " << static_cast<int>(c);
    }
  }
  std::mt19937 rng(5);
  for (int n = 0; n < 1000; ++n) {
    UuidBytes bytes;
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    const auto back = ParseUuid(FormatUuid(bytes));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, bytes);
  }
}

TEST(Uuid, V7HasVersionVariantTimeAndSortsInCreationOrder) {
  const absl::Time t = absl::FromUnixMillis(1764288000123);
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {  // many within one millisecond: the counter keeps order
    std::string id = NewUuidV7At(t);
    ASSERT_TRUE(ParseUuid(id).has_value());
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_GT(id, prev);
    prev = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5000u);
  const auto bytes = *ParseUuid(NewUuidV7At(absl::FromUnixMillis(1764288999000)));
  uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | bytes[i];
  EXPECT_GE(ms, 1764288999000u);
}

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));               // NUL is valid UTF-8
}

TEST(Utf8, RejectsMalformedSequences) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("ok\xe2\x82"));        // truncated at the end
}

TEST(Text, NulDetection) {
  EXPECT_FALSE(ContainsNul("abc"));
  EXPECT_TRUE(ContainsNul(std::string("a\0c", 3)));
}

TEST(Text, SanitizeReplacesNulAndInvalidBytesAndCutsOnCharacterBoundaries) {
  std::string ok = "caf\xc3\xa9";
  EXPECT_FALSE(SanitizeText(&ok, 100));
  EXPECT_EQ(ok, "caf\xc3\xa9");

  std::string bad("a\0b\xff\xc3(", 6);
  EXPECT_TRUE(SanitizeText(&bad, 100));
  EXPECT_EQ(bad,
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd\xef\xbf\xbd(");
  EXPECT_TRUE(IsValidUtf8(bad));
  EXPECT_FALSE(ContainsNul(bad));

  std::string long_text = "ab\xc3\xa9";  // 4 bytes; a cut at 3 must not split the é
  EXPECT_TRUE(SanitizeText(&long_text, 3));
  EXPECT_EQ(long_text, "ab");
}

TEST(Text, QuoteForErrorIsPrintableAndBounded) {
  EXPECT_EQ(QuoteForError("abc"), "\"abc\"");
  EXPECT_EQ(QuoteForError(std::string("a\0\xff\"", 4)), "\"a\\x00\\xff\\x22\"");
  const std::string q = QuoteForError(std::string(100, 'x'), 10);
  EXPECT_EQ(q, "\"xxxxxxxxxx...\"");
}

TEST(AlertRule, ShortNamesRoundTripAndNothingElseParses) {
  for (v1::AlertRule rule :
       {v1::ALERT_RULE_STUCK, v1::ALERT_RULE_FAILURE_RATIO, v1::ALERT_RULE_SILENCE}) {
    EXPECT_FALSE(AlertRuleName(rule).empty());
    EXPECT_EQ(AlertRuleFromName(AlertRuleName(rule)), rule);
  }
  EXPECT_EQ(AlertRuleName(v1::ALERT_RULE_FAILURE_RATIO), "failure_ratio");
  for (const char* other : {"", "STUCK", "ALERT_RULE_STUCK", "unspecified", "stuck "}) {
    EXPECT_EQ(AlertRuleFromName(other), v1::ALERT_RULE_UNSPECIFIED) << other;
  }
  EXPECT_EQ(AlertRuleName(v1::ALERT_RULE_UNSPECIFIED), "");
}

}  // namespace
}  // namespace utracker::wire
