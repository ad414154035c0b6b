#include "json_redact.h"

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace utracker::client::internal {
namespace {

constexpr size_t kMaxDepth = 512;
constexpr absl::string_view kRedactedValue = "\"[REDACTED]\"";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// One pass over one document. Validation and redaction happen together: output is only
// materialised when the first redaction happens, by copying the untouched input between
// replaced values, so a payload with nothing to redact costs one validation scan and one copy.
//
// Nesting is tracked on an explicit stack rather than by recursion, so the 512-level limit is
// about bounding memory and matching common parsers, not about this thread's stack size
// (the client library may run on small-stack threads owned by the embedding service).
//
// Single use, not thread-safe; RedactJsonKeys makes one per call.
class Redactor {
 public:
  Redactor(absl::string_view in, const std::vector<std::string>& keys) : in_(in), keys_(keys) {}

  absl::StatusOr<std::string> Run();

 private:
  enum class Expect { kValue, kKey, kAfterValue };

  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return in_[pos_]; }

  void SkipWhitespace();
  bool ScanScalar();
  bool ScanNumber();
  bool ScanLiteral(absl::string_view literal);
  bool ScanString(absl::string_view* decoded);
  bool ScanEscape(bool decode);
  bool ScanHex4(uint32_t* unit);
  bool ScanUtf8Sequence();
  bool IsRedactedKey(absl::string_view key) const;
  void SpliceRedaction();

  // Records the first error; always returns false so callers can `return Fail(...)`.
  bool Fail(absl::string_view reason) { return FailAt(pos_, reason); }
  bool FailAt(size_t offset, absl::string_view reason);

  const absl::string_view in_;
  const std::vector<std::string>& keys_;
  size_t pos_ = 0;
  absl::Status status_;

  // Decoded form of the current key when it contains escapes; reused across keys.
  std::string key_buffer_;

  // Output so far and how much of in_ it already covers (valid once has_output_).
  std::string out_;
  size_t copied_ = 0;
  bool has_output_ = false;

  // At most one redaction is open at a time: members inside a value being replaced are not
  // matched, since they vanish with it.
  bool redacting_ = false;
  size_t redact_start_ = 0;
  size_t redact_depth_ = 0;
};

absl::StatusOr<std::string> Redactor::Run() {
  // One byte per open container: '{' or '['.
  std::string open;
  Expect expect = Expect::kValue;
  SkipWhitespace();
  for (;;) {
    switch (expect) {
      case Expect::kValue: {
        if (AtEnd()) {
          Fail("unexpected end of input, expected a value");
          return status_;
        }
        const char c = Peek();
        if (c != '{' && c != '[') {
          if (!ScanScalar()) return status_;
          expect = Expect::kAfterValue;
          break;
        }
        if (open.size() >= kMaxDepth) {
          Fail(absl::StrCat("nesting deeper than ", kMaxDepth, " levels"));
          return status_;
        }
        open.push_back(c);
        ++pos_;
        SkipWhitespace();
        const char close = c == '{' ? '}' : ']';
        if (!AtEnd() && Peek() == close) {
          ++pos_;
          open.pop_back();
          expect = Expect::kAfterValue;
        } else {
          expect = c == '{' ? Expect::kKey : Expect::kValue;
        }
        break;
      }

      case Expect::kKey: {
        if (AtEnd() || Peek() != '"') {
          Fail("expected '\"' to start an object key");
          return status_;
        }
        const bool match_keys = !keys_.empty() && !redacting_;
        absl::string_view key;
        if (!ScanString(match_keys ? &key : nullptr)) return status_;
        SkipWhitespace();
        if (AtEnd() || Peek() != ':') {
          Fail("expected ':' after an object key");
          return status_;
        }
        ++pos_;
        SkipWhitespace();
        if (match_keys && IsRedactedKey(key)) {
          redacting_ = true;
          redact_start_ = pos_;
          redact_depth_ = open.size();
        }
        expect = Expect::kValue;
        break;
      }

      case Expect::kAfterValue: {
        // A value just ended at the depth of the member being redacted: it is the whole
        // replaced value (anything ending deeper is inside it).
        if (redacting_ && open.size() == redact_depth_) SpliceRedaction();
        SkipWhitespace();
        if (open.empty()) {
          if (!AtEnd()) {
            Fail("unexpected data after the JSON value");
            return status_;
          }
          if (!has_output_) return std::string(in_);
          out_.append(in_.data() + copied_, in_.size() - copied_);
          return std::move(out_);
        }
        const bool in_object = open.back() == '{';
        if (AtEnd()) {
          Fail(in_object ? "unexpected end of input, expected ',' or '}'"
                         : "unexpected end of input, expected ',' or ']'");
          return status_;
        }
        const char c = Peek();
        if (c == ',') {
          ++pos_;
          SkipWhitespace();
          expect = in_object ? Expect::kKey : Expect::kValue;
        } else if (c == (in_object ? '}' : ']')) {
          ++pos_;
          open.pop_back();
        } else {
          Fail(in_object ? "expected ',' or '}' after an object member"
                         : "expected ',' or ']' after an array element");
          return status_;
        }
        break;
      }
    }
  }
}

void Redactor::SkipWhitespace() {
  while (!AtEnd()) {
    const char c = Peek();
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    ++pos_;
  }
}

bool Redactor::ScanScalar() {
  switch (Peek()) {
    case '"':
      return ScanString(nullptr);
    case 't':
      return ScanLiteral("true");
    case 'f':
      return ScanLiteral("false");
    case 'n':
      return ScanLiteral("null");
    default:
      if (Peek() == '-' || IsDigit(Peek())) return ScanNumber();
      return Fail("expected a JSON value");
  }
}

bool Redactor::ScanNumber() {
  if (Peek() == '-') ++pos_;
  if (AtEnd() || !IsDigit(Peek())) return Fail("expected a digit");
  // A leading zero stands alone: "01" is not a number, and the '1' then fails as garbage.
  if (Peek() == '0') {
    ++pos_;
  } else {
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  }
  if (!AtEnd() && Peek() == '.') {
    ++pos_;
    if (AtEnd() || !IsDigit(Peek())) return Fail("expected a digit after '.'");
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  }
  if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
    ++pos_;
    if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
    if (AtEnd() || !IsDigit(Peek())) return Fail("expected a digit in the exponent");
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  }
  return true;
}

bool Redactor::ScanLiteral(absl::string_view literal) {
  if (in_.substr(pos_, literal.size()) != literal) return Fail("expected a JSON value");
  pos_ += literal.size();
  return true;
}

// On entry Peek() is the opening quote; on success pos_ is just past the closing quote.
// When `decoded` is non-null it receives the unescaped contents: a view into in_ when the
// string has no escapes (the common case, no copy), else a view of key_buffer_.
bool Redactor::ScanString(absl::string_view* decoded) {
  ++pos_;
  const size_t content_start = pos_;
  size_t run_start = pos_;
  bool escaped = false;
  if (decoded != nullptr) key_buffer_.clear();
  while (!AtEnd()) {
    const auto c = static_cast<unsigned char>(Peek());
    if (c == '"') {
      if (decoded != nullptr) {
        if (escaped) {
          key_buffer_.append(in_.data() + run_start, pos_ - run_start);
          *decoded = key_buffer_;
        } else {
          *decoded = in_.substr(content_start, pos_ - content_start);
        }
      }
      ++pos_;
      return true;
    }
    if (c == '\\') {
      if (decoded != nullptr) key_buffer_.append(in_.data() + run_start, pos_ - run_start);
      escaped = true;
      if (!ScanEscape(decoded != nullptr)) return false;
      run_start = pos_;
    } else if (c < 0x20) {
      return Fail("control character in string (must be escaped)");
    } else if (c >= 0x80) {
      if (!ScanUtf8Sequence()) return false;
    } else {
      ++pos_;
    }
  }
  return Fail("unterminated string");
}

// On entry Peek() is the backslash; on success pos_ is just past the escape. Appends the
// decoded character to key_buffer_ when `decode`.
bool Redactor::ScanEscape(bool decode) {
  const size_t escape_start = pos_;
  ++pos_;
  if (AtEnd()) return Fail("unterminated string");
  char simple;
  switch (Peek()) {
    case '"':
      simple = '"';
      break;
    case '\\':
      simple = '\\';
      break;
    case '/':
      simple = '/';
      break;
    case 'b':
      simple = '\b';
      break;
    case 'f':
      simple = '\f';
      break;
    case 'n':
      simple = '\n';
      break;
    case 'r':
      simple = '\r';
      break;
    case 't':
      simple = '\t';
      break;
    case 'u': {
      ++pos_;
      uint32_t unit;
      if (!ScanHex4(&unit)) return false;
      uint32_t code_point = unit;
      // Lone surrogates are rejected rather than passed through: they have no UTF-8 form, so
      // downstream decoders disagree about them (replace, reject, or keep as WTF-8), and a
      // redaction filter should not pass along what it and the receiver may read differently.
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        return FailAt(escape_start, "lone low surrogate in \\u escape");
      }
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (in_.substr(pos_, 2) != "\\u") {
          return FailAt(escape_start, "high surrogate not followed by a low surrogate");
        }
        pos_ += 2;
        uint32_t low;
        if (!ScanHex4(&low)) return false;
        if (low < 0xDC00 || low > 0xDFFF) {
          return FailAt(escape_start, "high surrogate not followed by a low surrogate");
        }
        code_point = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
      }
      if (decode) AppendUtf8(code_point, &key_buffer_);
      return true;
    }
    default:
      return FailAt(escape_start, "invalid escape sequence");
  }
  ++pos_;
  if (decode) key_buffer_.push_back(simple);
  return true;
}

bool Redactor::ScanHex4(uint32_t* unit) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    if (AtEnd()) return Fail("unterminated \\u escape");
    const int digit = HexValue(Peek());
    if (digit < 0) return Fail("expected 4 hex digits in \\u escape");
    value = value << 4 | static_cast<uint32_t>(digit);
    ++pos_;
  }
  *unit = value;
  return true;
}

// Validates one multi-byte UTF-8 sequence starting at pos_ (RFC 3629: no overlong forms, no
// encoded surrogates, nothing above U+10FFFF). Strict because RFC 8259 requires UTF-8, and a
// lenient receiver could fold an overlong sequence into an ASCII letter of a key we did not
// match.
bool Redactor::ScanUtf8Sequence() {
  const auto lead = static_cast<unsigned char>(Peek());
  size_t length;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;
    if (lead == 0xED) second_max = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;
    if (lead == 0xF4) second_max = 0x8F;
  } else {
    return Fail("invalid UTF-8");
  }
  if (in_.size() - pos_ < length) return Fail("invalid UTF-8 (truncated sequence)");
  const auto second = static_cast<unsigned char>(in_[pos_ + 1]);
  if (second < second_min || second > second_max) return Fail("invalid UTF-8");
  for (size_t i = 2; i < length; ++i) {
    const auto next = static_cast<unsigned char>(in_[pos_ + i]);
    if (next < 0x80 || next > 0xBF) return Fail("invalid UTF-8");
  }
  pos_ += length;
  return true;
}

bool Redactor::IsRedactedKey(absl::string_view key) const {
  for (const std::string& candidate : keys_) {
    if (absl::EqualsIgnoreCase(key, candidate)) return true;
  }
  return false;
}

// Called when the value that began at redact_start_ has just ended at pos_.
void Redactor::SpliceRedaction() {
  if (!has_output_) {
    out_.reserve(in_.size());
    has_output_ = true;
  }
  out_.append(in_.data() + copied_, redact_start_ - copied_);
  out_.append(kRedactedValue.data(), kRedactedValue.size());
  copied_ = pos_;
  redacting_ = false;
}

bool Redactor::FailAt(size_t offset, absl::string_view reason) {
  if (status_.ok()) {
    status_ =
        absl::InvalidArgumentError(absl::StrCat("malformed JSON at byte ", offset, ": ", reason));
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> RedactJsonKeys(absl::string_view json,
                                           const std::vector<std::string>& keys) {
  return Redactor(json, keys).Run();
}

}  // namespace utracker::client::internal
