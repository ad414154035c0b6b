#include "json_redact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace utracker::client::internal {
namespace {

const std::vector<std::string> kPassword = {"password"};

// Redacts and expects success; on failure the test fails and the status is shown.
std::string Redact(absl::string_view json, const std::vector<std::string>& keys = kPassword) {
  absl::StatusOr<std::string> result = RedactJsonKeys(json, keys);
  EXPECT_TRUE(result.ok()) << "input: " << json << "\nstatus: " << result.status();
  return result.ok() ? *result : std::string("<error>");
}

// Returns the error message, or "" (plus a test failure) when the input was accepted.
std::string RejectionOf(absl::string_view json, const std::vector<std::string>& keys = kPassword) {
  absl::StatusOr<std::string> result = RedactJsonKeys(json, keys);
  EXPECT_FALSE(result.ok()) << "accepted: " << json << "\nproduced: " << result.value_or("");
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  return std::string(result.status().message());
}

std::string Nested(int depth, absl::string_view open, absl::string_view inner,
                   absl::string_view close) {
  std::string out;
  for (int i = 0; i < depth; ++i) out.append(open.data(), open.size());
  out.append(inner.data(), inner.size());
  for (int i = 0; i < depth; ++i) out.append(close.data(), close.size());
  return out;
}

TEST(RedactJsonKeys, RedactsTopLevelKey) {
  EXPECT_EQ(Redact(R"({"user":"bob","password":"hunter2"})"),
            R"({"user":"bob","password":"[REDACTED]"})");
}

TEST(RedactJsonKeys, MatchesKeysAsciiCaseInsensitively) {
  EXPECT_EQ(Redact(R"({"Password":"a","PASSWORD":"b","pAsSwOrD":"c"})"),
            R"({"Password":"[REDACTED]","PASSWORD":"[REDACTED]","pAsSwOrD":"[REDACTED]"})");
  // The configured key's case does not matter either.
  EXPECT_EQ(Redact(R"({"password":1})", {"PassWord"}), R"({"password":"[REDACTED]"})");
}

TEST(RedactJsonKeys, NonAsciiComparesAsExactBytes) {
  // "pässword": the ASCII letters fold, the 'ä' (C3 A4) must match byte for byte.
  const std::vector<std::string> keys = {"p\xc3\xa4ssword"};
  EXPECT_EQ(Redact("{\"P\xc3\xa4SSWORD\":1}", keys), "{\"P\xc3\xa4SSWORD\":\"[REDACTED]\"}");
  // 'Ä' (C3 84) is not folded to 'ä'.
  EXPECT_EQ(Redact("{\"p\xc3\x84ssword\":1}", keys), "{\"p\xc3\x84ssword\":1}");
}

TEST(RedactJsonKeys, RedactsInNestedObjects) {
  EXPECT_EQ(Redact(R"({"a":{"b":{"password":"x","c":1},"password":"y"}})"),
            R"({"a":{"b":{"password":"[REDACTED]","c":1},"password":"[REDACTED]"}})");
}

TEST(RedactJsonKeys, RedactsObjectsInsideArrays) {
  EXPECT_EQ(Redact(R"({"users":[{"name":"a","token":"x"},{"token":"y"},3]})", {"token"}),
            R"({"users":[{"name":"a","token":"[REDACTED]"},{"token":"[REDACTED]"},3]})");
}

TEST(RedactJsonKeys, RedactsInsideArraysOfArrays) {
  EXPECT_EQ(Redact(R"([[{"token":1}],[[{"token":2}],[]],[[[{"x":{"token":3}}]]]])", {"token"}),
            R"([[{"token":"[REDACTED]"}],[[{"token":"[REDACTED]"}],[]],)"
            R"([[[{"x":{"token":"[REDACTED]"}}]]]])");
}

TEST(RedactJsonKeys, ReplacesValueOfEveryType) {
  const struct {
    const char* value;
  } cases[] = {{R"({"a":[1,{"b":2}],"c":"d"})"},
               {R"([1,[2,[3]],{"e":null}])"},
               {"{}"},
               {"[]"},
               {"-12.5e+3"},
               {"0"},
               {R"("hunter2")"},
               {R"("esc\"aped\\ \u00e9")"},
               {R"("")"},
               {"true"},
               {"false"},
               {"null"}};
  for (const auto& c : cases) {
    const std::string json = std::string(R"({"x":0,"password":)") + c.value + R"(,"y":1})";
    EXPECT_EQ(Redact(json), R"({"x":0,"password":"[REDACTED]","y":1})") << c.value;
  }
}

TEST(RedactJsonKeys, EscapedKeysMatchAfterDecoding) {
  // The key's own spelling, escapes included, is kept; only the value is replaced.
  EXPECT_EQ(Redact(R"({"pass\u0077ord":"x"})"), R"({"pass\u0077ord":"[REDACTED]"})");
  EXPECT_EQ(Redact(R"({"\u0050ASSWORD":"x"})"), R"({"\u0050ASSWORD":"[REDACTED]"})");
  EXPECT_EQ(Redact(R"({"pass\u0057ORD":"x"})"), R"({"pass\u0057ORD":"[REDACTED]"})");
  EXPECT_EQ(Redact(R"({"\u0070\u0061\u0073\u0073\u0077\u006f\u0072\u0064":"x"})"),
            R"({"\u0070\u0061\u0073\u0073\u0077\u006f\u0072\u0064":"[REDACTED]"})");
  EXPECT_EQ(Redact(R"({"api\/key":"x"})", {"api/key"}), R"({"api\/key":"[REDACTED]"})");
  EXPECT_EQ(Redact(R"({"a\tb":"x"})", {"a\tb"}), R"({"a\tb":"[REDACTED]"})");
  // A surrogate pair decodes to one code point (U+1F511) compared as UTF-8 bytes.
  const std::vector<std::string> key_emoji = {"\xf0\x9f\x94\x91"};
  EXPECT_EQ(Redact(R"({"\uD83D\uDD11":1,"x":2})", key_emoji),
            R"({"\uD83D\uDD11":"[REDACTED]","x":2})");
  EXPECT_EQ(Redact("{\"\xf0\x9f\x94\x91\":1}", key_emoji), "{\"\xf0\x9f\x94\x91\":\"[REDACTED]\"}");
  // A non-ASCII escape must not fold onto an ASCII letter: U+0130 is not "I".
  EXPECT_EQ(Redact(R"({"\u0130D":1})", {"id"}), R"({"\u0130D":1})");
}

TEST(RedactJsonKeys, PreservesEverythingElseByteForByte) {
  const std::string input =
      "\r\n \t{ \"b\" :\t1.50E+02 ,\n"
      "  \"a\": [ -0 , 0.0e-0,\"caf\\u00e9\\n\\/\" , true,false , null ] ,\n"
      "  \"PassWord\" :  { \"nested\" : [ 1 , 2 ] }  ,\n"
      "  \"z\\\"q\":\"\xe2\x82\xac\"\n"
      "} \n";
  const std::string expected =
      "\r\n \t{ \"b\" :\t1.50E+02 ,\n"
      "  \"a\": [ -0 , 0.0e-0,\"caf\\u00e9\\n\\/\" , true,false , null ] ,\n"
      "  \"PassWord\" :  \"[REDACTED]\"  ,\n"
      "  \"z\\\"q\":\"\xe2\x82\xac\"\n"
      "} \n";
  EXPECT_EQ(Redact(input), expected);
}

TEST(RedactJsonKeys, KeysThatOnlyContainTheWordDoNotMatch) {
  const std::string input =
      R"({"password_hint":"pet","my_password":1,"passwor":2,"passwords":[3],"pass word":4})";
  EXPECT_EQ(Redact(input), input);
}

TEST(RedactJsonKeys, StringValuesAreNeverTreatedAsKeys) {
  EXPECT_EQ(Redact(R"({"note":"password","list":["password",{"k":"password"}]})"),
            R"({"note":"password","list":["password",{"k":"password"}]})");
}

TEST(RedactJsonKeys, EmptyKeyListReturnsInputUnchangedButStillValidates) {
  const std::string input = R"( {"password":"x","a":[1,{"token":2}]} )";
  EXPECT_EQ(Redact(input, {}), input);
  EXPECT_NE(RejectionOf(R"({"password":"x",})", {}), "");
}

TEST(RedactJsonKeys, MatchesEveryConfiguredKeyAndEveryDuplicateMember) {
  EXPECT_EQ(Redact(R"({"token":1,"secret":2,"token":3,"other":4})", {"token", "secret"}),
            R"({"token":"[REDACTED]","secret":"[REDACTED]","token":"[REDACTED]","other":4})");
  EXPECT_EQ(Redact(R"({"":1,"a":2})", {""}), R"({"":"[REDACTED]","a":2})");
}

TEST(RedactJsonKeys, DoesNotVisitMembersOfAReplacedValue) {
  EXPECT_EQ(Redact(R"({"secret":{"password":1,"x":[{"password":2}]},"password":3})",
                   {"secret", "password"}),
            R"({"secret":"[REDACTED]","password":"[REDACTED]"})");
}

TEST(RedactJsonKeys, ReplacedValuesMustStillBeWellFormed) {
  EXPECT_NE(RejectionOf(R"({"password":{"a":}})"), "");
  EXPECT_NE(RejectionOf(R"({"password":[1,]})"), "");
  EXPECT_NE(RejectionOf(R"({"password":"a)"), "");
  EXPECT_NE(RejectionOf(R"({"password":01})"), "");
}

TEST(RedactJsonKeys, NonObjectTopLevelValuesWork) {
  EXPECT_EQ(Redact(R"([{"password":1}])"), R"([{"password":"[REDACTED]"}])");
  EXPECT_EQ(Redact(R"("just a string")"), R"("just a string")");
  EXPECT_EQ(Redact("42"), "42");
  EXPECT_EQ(Redact(" -0.5e10\n"), " -0.5e10\n");
  EXPECT_EQ(Redact("true"), "true");
  EXPECT_EQ(Redact("null"), "null");
  EXPECT_EQ(Redact(R"("password")"), R"("password")");
  EXPECT_EQ(Redact("[]"), "[]");
}

TEST(RedactJsonKeys, RejectsMalformedInput) {
  const struct {
    const char* name;
    std::string json;
  } cases[] = {
      {"empty", ""},
      {"only whitespace", " \n\t "},
      {"truncated object", R"({"password":"x")"},
      {"truncated after key", R"({"a")"},
      {"truncated after colon", R"({"a":)"},
      {"open brace", "{"},
      {"open bracket", "["},
      {"trailing comma in object", R"({"a":1,})"},
      {"trailing comma in array", "[1,]"},
      {"leading comma", "[,1]"},
      {"missing comma", "[1 2]"},
      {"missing colon", R"({"a" 1})"},
      {"missing value", R"({"a":})"},
      {"non-string key", "{1:2}"},
      {"unquoted key", "{a:1}"},
      {"single-quoted key", "{'password':'x'}"},
      {"single-quoted string", "['x']"},
      {"trailing garbage", "{} x"},
      {"two values", "1 2"},
      {"extra close brace", R"({"a":1}})"},
      {"extra close bracket", "[1]]"},
      {"mismatched close", "[1}"},
      {"stray close", "]"},
      {"unterminated string", R"("abc)"},
      {"raw newline in string", "\"a\nb\""},
      {"raw tab in string", "\"a\tb\""},
      {"raw NUL in string", std::string("\"a\0b\"", 5)},
      {"bad escape", R"("\x41")"},
      {"escaped single quote", R"("\'")"},
      {"short unicode escape", R"("\u12")"},
      {"non-hex unicode escape", R"("\u12G4")"},
      {"backslash at end", "\"\\"},
      {"leading zero", "01"},
      {"leading plus", "+1"},
      {"bare minus", "-"},
      {"no digits after point", "1."},
      {"no leading digit", ".5"},
      {"no exponent digits", "1e"},
      {"no exponent digits after sign", "1e+"},
      {"hex number", "0x10"},
      {"NaN", "NaN"},
      {"Infinity", "-Infinity"},
      {"truncated literal", "tru"},
      {"capitalised literal", "True"},
      {"literal with suffix", "nullx"},
      {"vertical tab is not whitespace", "\v1"},
      {"form feed is not whitespace", "1\f"},
      {"byte order mark", "\xef\xbb\xbf{}"},
      {"comment", "{} // note"},
  };
  for (const auto& c : cases) {
    const std::string message = RejectionOf(c.json);
    EXPECT_TRUE(absl::StrContains(message, "at byte ")) << c.name << ": " << message;
  }
}

TEST(RedactJsonKeys, ErrorNamesTheOffendingByte) {
  EXPECT_TRUE(absl::StrContains(RejectionOf("{} x"), "at byte 3:")) << RejectionOf("{} x");
  EXPECT_TRUE(absl::StrContains(RejectionOf("[1,]"), "at byte 3:")) << RejectionOf("[1,]");
  EXPECT_TRUE(absl::StrContains(RejectionOf(R"({"a":1,})"), "at byte 7:"));
  EXPECT_TRUE(absl::StrContains(RejectionOf("\"a\nb\""), "at byte 2:"));
  EXPECT_TRUE(absl::StrContains(RejectionOf(R"(["ok","\q"])"), "at byte 7:"));
}

TEST(RedactJsonKeys, RejectsInvalidUtf8) {
  const struct {
    const char* name;
    std::string json;
  } cases[] = {
      {"stray continuation byte", "\"\x80\""},
      {"overlong slash", "\"\xc0\xaf\""},
      {"overlong 'a' in a key", "{\"p\xc1\xa1ssword\":1}"},
      {"overlong three-byte", "\"\xe0\x80\xaf\""},
      {"encoded surrogate", "\"\xed\xa0\x80\""},
      {"above U+10FFFF", "\"\xf4\x90\x80\x80\""},
      {"invalid lead byte", "\"\xff\""},
      {"truncated sequence", "\"\xe2\x82\""},
      {"truncated at end of input", "\"\xe2\x82"},
      {"non-ASCII outside a string", "\xc3\xa9"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(RejectionOf(c.json), "") << c.name;
  }
  const std::string valid = "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"]";
  EXPECT_EQ(Redact(valid), valid);
}

TEST(RedactJsonKeys, SurrogatePairsAcceptedLoneSurrogatesRejected) {
  // Valid pair, in a value and in a key: accepted and kept as written.
  EXPECT_EQ(Redact(R"(["\uD83D\uDE00"])"), R"(["\uD83D\uDE00"])");
  EXPECT_EQ(Redact(R"({"\ud83d\ude00":1})"), R"({"\ud83d\ude00":1})");
  // Lone surrogates are always rejected, whether in a value, a key, or a replaced value.
  for (const char* json : {
           R"(["\uD800"])",
           R"(["\uDBFFx"])",
           R"(["\uDC00"])",
           R"(["\uDE00\uD83D"])",
           R"(["\uD83D\u0041"])",
           R"(["\uD83D\uD83D"])",
           R"(["\uD83D\n"])",
           R"(["\uD83D)",
           R"({"pass\uD800word":1})",
           R"({"password":"\uDFFF"})",
       }) {
    const std::string message = RejectionOf(json);
    EXPECT_TRUE(absl::StrContains(message, "surrogate") ||
                absl::StrContains(message, "unterminated"))
        << json << ": " << message;
  }
  // Same answer with no keys to match: validation does not depend on the key list.
  EXPECT_NE(RejectionOf(R"(["\uD800"])", {}), "");
}

TEST(RedactJsonKeys, AcceptsNestingUpToTheLimit) {
  const std::string arrays_400 = Nested(400, "[", "1", "]");
  EXPECT_EQ(Redact(arrays_400), arrays_400);
  const std::string arrays_512 = Nested(512, "[", "", "]");
  EXPECT_EQ(Redact(arrays_512), arrays_512);
  // Redaction still works at the bottom of a deep document.
  EXPECT_EQ(Redact(Nested(400, R"({"a":)", R"({"password":[[1]]})", "}")),
            Nested(400, R"({"a":)", R"({"password":"[REDACTED]"})", "}"));
}

TEST(RedactJsonKeys, RejectsNestingBeyondTheLimit) {
  EXPECT_TRUE(absl::StrContains(RejectionOf(Nested(600, "[", "", "]")), "nesting"));
  EXPECT_TRUE(absl::StrContains(RejectionOf(Nested(513, "[", "", "]")), "nesting"));
  EXPECT_TRUE(absl::StrContains(RejectionOf(Nested(600, R"({"a":)", "1", "}")), "nesting"));
  // Inside a replaced value the limit still applies.
  EXPECT_TRUE(absl::StrContains(
      RejectionOf(Nested(1, R"({"password":)", Nested(600, "[", "", "]"), "}")), "nesting"));
  // Far too deep and unterminated: fails fast on depth, does not exhaust the stack.
  EXPECT_TRUE(absl::StrContains(RejectionOf(std::string(1000000, '[')), "nesting"));
}

}  // namespace
}  // namespace utracker::client::internal
