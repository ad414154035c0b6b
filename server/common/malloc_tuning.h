#pragma once

#include <cstddef>

namespace utracker::server {

// glibc gives freed memory back to the kernel eagerly. A block over its mmap threshold
// (128 KiB at first) is mmapped and unmapped on its own; freeing one raises the threshold to
// about that block's size and the trim threshold to twice that, so later blocks come from the
// heap, but then a heap whose free top passes the (~0.5 MiB) trim threshold is cut back. A
// GetFlow builds a response of a few MiB on an arena of 256 KiB blocks and frees it when it
// is sent, so every call faulted in and zeroed those pages again (page faults and clear_page
// were ~20 % of the server's CPU per flow). With fixed thresholds the server keeps up to
// kTrimThreshold of free memory at the top of each malloc arena for reuse instead.
inline constexpr size_t kMmapThreshold = 4 << 20;   // larger blocks still come from mmap
inline constexpr size_t kTrimThreshold = 16 << 20;  // per malloc arena

// glibc makes up to 8 malloc arenas per core (thread-local, as threads contend), so the free
// memory kept is at most kTrimThreshold times that (README: "Memory bound"); a thread's arena
// whose whole extra heap is free still unmaps it.

// Sets both thresholds (which also stops glibc adjusting them). Call once at start, before
// other threads. Returns false if glibc refused either.
bool KeepFreedMemoryForReuse();

}  // namespace utracker::server
