#include "common/malloc_tuning.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace utracker::server {
namespace {

// The pattern of a GetFlow: a few MiB in 256 KiB-class blocks, all freed at once. After the
// tuning none of it is mmapped and none of it goes back to the kernel, so the next call reuses
// pages already faulted in. (Without it, the first blocks are mmapped, and the rest trimmed.)
TEST(MallocTuning, BigBlocksStayOnTheHeapAfterFree) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer replaces malloc: glibc's thresholds do not apply";
#endif
  ASSERT_TRUE(KeepFreedMemoryForReuse());
  // What earlier tests in this process left free at the top would count towards the trim
  // threshold: give it back first.
  malloc_trim(0);
  constexpr int kBlocks = 24;  // 12 MiB: under kTrimThreshold
  static_assert(size_t{kBlocks} * (512 << 10) < kTrimThreshold);
  const struct mallinfo2 before = mallinfo2();
  std::vector<void*> blocks;
  for (int i = 0; i < kBlocks; ++i) {
    void* p = std::malloc(512 << 10);
    ASSERT_NE(p, nullptr);
    std::memset(p, i, 512 << 10);
    blocks.push_back(p);
  }
  const struct mallinfo2 allocated = mallinfo2();
  EXPECT_EQ(allocated.hblkhd, before.hblkhd) << "blocks under the threshold were mmapped";
  for (void* p : blocks) std::free(p);
  const struct mallinfo2 freed = mallinfo2();
  EXPECT_EQ(freed.arena, allocated.arena) << "the heap was trimmed after the free";
  EXPECT_GE(freed.fordblks, size_t{kBlocks} * (512 << 10)) << "freed blocks are not kept for reuse";
}

}  // namespace
}  // namespace utracker::server
