// Tests of how the Filesystem core sees another client's changes without events, on the fake
// store and fake clock (docs/SEMANTICS.md, sections 12 and 14): an open whose cached metadata
// names a version already overwritten reads the new one instead of failing with kStale (and
// says the kernel's size must go), while a handle that delivered bytes of the old version
// still fails; a name a cached listing lacks is asked of S3 again after negative_ttl; and a
// change feed's recovery forgets every cached answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_driver.h"
#include "tests/support/filesystem_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing::Pattern;

class FilesystemFreshnessTest : public testing::FilesystemFixture {
 protected:
  FilesystemFreshnessTest()
      : FilesystemFixture({.metadata = {.positive_ttl = hours(1), .negative_ttl = seconds(5)}}) {}
  void Mount() {
    FilesystemOptions options;
    options.stat_ttl = hours(1);
    options.negative_ttl = seconds(5);
    options.list_ttl = hours(1);
    FilesystemFixture::Mount(std::move(options));
  }
  // Whether a lookup finds `name` (a missing name is a negative entry: inode 0).
  bool Found(InodeId directory, const std::string& name) {
    auto entry = fs().Lookup(directory, name);
    EXPECT_TRUE(entry.ok()) << name << ": " << entry.error().ToString();
    return entry.ok() && entry->inode != 0;
  }
  std::string Text(const std::vector<DataSlice>& slices) {
    std::string text;
    for (const DataSlice& slice : slices)
      text.append(slice.block->data() + slice.offset, slice.length);
    return text;
  }
};

TEST_F(FilesystemFreshnessTest, AnOpenThatReadNothingReadsTheVersionThatReplacedTheCachedOne) {
  store_.PutForTest("f", "old");
  Mount();
  const InodeId file = Inode("f");  // `ls -l`: the attributes (ETag, size 3) are cached
  store_.PutForTest("f", "the new, longer version");
  auto opened = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->keep_cache);
  ReadEffects effects;
  auto read = fs().Read(opened->handle, 0, 4096, &effects);
  ASSERT_TRUE(read.ok()) << "a fresh open failed: " << read.error().ToString();
  EXPECT_EQ(Text(*read), "the new, longer version");
  EXPECT_TRUE(effects.kernel_attributes_stale) << "the kernel would cut the read at 3 bytes";
  auto attributes = fs().GetAttr(file);
  ASSERT_TRUE(attributes.ok());
  EXPECT_EQ(attributes->attributes.size, 23u) << "what the kernel asks next must be the new size";
  fs().Release(opened->handle);
}

TEST_F(FilesystemFreshnessTest, ASmallerNewVersionNeedsNoKernelNotification) {
  store_.PutForTest("f", Pattern(10000, 'a'));
  Mount();
  const InodeId file = Inode("f");
  store_.PutForTest("f", "short");
  auto opened = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(opened.ok());
  ReadEffects effects;
  auto read = fs().Read(opened->handle, 0, 12288, &effects);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(Text(*read), "short");
  // The kernel shrinks its size to the end of this short read; dropping its attributes
  // before the reply would stop it from doing so.
  EXPECT_FALSE(effects.kernel_attributes_stale);
  fs().Release(opened->handle);
}

TEST_F(FilesystemFreshnessTest, AHandleThatDeliveredTheOldVersionStillFailsStale) {
  store_.PutForTest("f", Pattern(8u << 20, 'a'));
  Mount();
  const InodeId file = Inode("f");
  auto opened = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(fs().Read(opened->handle, 5u << 20, 4096).ok());
  store_.PutForTest("f", Pattern(8u << 20, 'b'));
  auto stale = fs().Read(opened->handle, 1u << 20, 4096);
  ASSERT_FALSE(stale.ok()) << "bytes of two versions were mixed";
  EXPECT_EQ(stale.error().code, ErrorCode::kStale);
  fs().Release(opened->handle);
}

TEST_F(FilesystemFreshnessTest, AnOpenThatKeptTheKernelsPagesStillFailsStale) {
  store_.PutForTest("f", Pattern(8u << 20, 'a'));
  Mount();
  const InodeId file = Inode("f");
  ASSERT_EQ(ReadAll(file, 4096).size(), 8u << 20);  // the kernel caches pages of this ETag
  store_.PutForTest("f", Pattern(8u << 20, 'b'));
  auto opened = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(opened->keep_cache);
  blocks_.EraseObject("f");  // a page the kernel no longer has: it must come from S3
  auto stale = fs().Read(opened->handle, 1u << 20, 4096);
  ASSERT_FALSE(stale.ok()) << "the kernel's pages of the old version would mix with the new";
  EXPECT_EQ(stale.error().code, ErrorCode::kStale);
  fs().Release(opened->handle);
}

TEST_F(FilesystemFreshnessTest, ANameACachedListingLacksIsAskedAgainAfterNegativeTtl) {
  store_.PutForTest("dir/old", "x");
  Mount();
  const InodeId dir = Inode("dir");
  auto names = testing::ListNames(fs(), dir);  // the listing is cached for an hour
  ASSERT_TRUE(names.ok());
  store_.PutForTest("dir/new", "created elsewhere");
  store_.ResetCounts();
  EXPECT_FALSE(Found(dir, "new")) << "within negative_ttl the listing is trusted";
  EXPECT_EQ(store_.counts().head_object, 0);
  clock_.Advance(seconds(5));
  auto found = fs().Lookup(dir, "new");
  ASSERT_TRUE(found.ok()) << found.error().ToString();
  ASSERT_NE(found->inode, 0u) << "absence learnt from a listing outlived negative_ttl";
  EXPECT_EQ(found->attributes.size, 17u);
  // A name still missing is cached as missing again for negative_ttl: one check, not one per
  // lookup.
  store_.ResetCounts();
  clock_.Advance(seconds(5));
  EXPECT_FALSE(Found(dir, "absent"));
  const int64_t heads = store_.counts().head_object;
  EXPECT_FALSE(Found(dir, "absent"));
  EXPECT_EQ(store_.counts().head_object, heads);
}

TEST_F(FilesystemFreshnessTest, ForgettingRemoteStateDropsEveryCachedAnswer) {
  store_.PutForTest("dir/a", "one");
  Mount();
  const InodeId dir = Inode("dir");
  const InodeId a = Inode("dir/a");
  ASSERT_TRUE(testing::ListNames(fs(), dir).ok());
  EXPECT_FALSE(Found(dir, "b"));
  store_.PutForTest("dir/a", "changed");
  store_.PutForTest("dir/b", "new");
  const KernelInvalidations kernel = fs().ForgetRemoteState();
  EXPECT_NE(std::find(kernel.inodes.begin(), kernel.inodes.end(), a), kernel.inodes.end());
  EXPECT_NE(std::find(kernel.entries.begin(), kernel.entries.end(),
                      std::pair<InodeId, std::string>(dir, "a")),
            kernel.entries.end());
  auto attributes = fs().GetAttr(a);
  ASSERT_TRUE(attributes.ok());
  EXPECT_EQ(attributes->attributes.size, 7u);
  EXPECT_TRUE(Found(dir, "b"));
  auto names = testing::ListNames(fs(), dir);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::set<std::string>{"a", "b"}));
  auto opened = fs().Open(a, OpenFlags{});
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->keep_cache);
  fs().Release(opened->handle);
}

}  // namespace
}  // namespace s3mount
