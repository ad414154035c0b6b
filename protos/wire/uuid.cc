#include "wire/uuid.h"

#include <atomic>
#include <mutex>
#include <random>

#include "absl/time/clock.h"

namespace utracker::wire {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

std::optional<UuidBytes> ParseUuid(absl::string_view text) {
  if (text.size() != 36) return std::nullopt;
  UuidBytes out{};
  size_t byte = 0;
  for (size_t i = 0; i < 36;) {
    if (IsDashPosition(i)) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = HexValue(text[i]);
    const int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
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
