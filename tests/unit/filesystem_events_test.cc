// Tests of Filesystem::ApplyRemoteChange on the fake store, with caches that would otherwise
// stay fresh for an hour: another client's create, overwrite and delete become visible after
// their event (and not before), implicit directories appear, the kernel is told what to drop,
// and events that only echo this mount's own writes, come late or concern other keys change
// nothing.
#include <gtest/gtest.h>

#include <memory>

#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_driver.h"
#include "tests/support/filesystem_fixture.h"

namespace s3mount {
namespace {

using std::chrono::hours;
using testing::ListNames;
using testing::LookupPath;
using testing::ReadWhole;

constexpr Caller kUser{1000, 1000, 022};

class FilesystemEventsTest : public testing::FilesystemFixture {
 protected:
  FilesystemEventsTest()
      : FilesystemFixture({.metadata = {.positive_ttl = hours(1), .negative_ttl = hours(1)}}) {}
  void Mount(std::string prefix = "", std::vector<std::string> excludes = {}) {
    FilesystemOptions options;
    options.prefix = std::move(prefix);
    options.exclude_patterns = std::move(excludes);
    options.stat_ttl = hours(1);
    options.negative_ttl = hours(1);
    options.list_ttl = hours(1);
    FilesystemFixture::Mount(std::move(options));
  }

  // Another client's PUT, straight to the store; returns the ETag.
  std::string OtherClientPuts(const std::string& key, const std::string& body) {
    auto put = store_.PutObject({.key = key, .body = body});
    EXPECT_TRUE(put.ok());
    return put.ok() ? put->etag : "";
  }
  static ObjectChange Created(const std::string& key, const std::string& etag,
                              const std::string& sequencer = "") {
    return ObjectChange{.kind = ObjectChangeKind::kCreated,
                        .event_name = "ObjectCreated:Put",
                        .bucket = "bucket",
                        .key = key,
                        .size = std::nullopt,
                        .etag = etag,
                        .sequencer = sequencer};
  }
  static ObjectChange Removed(const std::string& key, const std::string& sequencer = "") {
    return ObjectChange{.kind = ObjectChangeKind::kRemoved,
                        .event_name = "ObjectRemoved:Delete",
                        .bucket = "bucket",
                        .key = key,
                        .sequencer = sequencer};
  }
  std::string Content(const std::string& path) {
    auto inode = LookupPath(fs(), path);
    if (!inode.ok()) return "error: " + inode.error().message;
    auto data = ReadWhole(fs(), *inode);
    return data.ok() ? *data : "error: " + data.error().message;
  }
};

TEST_F(FilesystemEventsTest, AnOverwriteIsSeenAfterItsEventAndNotBefore) {
  OtherClientPuts("notes.txt", "old text");
  Mount();
  ASSERT_EQ(Content("notes.txt"), "old text");
  const std::string etag = OtherClientPuts("notes.txt", "new, longer text");
  EXPECT_EQ(Content("notes.txt"), "old text") << "without an event the caches stay in use";
  auto kernel = fs().ApplyRemoteChange(Created("notes.txt", etag));
  EXPECT_EQ(Content("notes.txt"), "new, longer text");
  auto inode = LookupPath(fs(), "notes.txt");
  ASSERT_TRUE(inode.ok());
  EXPECT_EQ(kernel.entries,
            (std::vector<std::pair<InodeId, std::string>>{{kRootInode, "notes.txt"}}));
  EXPECT_EQ(kernel.inodes, (std::vector<InodeId>{*inode, kRootInode}))
      << "the file's attributes and pages, and its directory's";
}

TEST_F(FilesystemEventsTest, ACreateInANewDirectoryMakesTheDirectoryAppear) {
  OtherClientPuts("a.txt", "a");
  Mount();
  ASSERT_EQ(ListNames(fs(), kRootInode).value(), (std::set<std::string>{"a.txt"}));
  ASSERT_FALSE(LookupPath(fs(), "new").ok()) << "now cached as missing";
  const std::string etag = OtherClientPuts("new/deep/file.txt", "x");
  EXPECT_EQ(ListNames(fs(), kRootInode).value(), (std::set<std::string>{"a.txt"}));
  auto kernel = fs().ApplyRemoteChange(Created("new/deep/file.txt", etag));
  EXPECT_EQ(kernel.entries, (std::vector<std::pair<InodeId, std::string>>{{kRootInode, "new"}}))
      << "the kernel's negative entry for the new directory must go";
  EXPECT_EQ(ListNames(fs(), kRootInode).value(), (std::set<std::string>{"a.txt", "new"}));
  EXPECT_EQ(Content("new/deep/file.txt"), "x");
}

TEST_F(FilesystemEventsTest, ADeleteIsSeenAfterItsEvent) {
  OtherClientPuts("dir/gone.txt", "bytes");
  OtherClientPuts("dir/stays.txt", "bytes");
  Mount();
  ASSERT_EQ(Content("dir/gone.txt"), "bytes");
  auto dir = LookupPath(fs(), "dir");
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(ListNames(fs(), *dir).value(), (std::set<std::string>{"gone.txt", "stays.txt"}));
  ASSERT_TRUE(store_.DeleteObject("dir/gone.txt").ok());
  auto kernel = fs().ApplyRemoteChange(Removed("dir/gone.txt"));
  EXPECT_EQ(kernel.entries,
            (std::vector<std::pair<InodeId, std::string>>{{kRootInode, "dir"}, {*dir, "gone.txt"}}))
      << "an implicit directory may vanish with its last object: its dentry goes too";
  EXPECT_EQ(ListNames(fs(), *dir).value(), (std::set<std::string>{"stays.txt"}));
  auto gone = LookupPath(fs(), "dir/gone.txt");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

TEST_F(FilesystemEventsTest, EventsEchoingThisMountsOwnWritesChangeNothing) {
  Mount();
  ASSERT_EQ(ListNames(fs(), kRootInode).value(), std::set<std::string>{}) << "now cached";
  auto created = fs().Create(kRootInode, "mine.txt", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(fs().Write(created->file.handle, 0, "my bytes").ok());
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);
  const std::string etag = store_.InfoOf("mine.txt")->etag;
  store_.ResetCounts();
  EXPECT_TRUE(fs().ApplyRemoteChange(Created("mine.txt", etag)).empty());
  EXPECT_EQ(Content("mine.txt"), "my bytes");
  EXPECT_EQ(ListNames(fs(), kRootInode).value(), (std::set<std::string>{"mine.txt"}));
  EXPECT_EQ(store_.counts().head_object, 0) << "the echo threw away what the mount knew";
  EXPECT_EQ(store_.counts().list_objects, 0) << "the echo threw away the cached listing";

  ASSERT_TRUE(fs().Unlink(kRootInode, "mine.txt").ok());
  store_.ResetCounts();
  EXPECT_TRUE(fs().ApplyRemoteChange(Removed("mine.txt")).empty());
  EXPECT_EQ(ListNames(fs(), kRootInode).value(), std::set<std::string>{});
  EXPECT_EQ(store_.counts().list_objects, 0) << "the echo of an unlink dropped the listing";
}

TEST_F(FilesystemEventsTest, OlderOrRepeatedSequencersAreSkipped) {
  Mount();
  EXPECT_FALSE(fs().ApplyRemoteChange(Created("k", "e1", "0055A8B6")).empty());
  EXPECT_TRUE(fs().ApplyRemoteChange(Created("k", "e1", "0055A8B6")).empty()) << "a repeat";
  EXPECT_TRUE(fs().ApplyRemoteChange(Removed("k", "0055A8B5")).empty()) << "an older event";
  EXPECT_FALSE(fs().ApplyRemoteChange(Removed("k", "0055A8B600")).empty()) << "a newer one";
  EXPECT_FALSE(fs().ApplyRemoteChange(Created("other", "e2", "01")).empty())
      << "sequencers only order events of one key";
}

TEST_F(FilesystemEventsTest, KeysOutsideTheMountPrefixAreIgnored) {
  OtherClientPuts("photos/a.jpg", "a");
  Mount("photos/");
  ASSERT_EQ(ListNames(fs(), kRootInode).value(), (std::set<std::string>{"a.jpg"}));
  EXPECT_TRUE(fs().ApplyRemoteChange(Created("videos/b.mp4", "e")).empty());
  EXPECT_TRUE(fs().ApplyRemoteChange(Created("photos", "e")).empty());
  const std::string etag = OtherClientPuts("photos/b.jpg", "b");
  EXPECT_FALSE(fs().ApplyRemoteChange(Created("photos/b.jpg", etag)).empty());
  EXPECT_EQ(ListNames(fs(), kRootInode).value(), (std::set<std::string>{"a.jpg", "b.jpg"}));
}

TEST_F(FilesystemEventsTest, ACopyEventIsNeverTakenForAnEcho) {
  OtherClientPuts("f.txt", "bytes");
  Mount();
  ASSERT_EQ(Content("f.txt"), "bytes");
  const std::string etag = store_.InfoOf("f.txt")->etag;
  ObjectChange chmod_elsewhere = Created("f.txt", etag);
  chmod_elsewhere.event_name = "ObjectCreated:Copy";
  EXPECT_FALSE(fs().ApplyRemoteChange(chmod_elsewhere).empty())
      << "a metadata change by another client keeps the ETag but must still be seen";
  ASSERT_EQ(Content("f.txt"), "bytes");  // known again
  EXPECT_TRUE(fs().ApplyRemoteChange(Created("f.txt", etag)).empty()) << "a plain echo";
}

TEST_F(FilesystemEventsTest, KeysHiddenByTheFiltersAreIgnored) {
  Mount("", {"*.tmp"});
  EXPECT_TRUE(fs().ApplyRemoteChange(Created("work/file.tmp", "e")).empty());
  EXPECT_FALSE(fs().ApplyRemoteChange(Created("work/file.txt", "e")).empty());
}

TEST_F(FilesystemEventsTest, ADirectoryMarkerEventMakesAnEmptyDirectoryAppear) {
  Mount();
  ASSERT_FALSE(LookupPath(fs(), "empty").ok());
  const std::string etag = OtherClientPuts("empty/", "");
  fs().ApplyRemoteChange(Created("empty/", etag));
  auto inode = LookupPath(fs(), "empty");
  ASSERT_TRUE(inode.ok()) << inode.error().ToString();
  EXPECT_EQ(ListNames(fs(), *inode).value(), std::set<std::string>{});
}

// Found by the reference-model test (tests/unit/reference_model/).
TEST_F(FilesystemEventsTest, RenamingTheOnlyDirectoryInAnImplicitOneMakesThatOneVanish) {
  Mount();
  fs().ApplyRemoteChange(Created("b/a/", OtherClientPuts("b/a/", "")));
  auto b = LookupPath(fs(), "b");
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  ASSERT_TRUE(LookupPath(fs(), "b/a").ok());
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(fs().Rename(*b, "a", kRootInode, "a", RenameMode::kNoReplace).ok());
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"a/"});
  EXPECT_EQ(fs().Lookup(kRootInode, "b")->inode, 0u)
      << "b only held the directory that moved: S3 has nothing below it any more";
  EXPECT_EQ(ListNames(fs(), kRootInode).value(), std::set<std::string>{"a"});
}

TEST_F(FilesystemEventsTest, RmdirOfADirectoryShowsTheFileItHid) {
  Mount();
  ASSERT_TRUE(fs().MakeDirectory(kRootInode, "d", 0755, kUser).ok());
  fs().ApplyRemoteChange(Created("d", OtherClientPuts("d", "hidden file")));
  ASSERT_EQ(ListNames(fs(), kRootInode).value(), std::set<std::string>{"d"});
  ASSERT_EQ(fs().Lookup(kRootInode, "d")->attributes.type, FileType::kDirectory)
      << "the directory wins over the file (SEMANTICS.md section 9)";
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(fs().RemoveDirectory(kRootInode, "d").ok());
  auto d = fs().Lookup(kRootInode, "d");
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_NE(d->inode, 0u) << "the file the directory hid is still in S3";
  EXPECT_EQ(d->attributes.type, FileType::kRegular);
  EXPECT_EQ(Content("d"), "hidden file");
  EXPECT_EQ(ListNames(fs(), kRootInode).value(), std::set<std::string>{"d"});
}

}  // namespace
}  // namespace s3mount
