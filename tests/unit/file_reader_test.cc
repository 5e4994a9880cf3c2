// Tests of FileReader and BlockFetcher on the fake store: what each kind of read asks S3 for.
// Small random reads fetch only their own pages; a sequential reader keeps a sliding readahead
// window filled with GETs of one step each, never fetching a byte twice.
#include "fs/file_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "s3mount/cache/block_cache.h"
#include "s3mount/common/thread_pool.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/forwarding_object_store.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::Pattern;

// Forwards to the fake store and records the byte range [first, end) of every GET.
class RangeRecorder final : public testing::ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  std::vector<std::pair<uint64_t, uint64_t>> ranges() const {
    std::lock_guard lock(mu_);
    auto sorted = ranges_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    ranges_.clear();
  }
  Result<GetObjectResponse> GetObject(const GetObjectRequest& request, ObjectSink& sink) override {
    auto got = inner_.GetObject(request, sink);
    if (got.ok()) {
      std::lock_guard lock(mu_);
      ranges_.emplace_back(got->body_offset, got->body_offset + got->body_length);
    }
    return got;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;  // guarded by mu_
};

// Scaled-down geometry: 64 KiB blocks, 512 KiB steps, a 4 MiB window, 256 KiB first request.
constexpr size_t kBlock = size_t{64} << 10;
constexpr size_t kStep = size_t{512} << 10;
constexpr size_t kWindow = size_t{4} << 20;
constexpr size_t kFirst = size_t{256} << 10;
constexpr size_t kKernelRead = size_t{16} << 10;

class FileReaderTest : public ::testing::Test {
 protected:
  ObjectVersion Put(const std::string& key, size_t size) {
    body_ = Pattern(size);
    const std::string etag = store_.PutForTest(key, body_);
    return ObjectVersion{key, etag, size};
  }
  std::string ReadThrough(FileReader& reader, uint64_t offset, size_t size) {
    auto slices = reader.Read(offset, size);
    EXPECT_TRUE(slices.ok()) << slices.error().ToString();
    std::string got;
    if (!slices.ok()) return got;
    for (const auto& s : *slices) got.append(s.block->data() + s.offset, s.length);
    return got;
  }

  FakeClock clock_;
  FakeObjectStore store_{clock_};
  RangeRecorder recorder_{store_};
  BlockCache cache_{BlockCacheOptions{.capacity_bytes = size_t{64} << 20}};
  ThreadPool pool_{4};
  BufferPool buffers_{size_t{8} << 20};
  BlockFetcher fetcher_{recorder_, cache_, pool_, buffers_, kBlock};
  std::string body_;
};

TEST_F(FileReaderTest, SmallRandomReadFetchesOnlyItsPagesAndBypassesTheCache) {
  const ObjectVersion object = Put("r", size_t{8} << 20);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  const uint64_t at = (uint64_t{5} << 20) + 100;  // straddles two pages
  EXPECT_EQ(ReadThrough(reader, at, 4096), body_.substr(at, 4096));
  const uint64_t page = readahead::kRandomReadAlign;
  const uint64_t from = at / page * page;
  EXPECT_EQ(recorder_.ranges(),
            (std::vector<std::pair<uint64_t, uint64_t>>{{from, from + 2 * page}}))
      << "a 4 KiB random read should fetch its two pages, not a block";
  EXPECT_EQ(cache_.block_count(), 0u) << "random pages do not displace cached blocks";

  recorder_.Clear();
  const uint64_t far = uint64_t{2} << 20;  // page-aligned 32 KiB read elsewhere
  EXPECT_EQ(ReadThrough(reader, far, 32768), body_.substr(far, 32768));
  EXPECT_EQ(recorder_.ranges(), (std::vector<std::pair<uint64_t, uint64_t>>{{far, far + 32768}}));
}

TEST_F(FileReaderTest, RandomReadAtTheEndIsClampedToTheObject) {
  const ObjectVersion object = Put("tail", (size_t{3} << 20) + 1000);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  const uint64_t at = object.size - 500;
  EXPECT_EQ(ReadThrough(reader, at, 4096), body_.substr(at));
  ASSERT_EQ(recorder_.ranges().size(), 1u);
  EXPECT_EQ(recorder_.ranges()[0].second, object.size);
}

TEST_F(FileReaderTest, RandomReadOfACachedBlockCostsNoRequest) {
  const ObjectVersion object = Put("c", size_t{4} << 20);
  FileReader sequential(fetcher_, object, kWindow, kStep, kFirst);
  EXPECT_EQ(ReadThrough(sequential, 0, kKernelRead), body_.substr(0, kKernelRead));
  pool_.Shutdown();  // its readahead is done
  recorder_.Clear();
  FileReader random(fetcher_, object, kWindow, kStep, kFirst);
  const uint64_t at = kBlock + 1234;  // inside the first request, cached by now
  EXPECT_EQ(ReadThrough(random, at + kBlock, 4096), body_.substr(at + kBlock, 4096));
  EXPECT_TRUE(recorder_.ranges().empty()) << "the block was cached: no GET";
}

TEST_F(FileReaderTest, RandomReadsStaleWhenTheObjectChanged) {
  const ObjectVersion object = Put("s", size_t{2} << 20);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  store_.PutForTest("s", Pattern(size_t{2} << 20, 'z'));
  auto read = reader.Read(uint64_t{1} << 20, 4096);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kStale);
}

TEST_F(FileReaderTest, SequentialReadSlidesTheWindowInStepsAndFetchesEachByteOnce) {
  const size_t size = size_t{16} << 20;
  const ObjectVersion object = Put("seq", size);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  const uint64_t stop = uint64_t{6} << 20;  // well past the ramp-up
  for (uint64_t at = 0; at < stop; at += kKernelRead) {
    ASSERT_EQ(ReadThrough(reader, at, kKernelRead), body_.substr(at, kKernelRead)) << at;
  }
  pool_.Shutdown();  // every readahead asked for so far has run
  const auto ranges = recorder_.ranges();
  ASSERT_FALSE(ranges.empty());
  EXPECT_EQ(ranges.front(), std::make_pair(uint64_t{0}, uint64_t{kFirst})) << "first request";
  uint64_t expected = 0;
  for (const auto& [first, end] : ranges) {
    EXPECT_EQ(first, expected) << "GETs must tile the object without gaps or overlaps";
    EXPECT_LE(end - first, kStep + kBlock) << "a GET is one step (a short tail may join it)";
    expected = end;
  }
  // The window is topped up whenever a step is missing: what was asked for reaches within one
  // step of the reader plus the full window, and never beyond it.
  EXPECT_GE(expected, stop + kWindow - kStep);
  EXPECT_LE(expected, stop + kWindow);
}

TEST_F(FileReaderTest, WholeSequentialReadReturnsTheObjectWithFewGets) {
  const size_t size = (size_t{12} << 20) + 777;
  const ObjectVersion object = Put("whole", size);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  std::string back;
  for (uint64_t at = 0; at < size; at += kKernelRead) back += ReadThrough(reader, at, kKernelRead);
  EXPECT_TRUE(back == body_) << "sequential read returned wrong bytes";
  pool_.Shutdown();
  uint64_t fetched = 0;
  for (const auto& [first, end] : recorder_.ranges()) fetched += end - first;
  EXPECT_EQ(fetched, size) << "no byte fetched twice";
  EXPECT_LE(recorder_.ranges().size(), size / kStep + 6);
}

TEST_F(FileReaderTest, ConcurrentSequentialReadersShareTheCacheAndFetchNothingTwice) {
  // Four files read side by side through a cache no larger than one reader's full window:
  // with the windows shared out, blocks fetched ahead stay cached until their reader gets
  // there (before, each reader's readahead evicted the others' and every block came twice).
  constexpr size_t kSize = size_t{8} << 20;
  constexpr int kReaders = 4;
  BlockCache small{BlockCacheOptions{.capacity_bytes = kWindow}};
  BlockFetcher fetcher(recorder_, small, pool_, buffers_, kBlock);
  std::vector<ObjectVersion> objects;
  std::vector<std::string> bodies;
  std::vector<std::unique_ptr<FileReader>> readers;
  for (int i = 0; i < kReaders; ++i) {
    objects.push_back(Put("par" + std::to_string(i), kSize));
    bodies.push_back(body_);
    readers.push_back(
        std::make_unique<FileReader>(fetcher, objects.back(), kWindow, kStep, kFirst));
  }
  EXPECT_EQ(fetcher.ReadaheadLimit(kWindow), kWindow / 2) << "no reader reads ahead yet";
  for (uint64_t at = 0; at < kSize; at += kKernelRead) {
    for (int i = 0; i < kReaders; ++i) {
      ASSERT_EQ(ReadThrough(*readers[i], at, kKernelRead), bodies[i].substr(at, kKernelRead))
          << "reader " << i << " at " << at;
    }
    if (at == kSize / 2) {
      EXPECT_EQ(fetcher.ReadaheadLimit(kWindow), kWindow / 2 / kReaders);
    }
  }
  readers.clear();
  EXPECT_EQ(fetcher.ReadaheadLimit(kWindow), kWindow / 2) << "closed readers still counted";
  pool_.Shutdown();
  uint64_t fetched = 0;
  for (const auto& [first, end] : recorder_.ranges()) fetched += end - first;
  EXPECT_LE(fetched, kReaders * kSize + kReaders * kStep)
      << "blocks were evicted before their reader got to them and fetched again";
}

TEST_F(FileReaderTest, ASequentialScanOfALargeObjectDropsTheBlocksBehindIt) {
  // 48 MiB through a 64 MiB cache: more than a quarter of it, so the reader drops what it has
  // read (the kernel keeps it), and the cache holds its window and the lag only.
  constexpr size_t kSize = size_t{48} << 20;
  const ObjectVersion object = Put("scan", kSize);
  ASSERT_TRUE(fetcher_.DropsBehind(kSize));
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  size_t most_cached = 0;
  for (uint64_t at = 0; at < kSize; at += kKernelRead) {
    ASSERT_EQ(ReadThrough(reader, at, kKernelRead), body_.substr(at, kKernelRead)) << at;
    most_cached = std::max(most_cached, cache_.used_bytes());
  }
  pool_.Shutdown();
  EXPECT_LE(most_cached, readahead::kDropBehindLag + 2 * kWindow + kBlock)
      << "the blocks read were kept: one scan fills the cache";
  uint64_t fetched = 0;
  for (const auto& [first, end] : recorder_.ranges()) fetched += end - first;
  EXPECT_EQ(fetched, kSize) << "a block dropped behind the reader was fetched again";
}

TEST_F(FileReaderTest, ADroppedBlocksBufferIsFilledAgainByTheNextFetch) {
  // Real geometry (1 MiB blocks, which the pool keeps): no fresh memory per block.
  const ObjectVersion object = Put("reuse", size_t{8} << 20);  // fetched by ranges
  BlockFetcher fetcher(recorder_, cache_, pool_, buffers_, size_t{1} << 20);
  auto first = fetcher.Get(object, 2);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  const char* memory = (*first)->data();
  first = BlockCache::Block();
  fetcher.DropBehind(object, 2, 2);
  EXPECT_EQ(buffers_.stats().idle_count, 1u) << "the dropped block's buffer did not come back";
  auto next = fetcher.Get(object, 3);
  ASSERT_TRUE(next.ok()) << next.error().ToString();
  EXPECT_EQ((*next)->data(), memory) << "the next block was not filled in the recycled buffer";
  EXPECT_EQ(**next, body_.substr(size_t{3} << 20, size_t{1} << 20));
}

TEST_F(FileReaderTest, ASequentialReadOfASmallerObjectStaysCached) {
  constexpr size_t kSize = size_t{12} << 20;  // under a quarter of the cache
  const ObjectVersion object = Put("kept", kSize);
  ASSERT_FALSE(fetcher_.DropsBehind(kSize));
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  for (uint64_t at = 0; at < kSize; at += kKernelRead) {
    ASSERT_EQ(ReadThrough(reader, at, kKernelRead), body_.substr(at, kKernelRead)) << at;
  }
  pool_.Shutdown();
  EXPECT_EQ(cache_.used_bytes(), kSize) << "a file that fits was dropped while read";
}

TEST_F(FileReaderTest, SeekResetsToRandomReads) {
  const ObjectVersion object = Put("seek", size_t{8} << 20);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  for (uint64_t at = 0; at < (uint64_t{1} << 20); at += kKernelRead) {
    ReadThrough(reader, at, kKernelRead);
  }
  pool_.Shutdown();
  recorder_.Clear();
  const uint64_t far = (uint64_t{7} << 20) + 8192;
  EXPECT_EQ(ReadThrough(reader, far, 4096), body_.substr(far, 4096));
  EXPECT_EQ(recorder_.ranges(), (std::vector<std::pair<uint64_t, uint64_t>>{{far, far + 4096}}));
}

TEST_F(FileReaderTest, NearbyRandomReadsDoNotStartAReadahead) {
  // Real geometry: 1 MiB blocks. Two random reads half a block apart used to count as a
  // sequential run and fetch megabytes ahead.
  const ObjectVersion object = Put("near", size_t{8} << 20);
  BlockFetcher fetcher(recorder_, cache_, pool_, buffers_, size_t{1} << 20);
  FileReader reader(fetcher, object, size_t{64} << 20, size_t{8} << 20);
  const uint64_t at = uint64_t{3} << 20;
  const uint64_t near = at + (uint64_t{512} << 10);  // same block, far from adjacent
  EXPECT_EQ(ReadThrough(reader, at, 4096), body_.substr(at, 4096));
  EXPECT_EQ(ReadThrough(reader, near, 4096), body_.substr(near, 4096));
  pool_.Shutdown();
  EXPECT_EQ(recorder_.ranges(),
            (std::vector<std::pair<uint64_t, uint64_t>>{{at, at + 4096}, {near, near + 4096}}))
      << "two random reads close together are still random: no readahead";
}

TEST_F(FileReaderTest, ARandomReadFollowedByTheNextOneStartsASequentialRun) {
  const ObjectVersion object = Put("run", size_t{8} << 20);
  FileReader reader(fetcher_, object, kWindow, kStep, kFirst);
  const uint64_t at = uint64_t{3} << 20;
  EXPECT_EQ(ReadThrough(reader, at, kKernelRead), body_.substr(at, kKernelRead));
  EXPECT_EQ(ReadThrough(reader, at + kKernelRead, kKernelRead),
            body_.substr(at + kKernelRead, kKernelRead));
  pool_.Shutdown();
  uint64_t fetched_end = 0;
  for (const auto& [first, end] : recorder_.ranges()) fetched_end = std::max(fetched_end, end);
  EXPECT_GE(fetched_end, at + 2 * kBlock) << "the second, adjacent read starts a readahead";
}

TEST_F(FileReaderTest, APrefetchThePoolRefusesLeavesNoBlockClaimed) {
  const ObjectVersion object = Put("late", 4 * kBlock);
  pool_.Shutdown();  // as at unmount: the pool takes no more tasks
  fetcher_.Prefetch(object, 0, 3, 4 * kBlock);
  EXPECT_FALSE(fetcher_.Covered(object, 0, 3))
      << "blocks claimed for a prefetch the pool refused are still claimed: a reader of them "
         "would wait for a fetch that never runs";
  auto block = fetcher_.Get(object, 0);  // fetched on this thread
  ASSERT_TRUE(block.ok()) << block.error().ToString();
  EXPECT_EQ(**block, body_.substr(0, kBlock));
}

}  // namespace
}  // namespace s3mount
