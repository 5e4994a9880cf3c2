// Tests for BufferPool: buffers come back and are handed out again (same memory), only close
// sizes are reused, the idle bytes stay bounded, small buffers are not kept, shared blocks
// return when their last holder lets go, even after the pool is gone, and concurrent use.
#include "s3mount/common/buffer_pool.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace s3mount {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(BufferPoolTest, AGivenBufferIsHandedOutAgainWithItsMemory) {
  BufferPool pool(8 * kMiB);
  std::string first = pool.Take(kMiB);
  EXPECT_TRUE(first.empty());
  EXPECT_GE(first.capacity(), kMiB);
  first.append(1000, 'x');
  const char* memory = first.data();
  pool.Give(std::move(first));
  EXPECT_EQ(pool.stats().idle_count, 1u);
  std::string again = pool.Take(kMiB);
  EXPECT_EQ(again.data(), memory) << "the idle buffer was not reused";
  EXPECT_TRUE(again.empty()) << "a reused buffer must come back empty";
  const auto stats = pool.stats();
  EXPECT_EQ(stats.takes, 2u);
  EXPECT_EQ(stats.reused, 1u);
  EXPECT_EQ(stats.idle_count, 0u);
  EXPECT_EQ(stats.idle_bytes, 0u);
}

TEST(BufferPoolTest, OnlyABufferOfACloseCapacityIsReused) {
  BufferPool pool(64 * kMiB);
  pool.Give(pool.Take(8 * kMiB));
  std::string block = pool.Take(kMiB);
  EXPECT_LT(block.capacity(), 2 * kMiB) << "a 1 MiB block took an 8 MiB buffer";
  EXPECT_EQ(pool.stats().reused, 0u);
  std::string too_big_for_it = pool.Take(16 * kMiB);
  EXPECT_GE(too_big_for_it.capacity(), 16 * kMiB) << "a buffer smaller than asked was handed out";
  EXPECT_EQ(pool.stats().reused, 0u);
  std::string part = pool.Take(7 * kMiB);  // within a quarter below 8 MiB
  EXPECT_GE(part.capacity(), 8 * kMiB);
  EXPECT_EQ(pool.stats().reused, 1u);
}

TEST(BufferPoolTest, IdleBytesStayWithinTheLimit) {
  BufferPool pool(3 * kMiB);
  std::vector<std::string> buffers;
  for (int i = 0; i < 5; ++i) buffers.push_back(pool.Take(kMiB));
  for (auto& buffer : buffers) pool.Give(std::move(buffer));
  const auto stats = pool.stats();
  EXPECT_EQ(stats.idle_count, 3u);
  EXPECT_LE(stats.idle_bytes, 3 * kMiB + 3 * 64);  // a few bytes of slack per buffer
  EXPECT_EQ(stats.kept, 3u);
  EXPECT_EQ(stats.freed, 2u);
}

TEST(BufferPoolTest, SmallBuffersAreNeverKept) {
  BufferPool pool(8 * kMiB);
  pool.Give(pool.Take(BufferPool::kMinPooledBytes / 2));
  std::string empty;
  pool.Give(std::move(empty));
  EXPECT_EQ(pool.stats().idle_count, 0u);
  EXPECT_EQ(pool.stats().takes, 0u) << "small sizes are not counted as pooled takes";
}

TEST(BufferPoolTest, ASharedBlockComesBackWhenItsLastHolderLetsGo) {
  BufferPool pool(8 * kMiB);
  std::string bytes = pool.Take(kMiB);
  bytes.assign(kMiB, 'b');
  const char* memory = bytes.data();
  auto block = pool.Share(std::move(bytes));
  auto second_holder = block;
  EXPECT_EQ(*block, std::string(kMiB, 'b'));
  block.reset();
  EXPECT_EQ(pool.stats().idle_count, 0u) << "came back while still held";
  second_holder.reset();
  EXPECT_EQ(pool.stats().idle_count, 1u);
  EXPECT_EQ(pool.Take(kMiB).data(), memory);
}

TEST(BufferPoolTest, ABlockMayOutliveThePool) {
  std::shared_ptr<const std::string> block;
  {
    BufferPool pool(8 * kMiB);
    std::string bytes = pool.Take(kMiB);
    bytes.assign(10, 'z');
    block = pool.Share(std::move(bytes));
  }
  EXPECT_EQ(*block, "zzzzzzzzzz");
  block.reset();  // freed (ASan would report a use of the gone pool)
}

TEST(BufferPoolTest, ConcurrentTakersAndGiversKeepTheCountsConsistent) {
  BufferPool pool(16 * kMiB);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool] {
      for (int i = 0; i < 200; ++i) {
        std::string bytes = pool.Take(kMiB);
        bytes.assign(100, 'c');
        auto block = pool.Share(std::move(bytes));
        ASSERT_EQ(block->size(), 100u);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto stats = pool.stats();
  EXPECT_EQ(stats.takes, 800u);
  EXPECT_EQ(stats.kept + stats.freed, 800u);
  EXPECT_LE(stats.idle_count, 4u) << "at most one buffer per thread is idle at a time";
  EXPECT_GE(stats.reused, 796u) << "never more than four buffers exist, so at most four are new";
}

}  // namespace
}  // namespace s3mount
