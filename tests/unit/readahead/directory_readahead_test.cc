// Tests of DirectoryReadahead on the fake store: in-order opens of a directory's files fetch
// the next small files ahead (and their own reads then cost no GET), other orders fetch
// nothing, the prefetch is bounded in files, bytes and GETs in flight, large files are left
// alone, and a changed object is never served from a prefetch of its old version. Also the
// Filesystem-level effect: `cat dir/*` after a listing costs one GET per file, no more.
#include "fs/readahead/directory_readahead.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "fs/file_reader.h"
#include "s3mount/fs/filesystem.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/faulty_object_store.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::FaultyObjectStore;
using testing::Operation;
using testing::Pattern;

constexpr size_t kBlock = size_t{64} << 10;

// A clock whose sleeps block until released: with FaultyObjectStore's latency, it holds GETs
// in flight and counts how many are held at once.
class GateClock final : public Clock {
 public:
  WallTime Now() const override { return WallTime(std::chrono::seconds(1'700'000'000)); }
  MonoTime Monotonic() const override { return MonoTime{}; }
  void SleepFor(std::chrono::nanoseconds /*duration*/) override {
    std::unique_lock lock(mu_);
    ++waiting_;
    most_ = std::max(most_, waiting_);
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits until `count` sleepers are held (or a second has passed); returns how many are.
  size_t WaitForWaiting(size_t count) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(1), [&] { return waiting_ >= count; });
    return waiting_;
  }
  size_t most() {
    std::lock_guard lock(mu_);
    return most_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = false;
  size_t waiting_ = 0;
  size_t most_ = 0;
};

class DirectoryReadaheadTest : public ::testing::Test {
 protected:
  static std::string NameOf(size_t i) {
    std::string digits = std::to_string(i);
    return "f" + std::string(3 - std::min<size_t>(3, digits.size()), '0') + digits;
  }
  // Files d/f000... of the given sizes, listed and cached as a readdir would leave them.
  void MakeDirectory(const std::vector<size_t>& sizes) {
    auto listing = std::make_shared<std::vector<ListedEntry>>();
    for (size_t i = 0; i < sizes.size(); ++i) {
      const std::string path = "d/" + NameOf(i);
      store_.PutForTest(path, Pattern(sizes[i], static_cast<char>('a' + i % 26)));
      listing->push_back(ListedEntry{NameOf(i), path,
                                     PathEntry{.kind = PathKind::kFile,
                                               .object = *store_.InfoOf(path),
                                               .fetched_at = clock_.Monotonic()}});
    }
    listings_.Insert("d", listing, clock_.Monotonic());
  }
  ObjectVersion VersionOf(size_t i) {
    const std::string key = "d/" + NameOf(i);
    auto info = store_.InfoOf(key);
    return ObjectVersion{key, info->etag, info->size};
  }
  // What Filesystem::Open and a whole read do: tell the readahead, then read through a reader.
  // Returns the GETs the read itself cost (prefetches started by the open have finished).
  int64_t OpenAndRead(size_t i, DirectoryReadahead& readahead) {
    const ObjectVersion version = VersionOf(i);
    readahead.Opened(version.key, version, clock_.Monotonic());
    readahead.WaitIdle();
    const int64_t before = store_.counts().get_object;
    FileReader reader(fetcher_, version, size_t{64} << 20, size_t{16} << 20);
    auto slices = reader.Read(0, version.size + 1);
    EXPECT_TRUE(slices.ok()) << slices.error().ToString();
    std::string data;
    if (slices.ok()) {
      for (const auto& slice : *slices)
        data.append(slice.block->data() + slice.offset, slice.length);
    }
    EXPECT_TRUE(data == *store_.BodyOf(version.key)) << "wrong bytes for " << version.key;
    return store_.counts().get_object - before;
  }
  bool Cached(const ObjectVersion& version) {
    return blocks_.Lookup(BlockKey{version.key, version.etag, 0}) != nullptr;
  }

  FakeClock clock_;
  FakeObjectStore store_{clock_};
  BlockCache blocks_{BlockCacheOptions{}};
  ThreadPool pool_{8};
  BufferPool buffers_{size_t{8} << 20};
  BlockFetcher fetcher_{store_, blocks_, pool_, buffers_, kBlock};
  ListingCache listings_{std::chrono::seconds(60), 100000};
  KeyMapper keys_{""};
};

TEST_F(DirectoryReadaheadTest, InOrderOpensPrefetchTheNextFilesAndTheirReadsCostNoGet) {
  MakeDirectory(std::vector<size_t>(40, 8 << 10));
  DirectoryReadahead readahead(fetcher_, listings_, pool_, keys_, {});
  store_.ResetCounts();
  EXPECT_EQ(OpenAndRead(0, readahead), 1);
  EXPECT_EQ(OpenAndRead(1, readahead), 1) << "the second in-order open only starts the readahead";
  EXPECT_EQ(readahead.started(), 4u) << "first window: 4 files";
  for (size_t i = 2; i < 40; ++i) {
    EXPECT_EQ(OpenAndRead(i, readahead), 0) << "file " << i << " should have been prefetched";
  }
  EXPECT_EQ(store_.counts().get_object, 40) << "every file fetched once, none twice";
  EXPECT_EQ(readahead.started(), 38u);
}

TEST_F(DirectoryReadaheadTest, OtherOrdersPrefetchNothing) {
  MakeDirectory(std::vector<size_t>(40, 8 << 10));
  DirectoryReadahead readahead(fetcher_, listings_, pool_, keys_, {});
  store_.ResetCounts();
  for (size_t i : {5, 17, 3, 30, 12, 20, 25, 24, 23, 0, 39, 1}) {
    EXPECT_EQ(OpenAndRead(i, readahead), 1) << "file " << i;
  }
  EXPECT_EQ(readahead.started(), 0u);
  EXPECT_EQ(store_.counts().get_object, 12);
  // Opening one file again and again is no sequence either.
  for (int k = 0; k < 5; ++k) OpenAndRead(7, readahead);
  EXPECT_EQ(readahead.started(), 0u);
}

TEST_F(DirectoryReadaheadTest, SmallForwardStepsCountAsInOrder) {
  MakeDirectory(std::vector<size_t>(40, 8 << 10));  // `cat dir/*.txt`: every other name
  DirectoryReadahead readahead(fetcher_, listings_, pool_, keys_, {});
  store_.ResetCounts();
  EXPECT_EQ(OpenAndRead(0, readahead), 1);
  EXPECT_EQ(OpenAndRead(2, readahead), 1);
  EXPECT_GT(readahead.started(), 0u);
  for (size_t i = 4; i < 40; i += 2) EXPECT_EQ(OpenAndRead(i, readahead), 0) << "file " << i;
}

TEST_F(DirectoryReadaheadTest, AJumpResetsTheWindow) {
  MakeDirectory(std::vector<size_t>(60, 4 << 10));
  DirectoryReadahead readahead(fetcher_, listings_, pool_, keys_, {});
  for (size_t i = 0; i < 6; ++i) OpenAndRead(i, readahead);
  const uint64_t before = readahead.started();
  EXPECT_EQ(OpenAndRead(40, readahead), 1) << "a jump: not prefetched";
  EXPECT_EQ(readahead.started(), before) << "a jump starts no prefetch";
  EXPECT_EQ(OpenAndRead(41, readahead), 1);
  EXPECT_EQ(readahead.started(), before + 4) << "a new in-order run starts a small window again";
}

TEST_F(DirectoryReadaheadTest, TheWindowIsBoundedInFiles) {
  MakeDirectory(std::vector<size_t>(100, 4 << 10));
  DirectoryReadahead by_count(fetcher_, listings_, pool_, keys_, {.max_files = 8});
  for (size_t i = 0; i < 20; ++i) OpenAndRead(i, by_count);
  EXPECT_EQ(by_count.started(), 18u + 8u) << "at most 8 files ahead of the reader";
  EXPECT_FALSE(Cached(VersionOf(28)));
  EXPECT_TRUE(Cached(VersionOf(27)));
}

TEST_F(DirectoryReadaheadTest, TheWindowIsBoundedInBytes) {
  MakeDirectory(std::vector<size_t>(30, 256 << 10));  // 1 MiB: 4 files
  DirectoryReadahead by_bytes(fetcher_, listings_, pool_, keys_, {.max_bytes = 1 << 20});
  for (size_t i = 0; i < 10; ++i) OpenAndRead(i, by_bytes);
  EXPECT_EQ(by_bytes.started(), 8u + 4u) << "at most 1 MiB ahead of the reader";
  EXPECT_TRUE(Cached(VersionOf(13)));
  EXPECT_FALSE(Cached(VersionOf(14)));
}

TEST_F(DirectoryReadaheadTest, GetsInFlightAreBounded) {
  MakeDirectory(std::vector<size_t>(40, 4 << 10));
  GateClock gate;
  FaultyObjectStore slow(store_, gate);
  BlockFetcher fetcher(slow, blocks_, pool_, buffers_, kBlock);
  DirectoryReadahead readahead(fetcher, listings_, pool_, keys_,
                               {.max_files = 32, .max_in_flight = 3});
  slow.SetLatency(Operation::kGetObject, std::chrono::milliseconds(1));
  for (size_t i = 0; i < 8; ++i) {
    const ObjectVersion version = VersionOf(i);
    readahead.Opened(version.key, version, clock_.Monotonic());
  }
  EXPECT_EQ(gate.WaitForWaiting(3), 3u);
  EXPECT_EQ(readahead.started(), 3u) << "the rest waits for a slot";
  gate.Open();
  readahead.WaitIdle();
  EXPECT_EQ(gate.most(), 3u);
  EXPECT_GT(readahead.started(), 3u);
}

TEST_F(DirectoryReadaheadTest, LargeFilesAreNotPrefetched) {
  std::vector<size_t> sizes(20, 8 << 10);
  for (size_t i = 3; i < 20; i += 2) sizes[i] = 2 << 20;  // odd ones from 3 on are large
  MakeDirectory(sizes);
  DirectoryReadahead readahead(fetcher_, listings_, pool_, keys_, {});
  OpenAndRead(0, readahead);
  OpenAndRead(1, readahead);
  EXPECT_TRUE(Cached(VersionOf(2)));
  EXPECT_FALSE(Cached(VersionOf(3))) << "a 2 MiB file is left to its own readahead";
  EXPECT_TRUE(Cached(VersionOf(4)));
  EXPECT_FALSE(Cached(VersionOf(5)));
  EXPECT_EQ(readahead.started(), 2u);
}

TEST_F(DirectoryReadaheadTest, AChangedObjectIsNeverServedFromAPrefetchOfItsOldVersion) {
  MakeDirectory(std::vector<size_t>(10, 8 << 10));
  // Changed before the prefetch: the listing's ETag is stale, the pinned GET fails.
  store_.PutForTest("d/f003", "new three");
  // Changed after the prefetch: the blocks are there, under the old ETag.
  DirectoryReadahead readahead(fetcher_, listings_, pool_, keys_, {});
  OpenAndRead(0, readahead);
  OpenAndRead(1, readahead);
  store_.PutForTest("d/f004", "new four");
  store_.ResetCounts();
  EXPECT_EQ(OpenAndRead(2, readahead), 0);
  EXPECT_EQ(OpenAndRead(3, readahead), 1) << "the new version is fetched";
  EXPECT_EQ(OpenAndRead(4, readahead), 1) << "the new version is fetched";
  // (OpenAndRead checks each read returned the store's current bytes.)
}

TEST_F(DirectoryReadaheadTest, FilesTheKernelCachesAreNotFetched) {
  MakeDirectory(std::vector<size_t>(20, 8 << 10));
  DirectoryReadahead readahead(fetcher_, listings_, pool_, keys_, {});
  for (size_t i = 0; i < 10; ++i) {
    const ObjectVersion version = VersionOf(i);
    readahead.Opened(version.key, version, clock_.Monotonic(), /*kernel_cached=*/true);
  }
  readahead.WaitIdle();
  EXPECT_EQ(readahead.started(), 0u) << "a second `cat dir/*` is served by the page cache";
  EXPECT_EQ(OpenAndRead(10, readahead), 1) << "the first file the kernel does not cache";
  EXPECT_GT(readahead.started(), 0u) << "the in-order run goes on: the next ones are fetched";
  EXPECT_EQ(OpenAndRead(11, readahead), 0);
}

TEST_F(DirectoryReadaheadTest, NoCachedListingOrOffMeansNoPrefetch) {
  MakeDirectory(std::vector<size_t>(10, 8 << 10));
  DirectoryReadahead off(fetcher_, listings_, pool_, keys_, {.max_files = 0});
  for (size_t i = 0; i < 5; ++i) OpenAndRead(i, off);
  EXPECT_EQ(off.started(), 0u);
  listings_.Invalidate("d", clock_.Monotonic());
  DirectoryReadahead unlisted(fetcher_, listings_, pool_, keys_, {});
  for (size_t i = 5; i < 10; ++i) OpenAndRead(i, unlisted);
  EXPECT_EQ(unlisted.started(), 0u);
}

// Through the Filesystem: list, then open and read each file in order, as `cat dir/*` does.
TEST(DirectoryReadaheadFilesystemTest, CatOfADirectoryCostsOneGetPerFileAndReadsRightBytes) {
  FakeClock clock;
  FakeObjectStore store(clock);
  MetadataCache metadata{MetadataCacheOptions{}};
  BlockCache blocks{BlockCacheOptions{}};
  std::vector<std::string> bodies;
  for (int i = 0; i < 50; ++i) {
    bodies.push_back(Pattern((4 + (i * 7) % 13) << 10, static_cast<char>('a' + i % 26)));
    store.PutForTest("small/s" + std::to_string(1000 + i), bodies.back());
  }
  auto created = Filesystem::Create(store, clock, metadata, blocks, {.object_metadata = false});
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  Filesystem& fs = **created;
  auto dir = fs.Lookup(kRootInode, "small");
  ASSERT_TRUE(dir.ok());
  auto handle = fs.OpenDir(dir->inode);
  ASSERT_TRUE(handle.ok());
  std::vector<std::string> names;
  uint64_t offset = 0;
  for (bool more = true; more;) {
    more = false;
    ASSERT_TRUE(fs.ReadDir(*handle, offset, false, [&](const DirectoryEntry& entry) {
                    offset = entry.next_offset;
                    if (entry.name != "." && entry.name != "..") names.push_back(entry.name);
                    more = true;
                    return true;
                  }).ok());
  }
  fs.ReleaseDir(*handle);
  ASSERT_EQ(names.size(), 50u);
  store.ResetCounts();
  for (size_t i = 0; i < names.size(); ++i) {
    auto file = fs.Lookup(dir->inode, names[i]);
    ASSERT_TRUE(file.ok());
    auto opened = fs.Open(file->inode, OpenFlags{});
    ASSERT_TRUE(opened.ok());
    std::string data;
    for (;;) {
      auto slices = fs.Read(opened->handle, data.size(), 128 << 10);
      ASSERT_TRUE(slices.ok()) << slices.error().ToString();
      if (slices->empty()) break;
      for (const auto& slice : *slices)
        data.append(slice.block->data() + slice.offset, slice.length);
    }
    fs.Release(opened->handle);
    EXPECT_TRUE(data == bodies[i]) << "wrong bytes for " << names[i];
  }
  EXPECT_EQ(store.counts().get_object, 50) << "prefetches and reads together: one GET per file";
  EXPECT_EQ(store.counts().head_object, 0);
}

}  // namespace
}  // namespace s3mount
