// Directory times and link counts: DirectoryTimes on its own, then through a Filesystem on the
// fake store and clock (a directory's mtime and ctime follow its entries' creates, removes and
// renames at no request's cost; rename moves the file's ctime, in its metadata; a directory's
// link count is 2 and its subdirectories where its listing is cached).
#include "fs/directory_times.h"

#include <gtest/gtest.h>

#include "s3mount/fs/metadata_codec.h"
#include "tests/support/filesystem_fixture.h"

namespace s3mount {
namespace {

using std::chrono::seconds;

WallTime At(int64_t second) { return WallTime(seconds(second)); }

Attributes DirectoryAt(int64_t second) {
  return Attributes{.type = FileType::kDirectory, .mtime = At(second), .ctime = At(second)};
}

TEST(DirectoryTimesTest, AChangeOfEntriesMovesMtimeAndCtimeARenameOnlyCtime) {
  DirectoryTimes times(10);
  times.EntriesChanged("a", At(200));
  times.Renamed("b", At(300));
  Attributes a = DirectoryAt(100);
  times.Apply("a", a);
  EXPECT_EQ(a.mtime, At(200));
  EXPECT_EQ(a.ctime, At(200));
  Attributes b = DirectoryAt(100);
  times.Apply("b", b);
  EXPECT_EQ(b.mtime, At(100)) << "a rename moves the renamed directory's ctime only";
  EXPECT_EQ(b.ctime, At(300));
  Attributes later = DirectoryAt(400);
  times.Apply("a", later);
  EXPECT_EQ(later.mtime, At(400)) << "stored times that are later win";
}

TEST(DirectoryTimesTest, ForgetTakesTheDirectoryAndWhatIsBelowItOnly) {
  DirectoryTimes times(10);
  for (const char* directory : {"a", "a/b", "a/b/c", "a-b", "ab", ""}) {
    times.EntriesChanged(directory, At(200));
  }
  times.Forget("a");
  for (const char* forgotten : {"a", "a/b", "a/b/c"}) {
    Attributes attributes = DirectoryAt(100);
    times.Apply(forgotten, attributes);
    EXPECT_EQ(attributes.mtime, At(100)) << forgotten << " must be forgotten";
  }
  for (const char* kept : {"a-b", "ab", ""}) {
    Attributes attributes = DirectoryAt(100);
    times.Apply(kept, attributes);
    EXPECT_EQ(attributes.mtime, At(200)) << kept << " must be kept";
  }
  times.Forget("");
  Attributes root = DirectoryAt(100);
  times.Apply("ab", root);
  EXPECT_EQ(root.mtime, At(100)) << "forgetting the root forgets everything";
}

TEST(DirectoryTimesTest, TheLeastRecentlyChangedDirectoryIsForgottenFirst) {
  DirectoryTimes times(2);
  times.EntriesChanged("old", At(200));
  times.EntriesChanged("middle", At(200));
  times.EntriesChanged("old", At(250));  // changed again: now the most recent
  times.EntriesChanged("new", At(300));
  Attributes middle = DirectoryAt(100);
  times.Apply("middle", middle);
  EXPECT_EQ(middle.mtime, At(100)) << "over the bound, the least recently changed goes";
  Attributes old = DirectoryAt(100);
  times.Apply("old", old);
  EXPECT_EQ(old.mtime, At(250));
}

class FilesystemDirectoryTimesTest : public testing::FilesystemFixture {
 protected:
  Attributes AttributesOf(const std::string& path) {
    auto entry = fs().GetAttr(path.empty() ? kRootInode : Inode(path));
    EXPECT_TRUE(entry.ok()) << path << ": " << entry.error().ToString();
    return entry.ok() ? entry->attributes : Attributes{};
  }
};

TEST_F(FilesystemDirectoryTimesTest, CreatingAndRemovingEntriesMovesTheParentsTimesAtNoCost) {
  store_.PutForTest("dir/", "", {{"mtime", "1000000000"}}, "application/x-directory");
  Mount();
  const InodeId dir = Inode("dir");
  ASSERT_EQ(AttributesOf("dir").mtime, At(1000000000));
  const auto expect_changed_now = [&](const std::string& what) {
    const Attributes attributes = AttributesOf("dir");
    EXPECT_EQ(attributes.mtime, clock_.Now()) << what << " must move the directory's mtime";
    EXPECT_EQ(attributes.ctime, clock_.Now()) << what << " must move the directory's ctime";
  };
  clock_.Advance(seconds(10));
  store_.ResetCounts();
  ASSERT_TRUE(WriteAndClose("file", "x", dir).ok());
  expect_changed_now("a create");
  EXPECT_EQ(store_.counts().put_object, 1) << "the file's PUT only: no write to the marker";
  EXPECT_EQ(store_.counts().copy_object, 0);
  clock_.Advance(seconds(10));
  ASSERT_TRUE(fs().MakeDirectory(dir, "sub", 0755, testing::kFixtureUser).ok());
  expect_changed_now("a mkdir");
  clock_.Advance(seconds(10));
  ASSERT_TRUE(fs().RemoveDirectory(dir, "sub").ok());
  expect_changed_now("an rmdir");
  clock_.Advance(seconds(10));
  ASSERT_TRUE(fs().Rename(dir, "file", kRootInode, "moved", RenameMode::kReplace).ok());
  expect_changed_now("a rename out of it");
  EXPECT_EQ(AttributesOf("").mtime, clock_.Now()) << "a rename into the root moves the root's";
  clock_.Advance(seconds(10));
  ASSERT_TRUE(fs().Rename(kRootInode, "moved", dir, "back", RenameMode::kReplace).ok());
  expect_changed_now("a rename into it");
  clock_.Advance(seconds(10));
  ASSERT_TRUE(fs().Unlink(dir, "back").ok());
  expect_changed_now("an unlink");
}

TEST_F(FilesystemDirectoryTimesTest, AnExplicitMtimeWinsAndIsStoredOnTheMarker) {
  store_.PutForTest("dir/", "", {{"mtime", "1000000000"}}, "application/x-directory");
  Mount();
  const InodeId dir = Inode("dir");
  clock_.Advance(seconds(10));
  ASSERT_TRUE(WriteAndClose("file", "x", dir).ok());
  // rsync -a and cp -a set a directory's times after filling it, often to an older time.
  const WallTime old = At(900000000);
  ASSERT_TRUE(fs().SetAttr(dir, {.mtime = old}, std::nullopt).ok());
  EXPECT_EQ(AttributesOf("dir").mtime, old);
  auto marker = store_.InfoOf("dir/");
  ASSERT_TRUE(marker.has_value());
  EXPECT_EQ(marker->user_metadata.at("mtime"), FormatMetadataTime(old));
  // A chmod stores the times kept in memory on the marker as they are.
  clock_.Advance(seconds(10));
  ASSERT_TRUE(WriteAndClose("second", "x", dir).ok());
  const WallTime created = clock_.Now();
  clock_.Advance(seconds(10));
  ASSERT_TRUE(fs().SetAttr(dir, {.permissions = 0700}, std::nullopt).ok());
  EXPECT_EQ(store_.InfoOf("dir/")->user_metadata.at("mtime"), FormatMetadataTime(created));
  EXPECT_EQ(AttributesOf("dir").ctime, clock_.Now());
  // The root's too.
  ASSERT_TRUE(WriteAndClose("top", "x").ok());
  ASSERT_TRUE(fs().SetAttr(kRootInode, {.mtime = old}, std::nullopt).ok());
  EXPECT_EQ(AttributesOf("").mtime, old);
}

TEST_F(FilesystemDirectoryTimesTest, RenameMovesTheFilesCtimeInItsMetadataAndKeepsItsMtime) {
  store_.PutForTest("plain", "made by another tool");  // no metadata: mtime is LastModified
  const WallTime written = clock_.Now();
  Mount();
  clock_.Advance(seconds(100));
  ASSERT_TRUE(fs().Rename(kRootInode, "plain", kRootInode, "renamed", RenameMode::kReplace).ok());
  const Attributes renamed = AttributesOf("renamed");
  EXPECT_EQ(renamed.ctime, clock_.Now());
  EXPECT_EQ(renamed.mtime, written) << "a rename keeps the mtime";
  auto stored = store_.InfoOf("renamed");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->user_metadata.at("ctime"), FormatMetadataTime(clock_.Now()));
  EXPECT_EQ(stored->user_metadata.at("mtime"), FormatMetadataTime(written));
  EXPECT_EQ(store_.BodyOf("renamed"), "made by another tool");
}

TEST_F(FilesystemDirectoryTimesTest, ADirectoryCountsTheSubdirectoriesItsListingKnows) {
  store_.PutForTest("top/one/inner/file", "x");
  store_.PutForTest("top/two/", "", {}, "application/x-directory");
  store_.PutForTest("top/file", "x");
  Mount();
  const InodeId top = Inode("top");
  EXPECT_EQ(AttributesOf("top").nlink, 2u) << "not listed yet: no count";
  const auto listed = List(top);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(AttributesOf("top").nlink, 4u) << "2 and its subdirectories one and two";
  ASSERT_TRUE(fs().MakeDirectory(top, "three", 0755, testing::kFixtureUser).ok());
  EXPECT_EQ(AttributesOf("top").nlink, 5u) << "a mkdir counts";
  ASSERT_TRUE(fs().RemoveDirectory(top, "two").ok());
  // rmdir forgets the parent's listing (a file the directory hid may show again): counted
  // again once it is read.
  EXPECT_EQ(List(top).size(), 3u);
  EXPECT_EQ(AttributesOf("top").nlink, 4u) << "an rmdir counts";
  EXPECT_EQ(AttributesOf("top/three").nlink, 2u) << "a new directory has no subdirectory";
}

}  // namespace
}  // namespace s3mount
