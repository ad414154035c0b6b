#include "wire/uuid.h"

#include <array>
#include <atomic>
#include <mutex>
#include <random>

#include "absl/time/clock.h"

namespace utracker::wire {
namespace {

// Hex digit values, -1 for anything else: one load per character instead of three range
// checks (ParseUuid runs about ten times per ingested event, and with a branch per character
// it was a fifth of the server's ingest CPU).
constexpr std::array<int8_t, 256> kHexValues = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<int8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t['a' + c] = static_cast<int8_t>(10 + c);
    t['A' + c] = static_cast<int8_t>(10 + c);
  }
  return t;
}();

// Where each of the 16 bytes' two digits start in the 8-4-4-4-12 form.
constexpr size_t kByteOffsets[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

}  // namespace

std::optional<UuidBytes> ParseUuid(absl::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return std::nullopt;
  }
  UuidBytes out;
  int bad = 0;  // a -1 anywhere sets the sign bit; checked once at the end
  for (size_t i = 0; i < 16; ++i) {
    const int hi = kHexValues[static_cast<unsigned char>(text[kByteOffsets[i]])];
    const int lo = kHexValues[static_cast<unsigned char>(text[kByteOffsets[i] + 1])];
    bad |= hi | lo;
    out[i] = static_cast<uint8_t>(static_cast<unsigned>(hi) << 4 | static_cast<unsigned>(lo));
  }
  if (bad < 0) return std::nullopt;
  return out;
}

std::string FormatUuid(const UuidBytes& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

std::string NewUuidV7At(absl::Time now) {
  // The 12-bit rand_a field holds a counter within one millisecond so that ids from one
  // process sort in creation order, which keeps PostgreSQL's index inserts append-only.
  static std::mutex mu;
  static uint64_t last_ms = 0;
  static uint32_t counter = 0;
  thread_local std::mt19937_64 rng{std::random_device{}()};

  uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(now));
  uint32_t seq;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (ms <= last_ms) {
      ms = last_ms;
      if (++counter > 0xfff) {  // counter exhausted: borrow the next millisecond
        ++ms;
        counter = 0;
      }
    } else {
      counter = static_cast<uint32_t>(rng() & 0x3ff);  // random start, room to count up
    }
    last_ms = ms;
    seq = counter;
  }
  const uint64_t random = rng();
  UuidBytes b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | (seq >> 8));
  b[7] = static_cast<uint8_t>(seq & 0xff);
  b[8] = static_cast<uint8_t>(0x80 | (random & 0x3f));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<uint8_t>(random >> (8 * (i - 8)));
  return FormatUuid(b);
}

std::string NewUuidV7() { return NewUuidV7At(absl::Now()); }

}  // namespace utracker::wire
