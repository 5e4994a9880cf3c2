// BlockCache checksums: a cached block whose bytes no longer match the CRC32Cs computed when it
// was stored is never handed out: Lookup drops it (a miss) and GetOrFetch fetches it again.
// Only the chunks a caller serves are checked.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "s3mount/cache/block_cache.h"

namespace s3mount {
namespace {

BlockKey Key(uint64_t index) { return BlockKey{.key = "obj", .etag = "\"e\"", .index = index}; }

BlockCache::Block MakeBlock(size_t size) {
  auto bytes = std::make_shared<std::string>(size, '\0');
  for (size_t i = 0; i < size; ++i) (*bytes)[i] = static_cast<char>(i * 31 + 7);
  return bytes;
}

TEST(BlockCacheChecksumTest, CorruptedBlockIsDroppedNotServed) {
  BlockCache cache(BlockCacheOptions{.capacity_bytes = size_t{16} << 20});
  cache.Insert(Key(0), MakeBlock(200'000));
  ASSERT_NE(cache.Lookup(Key(0)), nullptr) << "an intact block is served";
  ASSERT_TRUE(cache.CorruptForTesting(Key(0), 150'000));
  EXPECT_EQ(cache.Lookup(Key(0)), nullptr) << "a corrupted block was served";
  EXPECT_EQ(cache.stats().corrupted, 1u);
  EXPECT_EQ(cache.block_count(), 0u) << "the corrupted block should be dropped";
  EXPECT_EQ(cache.used_bytes(), 0u);
}

TEST(BlockCacheChecksumTest, OnlyTheServedChunksAreChecked) {
  BlockCache cache(BlockCacheOptions{.capacity_bytes = size_t{16} << 20});
  cache.Insert(Key(0), MakeBlock(4 * BlockCache::kChecksumChunk));
  const size_t corrupt_at = 3 * BlockCache::kChecksumChunk + 5;  // in the last chunk
  ASSERT_TRUE(cache.CorruptForTesting(Key(0), corrupt_at));
  EXPECT_NE(cache.Lookup(Key(0), 0, 2 * BlockCache::kChecksumChunk), nullptr)
      << "the first two chunks are intact and are all the caller serves";
  EXPECT_EQ(cache.stats().corrupted, 0u);
  EXPECT_EQ(cache.Lookup(Key(0), corrupt_at, corrupt_at + 1), nullptr)
      << "the corrupted chunk was served";
  EXPECT_EQ(cache.stats().corrupted, 1u);
}

TEST(BlockCacheChecksumTest, GetOrFetchFetchesACorruptedBlockAgain) {
  BlockCache cache(BlockCacheOptions{.capacity_bytes = size_t{16} << 20});
  const BlockCache::Block original = MakeBlock(70'000);
  int fetches = 0;
  auto fetch = [&]() -> Result<BlockCache::Block> {
    ++fetches;
    return original;
  };
  ASSERT_TRUE(cache.GetOrFetch(Key(1), fetch).ok());
  ASSERT_EQ(fetches, 1);
  ASSERT_TRUE(cache.CorruptForTesting(Key(1), 69'999));
  auto again = cache.GetOrFetch(Key(1), fetch);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(fetches, 2) << "the corrupted block should have been fetched again";
  EXPECT_EQ(**again, *original);
  EXPECT_EQ(*cache.Lookup(Key(1)), *original) << "the re-fetched block is cached intact";
}

}  // namespace
}  // namespace s3mount
