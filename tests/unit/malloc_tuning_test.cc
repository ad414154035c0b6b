#include "common/malloc_tuning.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstring>
#include <vector>

namespace utracker::server {
namespace {

// The pattern of a GetFlow: a few MiB in 256 KiB-class blocks, all freed at once. After the
// tuning none of it is mmapped and none of it goes back to the kernel, so the next call reuses
// pages already faulted in.
TEST(MallocTuning, BigBlocksStayOnTheHeapAfterFree) {
  ASSERT_TRUE(KeepFreedMemoryForReuse());
  const struct mallinfo2 before = mallinfo2();
  std::vector<void*> blocks;
  for (int i = 0; i < 48; ++i) {
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
  EXPECT_GE(freed.fordblks, size_t{48} * (512 << 10)) << "freed blocks are not kept for reuse";
}

}  // namespace
}  // namespace utracker::server
