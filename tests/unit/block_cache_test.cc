// Tests for BlockCache: byte-budget accounting, LRU eviction order, handles that outlive
// eviction, EraseObject across ETags, oversize blocks, stats, and GetOrFetch sharing one
// fetch among concurrent callers (errors included, retried on the next call).
#include "s3mount/cache/block_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace s3mount {
namespace {

using Block = BlockCache::Block;

Block MakeBlock(size_t size, char fill = 'x') {
  return std::make_shared<const std::string>(size, fill);
}

BlockKey Key(const std::string& key, uint64_t index, const std::string& etag = "\"e1\"") {
  return BlockKey{.key = key, .etag = etag, .index = index};
}

BlockCache SmallCache(size_t capacity) {
  return BlockCache(BlockCacheOptions{.capacity_bytes = capacity});
}

// Polls `done` until it holds or 10 s pass (so a bug fails the test instead of hanging it).
template <typename Predicate>
bool WaitFor(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(BlockKeyTest, EqualityAndHash) {
  EXPECT_EQ(Key("a", 1), Key("a", 1));
  EXPECT_NE(Key("a", 1), Key("a", 2));
  EXPECT_NE(Key("a", 1, "\"x\""), Key("a", 1, "\"y\""));
  EXPECT_NE(Key("a", 1), Key("b", 1));
  EXPECT_EQ(std::hash<BlockKey>()(Key("a", 1)), BlockKeyHash()(Key("a", 1)));
  std::unordered_set<BlockKey> keys = {Key("a", 1), Key("a", 1), Key("a", 2), Key("b", 1)};
  EXPECT_EQ(keys.size(), 3U);
}

TEST(BlockCacheTest, LookupOfMissingBlockIsNull) {
  BlockCache cache = SmallCache(100);
  EXPECT_EQ(cache.Lookup(Key("a", 0)), nullptr);
  EXPECT_EQ(cache.block_count(), 0U);
  EXPECT_EQ(cache.used_bytes(), 0U);
}

TEST(BlockCacheTest, ChargesBlockSizesAgainstCapacity) {
  BlockCache cache = SmallCache(100);
  cache.Insert(Key("a", 0), MakeBlock(30, 'a'));
  cache.Insert(Key("a", 1), MakeBlock(30, 'b'));
  EXPECT_EQ(cache.used_bytes(), 60U);
  EXPECT_EQ(cache.block_count(), 2U);
  cache.Insert(Key("a", 0), MakeBlock(10, 'c'));  // replaces: 30 -> 10
  EXPECT_EQ(cache.used_bytes(), 40U);
  EXPECT_EQ(cache.block_count(), 2U);
  Block block = cache.Lookup(Key("a", 0));
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(*block, std::string(10, 'c')) << "the replacement must be what Lookup returns";
  cache.Insert(Key("b", 0), MakeBlock(60));  // exactly at capacity: nothing evicted
  EXPECT_EQ(cache.used_bytes(), 100U);
  EXPECT_EQ(cache.block_count(), 3U);
  EXPECT_EQ(cache.stats().evictions, 0U);
  cache.Insert(Key("c", 0), MakeBlock(0));  // empty blocks are legal and free
  EXPECT_EQ(cache.used_bytes(), 100U);
  EXPECT_NE(cache.Lookup(Key("c", 0)), nullptr);
  cache.Insert(Key("d", 0), nullptr);
  EXPECT_EQ(cache.Lookup(Key("d", 0)), nullptr) << "null blocks are not stored";
}

TEST(BlockCacheTest, EvictsLeastRecentlyUsedFirst) {
  BlockCache cache = SmallCache(100);
  cache.Insert(Key("f", 0), MakeBlock(40));
  cache.Insert(Key("f", 1), MakeBlock(40));
  ASSERT_NE(cache.Lookup(Key("f", 0)), nullptr);  // f/0 is now more recent than f/1
  cache.Insert(Key("f", 2), MakeBlock(40));
  EXPECT_EQ(cache.Lookup(Key("f", 1)), nullptr) << "f/1 was least recently used";
  EXPECT_NE(cache.Lookup(Key("f", 0)), nullptr);
  EXPECT_NE(cache.Lookup(Key("f", 2)), nullptr);
  EXPECT_EQ(cache.used_bytes(), 80U);
  EXPECT_EQ(cache.stats().evictions, 1U);
  // A big block evicts as many as it needs, oldest first: f/0 then f/2 (f/2 was looked up
  // last, so f/0 goes first; 90 bytes need both gone).
  cache.Insert(Key("g", 0), MakeBlock(90));
  EXPECT_EQ(cache.block_count(), 1U);
  EXPECT_EQ(cache.used_bytes(), 90U);
  EXPECT_EQ(cache.stats().evictions, 3U);
  cache.Insert(Key("h", 0), MakeBlock(10));
  EXPECT_EQ(cache.block_count(), 2U) << "90 + 10 fits exactly";
}

TEST(BlockCacheTest, EvictionOrderFollowsLookups) {
  BlockCache cache = SmallCache(30);
  cache.Insert(Key("k", 0), MakeBlock(10));
  cache.Insert(Key("k", 1), MakeBlock(10));
  cache.Insert(Key("k", 2), MakeBlock(10));
  ASSERT_NE(cache.Lookup(Key("k", 0)), nullptr);
  ASSERT_NE(cache.Lookup(Key("k", 1)), nullptr);
  cache.Insert(Key("k", 3), MakeBlock(10));  // evicts k/2
  cache.Insert(Key("k", 4), MakeBlock(10));  // evicts k/0
  EXPECT_EQ(cache.Lookup(Key("k", 2)), nullptr);
  EXPECT_EQ(cache.Lookup(Key("k", 0)), nullptr);
  EXPECT_NE(cache.Lookup(Key("k", 1)), nullptr);
  EXPECT_NE(cache.Lookup(Key("k", 3)), nullptr);
  EXPECT_NE(cache.Lookup(Key("k", 4)), nullptr);
}

TEST(BlockCacheTest, HandlesSurviveEvictionAndErasure) {
  BlockCache cache = SmallCache(10);
  cache.Insert(Key("a", 0), MakeBlock(10, 'a'));
  Block held = cache.Lookup(Key("a", 0));
  ASSERT_NE(held, nullptr);
  cache.Insert(Key("b", 0), MakeBlock(10, 'b'));  // evicts a/0
  EXPECT_EQ(cache.Lookup(Key("a", 0)), nullptr);
  EXPECT_EQ(*held, std::string(10, 'a')) << "an evicted block must stay valid for its holder";
  EXPECT_EQ(cache.used_bytes(), 10U) << "the held block is no longer charged";

  Block held_b = cache.Lookup(Key("b", 0));
  cache.EraseObject("b");
  EXPECT_EQ(*held_b, std::string(10, 'b'));
  EXPECT_EQ(cache.used_bytes(), 0U);
}

TEST(BlockCacheTest, EraseObjectDropsEveryEtagOfThatKeyOnly) {
  BlockCache cache = SmallCache(1000);
  cache.Insert(Key("f", 0, "\"v1\""), MakeBlock(10));
  cache.Insert(Key("f", 1, "\"v1\""), MakeBlock(10));
  cache.Insert(Key("f", 0, "\"v2\""), MakeBlock(10));
  // Neighbours in key order must survive.
  cache.Insert(Key("e", 0), MakeBlock(1));
  cache.Insert(Key("f/x", 0), MakeBlock(2));
  cache.Insert(Key("f2", 0), MakeBlock(3));
  cache.Insert(Key("", 0), MakeBlock(4));
  cache.EraseObject("f");
  EXPECT_EQ(cache.Lookup(Key("f", 0, "\"v1\"")), nullptr);
  EXPECT_EQ(cache.Lookup(Key("f", 1, "\"v1\"")), nullptr);
  EXPECT_EQ(cache.Lookup(Key("f", 0, "\"v2\"")), nullptr);
  EXPECT_NE(cache.Lookup(Key("e", 0)), nullptr);
  EXPECT_NE(cache.Lookup(Key("f/x", 0)), nullptr);
  EXPECT_NE(cache.Lookup(Key("f2", 0)), nullptr);
  EXPECT_NE(cache.Lookup(Key("", 0)), nullptr);
  EXPECT_EQ(cache.block_count(), 4U);
  EXPECT_EQ(cache.used_bytes(), 10U);
  EXPECT_EQ(cache.stats().evictions, 0U) << "erasure is not eviction";
  cache.EraseObject("absent");
  EXPECT_EQ(cache.block_count(), 4U);
}

TEST(BlockCacheTest, OversizeBlockIsNotKept) {
  BlockCache cache = SmallCache(100);
  cache.Insert(Key("small", 0), MakeBlock(50));
  cache.Insert(Key("big", 0), MakeBlock(101));
  EXPECT_EQ(cache.Lookup(Key("big", 0)), nullptr);
  EXPECT_NE(cache.Lookup(Key("small", 0)), nullptr) << "an oversize block must not flush";
  EXPECT_EQ(cache.used_bytes(), 50U);
  EXPECT_EQ(cache.stats().evictions, 0U);
  EXPECT_EQ(cache.stats().insertions, 1U);
  // Replacing a cached block by an oversize one leaves neither.
  cache.Insert(Key("small", 0), MakeBlock(200));
  EXPECT_EQ(cache.Lookup(Key("small", 0)), nullptr);
  EXPECT_EQ(cache.used_bytes(), 0U);
  BlockCache no_room = SmallCache(0);
  no_room.Insert(Key("a", 0), MakeBlock(1));
  EXPECT_EQ(no_room.block_count(), 0U);
}

TEST(BlockCacheTest, CountsHitsMissesInsertionsEvictions) {
  BlockCache cache = SmallCache(20);
  EXPECT_EQ(cache.Lookup(Key("a", 0)), nullptr);
  cache.Insert(Key("a", 0), MakeBlock(10));
  cache.Insert(Key("a", 1), MakeBlock(10));
  EXPECT_NE(cache.Lookup(Key("a", 0)), nullptr);
  EXPECT_NE(cache.Lookup(Key("a", 1)), nullptr);
  cache.Insert(Key("a", 2), MakeBlock(10));
  const BlockCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 2U);
  EXPECT_EQ(stats.misses, 1U);
  EXPECT_EQ(stats.insertions, 3U);
  EXPECT_EQ(stats.evictions, 1U);
  EXPECT_EQ(stats.fetches, 0U);
}

TEST(BlockCacheTest, GetOrFetchCachesAndServesHits) {
  BlockCache cache = SmallCache(100);
  int calls = 0;
  auto fetch = [&calls]() -> Result<Block> {
    ++calls;
    return MakeBlock(10, 'f');
  };
  Result<Block> first = cache.GetOrFetch(Key("a", 0), fetch);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(**first, std::string(10, 'f'));
  Result<Block> second = cache.GetOrFetch(Key("a", 0), fetch);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first) << "the second call must be served from the cache";
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(cache.Lookup(Key("a", 0)), *first);
  EXPECT_EQ(cache.stats().fetches, 1U);
}

TEST(BlockCacheTest, GetOrFetchRunsOneFetchForEightConcurrentCallers) {
  BlockCache cache = SmallCache(1000);
  std::atomic<int> calls{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto fetch = [&calls, released]() -> Result<Block> {
    calls.fetch_add(1);
    released.wait();
    return MakeBlock(100, 'z');
  };
  constexpr int kThreads = 8;
  std::vector<Result<Block>> results(kThreads, Result<Block>(Block()));
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&cache, &results, &fetch, i] { results[i] = cache.GetOrFetch(Key("obj", 3), fetch); });
  }
  const bool all_waiting = WaitFor([&cache] {
    const BlockCache::Stats stats = cache.stats();
    return stats.fetches == 1 && stats.fetch_waits == kThreads - 1;
  });
  release.set_value();
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(all_waiting) << "the other callers did not wait on the first fetch";
  EXPECT_EQ(calls.load(), 1) << "concurrent callers must share one fetch";
  Block cached = cache.Lookup(Key("obj", 3));
  ASSERT_NE(cached, nullptr);
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].ok()) << "caller " << i << ": " << results[i].error().ToString();
    EXPECT_EQ(*results[i], cached) << "caller " << i << " got a different block";
  }
}

TEST(BlockCacheTest, GetOrFetchSharesErrorsAndRetriesAfterwards) {
  BlockCache cache = SmallCache(1000);
  std::atomic<int> calls{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto failing = [&calls, released]() -> Result<Block> {
    calls.fetch_add(1);
    released.wait();
    return MakeError(ErrorCode::kNetwork, "connection reset");
  };
  constexpr int kThreads = 4;
  std::vector<Result<Block>> results(kThreads, Result<Block>(Block()));
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&cache, &results, &failing, i] { results[i] = cache.GetOrFetch(Key("obj", 0), failing); });
  }
  const bool all_waiting = WaitFor([&cache] { return cache.stats().fetch_waits == kThreads - 1; });
  release.set_value();
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(all_waiting);
  EXPECT_EQ(calls.load(), 1);
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_FALSE(results[i].ok()) << "caller " << i << " should see the fetch's error";
    EXPECT_EQ(results[i].error().code, ErrorCode::kNetwork);
    EXPECT_EQ(results[i].error().message, "connection reset");
  }
  EXPECT_EQ(cache.block_count(), 0U) << "a failure caches nothing";

  Result<Block> retry = cache.GetOrFetch(Key("obj", 0), [&calls]() -> Result<Block> {
    calls.fetch_add(1);
    return MakeBlock(5, 'r');
  });
  ASSERT_TRUE(retry.ok()) << "the next call after a failure must fetch again";
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(cache.Lookup(Key("obj", 0)), *retry);
}

TEST(BlockCacheTest, GetOrFetchTurnsNullAndExceptionsIntoErrors) {
  BlockCache cache = SmallCache(1000);
  Result<Block> null_block =
      cache.GetOrFetch(Key("a", 0), []() -> Result<Block> { return Block(); });
  ASSERT_FALSE(null_block.ok());
  EXPECT_EQ(null_block.error().code, ErrorCode::kInvalidArgument);
  Result<Block> thrown =
      cache.GetOrFetch(Key("a", 0), []() -> Result<Block> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().code, ErrorCode::kUnknown);
  EXPECT_NE(thrown.error().message.find("boom"), std::string::npos);
  // Nothing is left in flight: a good fetch now succeeds.
  Result<Block> good =
      cache.GetOrFetch(Key("a", 0), []() -> Result<Block> { return MakeBlock(1); });
  EXPECT_TRUE(good.ok());
}

TEST(BlockCacheTest, EraseObjectDuringFetchKeepsResultOutOfCache) {
  BlockCache cache = SmallCache(1000);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> started{false};
  Result<Block> result = Block();
  std::thread reader([&] {
    result = cache.GetOrFetch(Key("obj", 0), [&started, released]() -> Result<Block> {
      started.store(true);
      released.wait();
      return MakeBlock(10, 'o');
    });
  });
  const bool fetch_started = WaitFor([&started] { return started.load(); });
  cache.EraseObject("obj");  // e.g. the object was overwritten meanwhile
  release.set_value();
  reader.join();
  EXPECT_TRUE(fetch_started);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(**result, std::string(10, 'o')) << "the reader still gets what it fetched";
  EXPECT_EQ(cache.Lookup(Key("obj", 0)), nullptr) << "but it must not be cached";
}

TEST(BlockCacheTest, ConcurrentMixedUseStaysWithinBudget) {
  BlockCache cache = SmallCache(500);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const BlockKey key = Key("k" + std::to_string(i % 5), static_cast<uint64_t>(i % 13));
        switch ((i + t) % 4) {
          case 0:
            cache.Insert(key, MakeBlock(static_cast<size_t>(10 + i % 90)));
            break;
          case 1:
            if (Block block = cache.Lookup(key)) {
              EXPECT_GE(block->size(), 10U);
            }
            break;
          case 2: {
            Result<Block> block =
                cache.GetOrFetch(key, []() -> Result<Block> { return MakeBlock(20); });
            EXPECT_TRUE(block.ok());
            break;
          }
          default:
            cache.EraseObject(key.key);
            break;
        }
        EXPECT_LE(cache.used_bytes(), 500U);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(cache.used_bytes(), 500U);
}

}  // namespace
}  // namespace s3mount
