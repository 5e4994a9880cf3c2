// Tests of FileReadahead on its own: the plan it makes for each read (first stretch, sliding
// window, doubling, reset on a seek, the memory share), without fetching anything.
#include "fs/readahead/file_readahead.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "s3mount/cache/block_cache.h"
#include "s3mount/common/thread_pool.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"

namespace s3mount {
namespace {

constexpr uint64_t kBlock = uint64_t{64} << 10;
constexpr uint64_t kStep = uint64_t{256} << 10;
constexpr uint64_t kMaxWindow = uint64_t{2} << 20;
constexpr uint64_t kFirst = uint64_t{128} << 10;
constexpr uint64_t kObject = uint64_t{64} << 20;

class FileReadaheadTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  testing::FakeObjectStore store_{clock_};
  BlockCache cache_{BlockCacheOptions{.capacity_bytes = uint64_t{64} << 20}};
  ThreadPool pool_{1};
  BufferPool buffers_{size_t{8} << 20};
  BlockFetcher fetcher_{store_, cache_, pool_, buffers_, kBlock};
};

TEST_F(FileReadaheadTest, AReadAtOffsetZeroFetchesTheFirstStretchAtOnce) {
  FileReadahead readahead(fetcher_, kObject, kMaxWindow, kStep, kFirst);
  const FileReadahead::Plan plan = readahead.Advance(0, 4096);
  EXPECT_EQ(plan.demand_run, kFirst / kBlock) << "the first read should fetch kFirst together";
  EXPECT_FALSE(plan.random);
}

TEST_F(FileReadaheadTest, SequentialReadsKeepAWindowAheadThatDoublesUpToTheMaximum) {
  FileReadahead readahead(fetcher_, kObject, kMaxWindow, kStep, kFirst);
  uint64_t asked_until = 0;
  uint64_t widest = 0;
  for (uint64_t offset = 0; offset < (uint64_t{16} << 20); offset += kStep) {
    const FileReadahead::Plan plan = readahead.Advance(offset, offset + kStep);
    ASSERT_FALSE(plan.random) << "a sequential read at " << offset << " was taken as random";
    if (plan.prefetch_to > plan.prefetch_from) {
      EXPECT_GE(plan.prefetch_from, asked_until) << "the window asked twice for one byte";
      EXPECT_GE(plan.prefetch_from, offset + kStep) << "readahead started behind the reader";
      asked_until = plan.prefetch_to;
      widest = std::max(widest, plan.prefetch_to - (offset + kStep));
    }
    EXPECT_GT(asked_until, offset + kStep) << "nothing was asked ahead of the reader at " << offset;
  }
  EXPECT_GT(widest, kFirst) << "the window never grew";
  EXPECT_LE(widest, kMaxWindow) << "the window grew beyond its maximum";
}

TEST_F(FileReadaheadTest, ASeekMakesTheReaderRandomUntilItReadsOnFromThere) {
  FileReadahead readahead(fetcher_, kObject, kMaxWindow, kStep, kFirst);
  (void)readahead.Advance(0, kStep);
  (void)readahead.Advance(kStep, 2 * kStep);
  const uint64_t far = uint64_t{40} << 20;
  const FileReadahead::Plan seek = readahead.Advance(far, far + 4096);
  EXPECT_TRUE(seek.random) << "a read far from the last one should reset the window";
  EXPECT_EQ(seek.prefetch_to, seek.prefetch_from) << "a random read should fetch nothing ahead";
  const FileReadahead::Plan next = readahead.Advance(far + 4096, far + 8192);
  EXPECT_FALSE(next.random) << "reading on from the seek should start a new sequential run";
}

TEST_F(FileReadaheadTest, ManyReadersShareHalfTheCacheBetweenThem) {
  BlockCache small{BlockCacheOptions{.capacity_bytes = uint64_t{1} << 20}};
  BlockFetcher fetcher{store_, small, pool_, buffers_, kBlock};
  FileReadahead a(fetcher, kObject, kMaxWindow, kStep, kFirst);
  FileReadahead b(fetcher, kObject, kMaxWindow, kStep, kFirst);
  uint64_t widest = 0;
  for (uint64_t offset = 0; offset < (uint64_t{8} << 20); offset += kStep) {
    (void)b.Advance(offset, offset + kStep);
    const FileReadahead::Plan plan = a.Advance(offset, offset + kStep);
    if (plan.prefetch_to > plan.prefetch_from) {
      widest = std::max(widest, plan.prefetch_to - (offset + kStep));
    }
  }
  EXPECT_LE(widest, (uint64_t{1} << 20) / 2 / 2)
      << "two readers of a 1 MiB cache should each read ahead at most a quarter of it";
}

}  // namespace
}  // namespace s3mount
