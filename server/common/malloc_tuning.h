#pragma once

#include <cstddef>

namespace utracker::server {

// glibc returns freed memory to the kernel eagerly: blocks over 128 KiB are mmapped and
// unmapped one by one, and a heap whose free top passes 128 KiB is trimmed. A GetFlow builds
// a response of a few MiB on an arena of 256 KiB blocks and frees it when sent, so every call
// faulted in and zeroed those pages again (page faults and clear_page were ~20 % of the
// server's CPU per flow). The server keeps freed memory up to these sizes for reuse instead.
inline constexpr size_t kMmapThreshold = 4 << 20;  // larger blocks still come from mmap
inline constexpr size_t kTrimThreshold = 32 << 20;  // per malloc arena (glibc has a few per core)

// Sets both (which also stops glibc adjusting them). Call once at start, before threads.
// Returns false if glibc refused either.
bool KeepFreedMemoryForReuse();

}  // namespace utracker::server
