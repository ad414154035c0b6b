#include "wire/text.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_format.h"

namespace utracker::wire {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none.
size_t Utf8SequenceLength(const uint8_t* s, size_t n, size_t i) {
  const uint8_t c = s[i];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t min;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) {
    len = 2, min = 0x80, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, min = 0x800, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;  // stray continuation byte or 0xf8..0xff
  }
  if (i + len > n) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((s[i + k] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i + k] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

constexpr char kReplacement[] = "\xef\xbf\xbd";  // U+FFFD

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8SequenceLength(s, text.size(), i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool SanitizeText(std::string* text, size_t max_bytes) {
  if (text->size() <= max_bytes && !ContainsNul(*text) && IsValidUtf8(*text)) return false;
  const auto* s = reinterpret_cast<const uint8_t*>(text->data());
  const size_t n = text->size();
  std::string out;
  out.reserve(std::min(n, max_bytes));
  for (size_t i = 0; i < n;) {
    size_t len = Utf8SequenceLength(s, n, i);
    absl::string_view piece;
    if (len == 0 || s[i] == 0) {
      piece = absl::string_view(kReplacement, 3);
      len = 1;
    } else {
      piece = absl::string_view(text->data() + i, len);
    }
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece.data(), piece.size());
    i += len;
  }
  *text = std::move(out);
  return true;
}

bool ContainsNul(absl::string_view text) { return text.find('\0') != absl::string_view::npos; }

std::string QuoteForError(absl::string_view text, size_t max_chars) {
  std::string out = "\"";
  size_t shown = 0;
  for (char ch : text) {
    if (shown == max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(ch);
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
    ++shown;
  }
  out += "\"";
  return out;
}

}  // namespace utracker::wire
