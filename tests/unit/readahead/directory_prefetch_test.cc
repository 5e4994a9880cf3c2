// Tests of readdirplus read-ahead with per-object metadata: background HEADs and LIST pages
// ahead of the reader, single-flight HEADs (never two for one path), a bounded prefetch, and
// failures in the background that cost a retry and nothing else. The fake store sits behind
// FaultyObjectStore, whose HEADs take real time (so the reader and the background overlap).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "fs/path_resolver.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/filesystem.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/faulty_object_store.h"
#include "tests/support/filesystem_fixture.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::FaultyObjectStore;
using testing::Operation;

// Every 10th file carries s3fs metadata (mode 0700, uid 7), as in the benchmark.
uint32_t ExpectedPermissions(int i) { return i % 10 == 0 ? 0700u : 0644u; }

class DirectoryPrefetchTest : public testing::FilesystemFixture {
 protected:
  DirectoryPrefetchTest() : FilesystemFixture({.real_time_latency = true}) {}
  void Fill(int files) {
    for (int i = 0; i < files; ++i) {
      const std::string key = "d/f" + std::to_string(10000 + i);
      if (i % 10 == 0) {
        store_.PutForTest(key, "x", {{"mode", "33216"}, {"uid", "7"}});  // S_IFREG | 0700
      } else {
        store_.PutForTest(key, "x");
      }
    }
  }
  void Mount() {
    FilesystemOptions options{.object_metadata = true};
    options.defaults.uid = 1000;
    options.defaults.gid = 1000;
    options.defaults.file_permissions = 0644;
    ASSERT_NO_FATAL_FAILURE(FilesystemFixture::Mount(std::move(options)));
    auto dir = filesystem_->Lookup(kRootInode, "d");
    ASSERT_TRUE(dir.ok()) << dir.error().ToString();
    dir_ = dir->inode;
  }
  // Reads the directory with readdirplus in replies of `batch` entries, as the kernel does.
  std::map<std::string, Entry> List(size_t batch) {
    return FilesystemFixture::List(dir_, true, batch);
  }
  void ExpectModes(const std::map<std::string, Entry>& listed, int files) {
    ASSERT_EQ(listed.size(), static_cast<size_t>(files));
    for (int i = 0; i < files; ++i) {
      const auto it = listed.find("f" + std::to_string(10000 + i));
      ASSERT_NE(it, listed.end()) << i;
      EXPECT_EQ(it->second.attributes.permissions, ExpectedPermissions(i)) << "f" << 10000 + i;
      EXPECT_GT(it->second.attr_timeout.count(), 0) << "f" << 10000 + i << " not described";
    }
  }

  InodeId dir_ = 0;
};

TEST_F(DirectoryPrefetchTest, EveryListedFileIsHeadedExactlyOnce) {
  Fill(2500);
  faulty_.SetLatency(Operation::kHeadObject, std::chrono::microseconds(200));
  Mount();
  faulty_.ResetAttempts();
  auto listed = List(25);  // small replies: the reader keeps catching up with the background
  ExpectModes(listed, 2500);
  EXPECT_EQ(faulty_.attempts().head_object, 2500) << "a HEAD was sent twice or skipped";
  EXPECT_EQ(faulty_.attempts().list_objects, 3);
  faulty_.ResetAttempts();
  for (const auto& [name, entry] : listed) {
    ASSERT_TRUE(filesystem_->GetAttr(entry.inode).ok()) << name;
  }
  ExpectModes(List(100), 2500);
  EXPECT_EQ(faulty_.attempts().Total(), 0) << "ls -l again (and lstat) within the TTLs hit S3";
}

TEST_F(DirectoryPrefetchTest, PrefetchStopsWhenTheReaderStops) {
  Fill(3000);
  faulty_.SetLatency(Operation::kHeadObject, std::chrono::microseconds(100));
  Mount();
  faulty_.ResetAttempts();
  auto handle = filesystem_->OpenDir(dir_);
  ASSERT_TRUE(handle.ok());
  size_t replied = 0;
  ASSERT_TRUE(filesystem_
                  ->ReadDir(*handle, 0, true,
                            [&](const DirectoryEntry&) {
                              return ++replied <= 12;  // ".", ".." and 10 files
                            })
                  .ok());
  filesystem_->ReleaseDir(*handle);
  filesystem_.reset();  // waits for the HEADs in flight; the queued ones are dropped
  EXPECT_LE(faulty_.attempts().head_object, 300) << "prefetch ran far ahead of the reader";
  EXPECT_GE(faulty_.attempts().head_object, 10);
  EXPECT_EQ(faulty_.attempts().list_objects, 1) << "a page was read ahead too early";
}

TEST_F(DirectoryPrefetchTest, FailedBackgroundHeadIsRetriedByTheReader) {
  Fill(600);
  Mount();
  faulty_.ResetAttempts();
  // Whoever meets the failure (a background HEAD or the reader's own), the reader's retry
  // gets the answer: nothing is shown without its metadata.
  faulty_.FailNext(Operation::kHeadObject, MakeError(ErrorCode::kInternalError, "500"));
  ExpectModes(List(25), 600);
  EXPECT_EQ(faulty_.attempts().head_object, 601);
}

TEST_F(DirectoryPrefetchTest, FailedReadAheadPageIsAskedForAgain) {
  Fill(2500);
  Mount();
  faulty_.ResetAttempts();
  std::map<std::string, Entry> out;
  auto handle = filesystem_->OpenDir(dir_);
  ASSERT_TRUE(handle.ok());
  uint64_t offset = 0;
  bool scripted = false;
  for (bool more = true; more;) {
    size_t in_batch = 0;
    Status status = filesystem_->ReadDir(*handle, offset, true, [&](const DirectoryEntry& e) {
      if (in_batch == 50) return false;
      ++in_batch;
      offset = e.next_offset;
      if (e.name != "." && e.name != "..") out[e.name] = e.entry;
      return true;
    });
    ASSERT_TRUE(status.ok()) << status.error().ToString();
    if (!scripted) {  // page 1 is in; the next LIST is a read-ahead, and it fails
      faulty_.FailNext(Operation::kListObjects, MakeError(ErrorCode::kInternalError, "500"));
      scripted = true;
    }
    more = in_batch > 0;
  }
  filesystem_->ReleaseDir(*handle);
  ExpectModes(out, 2500);
  EXPECT_EQ(faulty_.attempts().list_objects, 4);  // 3 pages and the failed one
}

TEST(PathResolverSingleFlightTest, ConcurrentHeadsOfOnePathSendOne) {
  FakeClock clock;
  SystemClock real_clock;
  FakeObjectStore store{clock};
  FaultyObjectStore faulty{store, real_clock};
  store.PutForTest("a/b", "x", {{"mode", "33216"}});
  faulty.SetLatency(Operation::kHeadObject, std::chrono::milliseconds(30));
  MetadataCache cache{MetadataCacheOptions{}};
  ThreadPool pool(2);
  const KeyMapper keys("");
  PathResolver resolver(faulty, clock, pool, cache, keys, true);
  std::vector<std::thread> threads;
  std::atomic<int> right{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto entry = resolver.HeadListed("a/b", PathKind::kFile);
      if (entry.ok() && entry->kind == PathKind::kFile && entry->has_user_metadata) ++right;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(right.load(), 8);
  EXPECT_EQ(faulty.attempts().head_object, 1);
  EXPECT_TRUE(resolver.KnownOrInFlight("a/b"));
  EXPECT_FALSE(resolver.KnownOrInFlight("a/c"));
}

}  // namespace
}  // namespace s3mount
