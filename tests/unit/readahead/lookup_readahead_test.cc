// Tests of LookupReadahead: lookups that follow a cached listing HEAD the next entries ahead
// (each once), other orders HEAD nothing, a listing that loses the entries just looked up
// (`rm -r`) is still followed, and the window stays bounded. Also the Filesystem-level
// effect: after a plain READDIR, looking every entry up in order costs one HEAD per entry and
// shows each entry's own mode.
#include "fs/readahead/lookup_readahead.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/filesystem.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;

std::string NameOf(size_t i) {
  std::string digits = std::to_string(i);
  return "f" + std::string(3 - std::min<size_t>(3, digits.size()), '0') + digits;
}

class LookupReadaheadTest : public ::testing::Test {
 protected:
  // Files d/f000... listed and cached as a readdir would leave them.
  void MakeDirectory(size_t files) {
    auto listing = std::make_shared<std::vector<ListedEntry>>();
    for (size_t i = 0; i < files; ++i) {
      const std::string path = "d/" + NameOf(i);
      store_.PutForTest(path, "x", {{"mode", "33216"}});
      listing->push_back(ListedEntry{NameOf(i), path,
                                     PathEntry{.kind = PathKind::kFile,
                                               .object = *store_.InfoOf(path),
                                               .fetched_at = clock_.Monotonic()}});
    }
    listings_.Insert("d", listing, clock_.Monotonic());
    store_.ResetCounts();
  }
  void LookUp(size_t i) { readahead_.LookingUp("d", NameOf(i), clock_.Monotonic()); }
  // Waits (up to 10 s) until the prefetcher has nothing queued or running.
  void WaitIdle() {
    for (int i = 0; i < 10000 && prefetcher_.pending() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(prefetcher_.pending(), 0u) << "prefetch HEADs did not finish";
  }
  bool Known(size_t i) { return resolver_.KnownOrInFlight("d/" + NameOf(i)); }

  FakeClock clock_;
  FakeObjectStore store_{clock_};
  MetadataCache metadata_{MetadataCacheOptions{}};
  ThreadPool pool_{2};
  KeyMapper keys_{""};
  PathResolver resolver_{store_, clock_, pool_, metadata_, keys_, true};
  MetadataPrefetcher prefetcher_{resolver_, 4};
  ListingCache listings_{std::chrono::seconds(60), 100000};
  LookupReadahead readahead_{listings_, resolver_, prefetcher_, {.max_window = 32}};
};

TEST_F(LookupReadaheadTest, InOrderLookupsHeadTheNextEntriesAheadOnce) {
  MakeDirectory(100);
  LookUp(0);
  EXPECT_EQ(readahead_.queued(), 0u) << "one lookup is not yet an order";
  LookUp(1);
  EXPECT_EQ(readahead_.queued(), 8u) << "first window: 8 entries";
  WaitIdle();
  EXPECT_TRUE(Known(2));
  EXPECT_TRUE(Known(9));
  EXPECT_FALSE(Known(10)) << "prefetch went past its window";
  for (size_t i = 2; i < 100; ++i) LookUp(i);
  WaitIdle();
  EXPECT_EQ(store_.counts().head_object, 98) << "every entry after the first two, each once";
  EXPECT_EQ(readahead_.queued(), 98u);
  EXPECT_EQ(store_.counts().list_objects, 0);
}

TEST_F(LookupReadaheadTest, WindowGrowsUpToItsLimit) {
  MakeDirectory(200);
  for (size_t i = 0; i < 6; ++i) LookUp(i);
  // Windows 8, 16, 32, 32, 32 after lookups 1..5: entries 2 to 5 + 32 are queued.
  EXPECT_EQ(readahead_.queued(), 36u);
  WaitIdle();
  EXPECT_TRUE(Known(37));
  EXPECT_FALSE(Known(38));
}

TEST_F(LookupReadaheadTest, OtherOrdersHeadNothing) {
  MakeDirectory(100);
  for (size_t i = 99; i > 50; --i) LookUp(i);    // backwards
  for (size_t i = 0; i < 50; i += 7) LookUp(i);  // steps over more than a few names
  LookUp(60);
  LookUp(60);  // the same name twice is no step
  readahead_.LookingUp("d", "not-listed", clock_.Monotonic());
  readahead_.LookingUp("elsewhere", "f001", clock_.Monotonic());
  WaitIdle();
  EXPECT_EQ(readahead_.queued(), 0u);
  EXPECT_EQ(store_.counts().head_object, 0);
}

TEST_F(LookupReadaheadTest, ListingThatLosesTheEntriesLookedUpIsStillFollowed) {
  MakeDirectory(100);
  // rm -r: each entry is looked up, then removed from the cached listing.
  for (size_t i = 0; i < 100; ++i) {
    LookUp(i);
    listings_.Erase("d", NameOf(i), clock_.Monotonic());
  }
  WaitIdle();
  EXPECT_EQ(readahead_.queued(), 98u) << "the removals broke the order";
  EXPECT_EQ(store_.counts().head_object, 98);
}

TEST_F(LookupReadaheadTest, ExpiredListingStopsThePrefetch) {
  MakeDirectory(100);
  LookUp(0);
  LookUp(1);
  const uint64_t before = readahead_.queued();
  clock_.Advance(std::chrono::seconds(61));  // the listing's TTL is over
  for (size_t i = 2; i < 20; ++i) LookUp(i);
  EXPECT_EQ(readahead_.queued(), before);
  WaitIdle();
}

TEST_F(LookupReadaheadTest, ZeroWindowIsOff) {
  MakeDirectory(20);
  LookupReadahead off(listings_, resolver_, prefetcher_, {.max_window = 0});
  for (size_t i = 0; i < 20; ++i) off.LookingUp("d", NameOf(i), clock_.Monotonic());
  EXPECT_EQ(off.queued(), 0u);
}

// Through the Filesystem: `ls` (plain READDIR, no attributes) and then one lookup per entry
// in listing order, as `rm -r` and `cat dir/*` do after the kernel stopped READDIRPLUS.
TEST(FilesystemLookupReadaheadTest, LookupsAfterPlainReaddirHeadEachEntryOnceWithItsMode) {
  FakeClock clock;
  FakeObjectStore store{clock};
  for (size_t i = 0; i < 300; ++i) {
    if (i % 3 == 0) {
      store.PutForTest("d/" + NameOf(i), "x", {{"mode", "33216"}});  // S_IFREG | 0700
    } else {
      store.PutForTest("d/" + NameOf(i), "x");
    }
  }
  MetadataCache metadata{MetadataCacheOptions{}};
  BlockCache blocks{BlockCacheOptions{}};
  FilesystemOptions options{.object_metadata = true};
  options.defaults.file_permissions = 0644;
  auto filesystem = Filesystem::Create(store, clock, metadata, blocks, options);
  ASSERT_TRUE(filesystem.ok()) << filesystem.error().ToString();
  auto dir = (*filesystem)->Lookup(kRootInode, "d");
  ASSERT_TRUE(dir.ok());
  auto handle = (*filesystem)->OpenDir(dir->inode);
  ASSERT_TRUE(handle.ok());
  std::vector<std::string> names;
  ASSERT_TRUE((*filesystem)
                  ->ReadDir(*handle, 0, false,
                            [&](const DirectoryEntry& e) {
                              if (e.name != "." && e.name != "..") names.push_back(e.name);
                              return true;
                            })
                  .ok());
  (*filesystem)->ReleaseDir(*handle);
  ASSERT_EQ(names.size(), 300u);
  store.ResetCounts();
  for (size_t i = 0; i < names.size(); ++i) {
    auto entry = (*filesystem)->Lookup(dir->inode, names[i]);
    ASSERT_TRUE(entry.ok()) << names[i];
    EXPECT_EQ(entry->attributes.permissions, i % 3 == 0 ? 0700u : 0644u) << names[i];
  }
  filesystem->reset();  // waits for the HEADs in flight
  EXPECT_EQ(store.counts().head_object, 300) << "an entry was HEADed twice";
  EXPECT_EQ(store.counts().list_objects, 0) << "the cached listing was not used";
}

}  // namespace
}  // namespace s3mount
