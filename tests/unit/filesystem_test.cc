// Tests of the Filesystem core on the in-memory fake store: what each POSIX-level operation
// costs in S3 requests, directory semantics, reads, stale handles and lookup accounting.
#include "s3mount/fs/filesystem.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/filesystem_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::Pattern;

class FilesystemTest : public testing::FilesystemFixture {
 protected:
  // Objects without s3fs metadata belong to uid and gid 1000.
  void Mount(FilesystemOptions options = {}) {
    options.defaults.uid = 1000;
    options.defaults.gid = 1000;
    FilesystemFixture::Mount(std::move(options));
  }
  InodeId LookupPath(const std::string& path) { return Inode(path); }
};

TEST_F(FilesystemTest, LsLongOfAThousandEntriesCostsOneListAndNoHead) {
  for (int i = 0; i < 1000; ++i) store_.PutForTest("big/file" + std::to_string(i), "x");
  Mount({.object_metadata = false});
  const InodeId dir = LookupPath("big");
  store_.ResetCounts();
  auto listed = List(dir);
  EXPECT_EQ(listed.size(), 1000u);
  for (const auto& [name, entry] : listed) {
    auto attr = fs().GetAttr(entry.inode);  // what lstat would do after the kernel's TTL
    ASSERT_TRUE(attr.ok());
    EXPECT_EQ(attr->attributes.size, 1u);
  }
  EXPECT_EQ(store_.counts().list_objects, 1);
  EXPECT_EQ(store_.counts().head_object, 0);
  store_.ResetCounts();
  EXPECT_EQ(List(dir).size(), 1000u);  // a second ls -l within the TTL
  EXPECT_EQ(store_.counts().Total(), 0) << "a second listing within list_ttl hit S3";
}

TEST_F(FilesystemTest, LargeDirectoriesStreamCompletelyInBothModes) {
  for (int i = 0; i < 10000; ++i) store_.PutForTest("many/f" + std::to_string(i), "x");
  for (bool object_metadata : {false, true}) {
    Mount({.list_ttl = std::chrono::seconds(0), .object_metadata = object_metadata});
    const InodeId dir = LookupPath("many");
    for (size_t batch : {1, 26, 100, 1000}) {
      EXPECT_EQ(List(dir, false, batch).size(), 10000u) << batch << " " << object_metadata;
      EXPECT_EQ(List(dir, true, batch).size(), 10000u) << batch << " " << object_metadata;
    }
  }
}

TEST_F(FilesystemTest, WithObjectMetadataListedFilesAreHeadedAndModesHonoured) {
  for (int i = 0; i < 50; ++i) {
    store_.PutForTest("d/f" + std::to_string(i), "x", {{"mode", "33261"}, {"uid", "7"}});
  }
  Mount({.object_metadata = true});
  const InodeId dir = LookupPath("d");
  store_.ResetCounts();
  auto listed = List(dir);
  ASSERT_EQ(listed.size(), 50u);
  EXPECT_EQ(listed["f3"].attributes.permissions, 0755u);
  EXPECT_EQ(listed["f3"].attributes.uid, 7u);
  EXPECT_EQ(store_.counts().list_objects, 1);
  EXPECT_EQ(store_.counts().head_object, 50);
}

TEST_F(FilesystemTest, TheRootsModeOwnerAndTimesAreKeptInMemoryAndCostNoRequest) {
  Mount();
  store_.ResetCounts();
  const WallTime mtime = WallTime(std::chrono::seconds(1500000000));
  auto set =
      fs().SetAttr(kRootInode, {.permissions = 0700, .uid = 7, .mtime = mtime}, std::nullopt);
  ASSERT_TRUE(set.ok()) << set.error().ToString();
  auto root = fs().GetAttr(kRootInode);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->attributes.permissions, 0700u);
  EXPECT_EQ(root->attributes.uid, 7u);
  EXPECT_EQ(root->attributes.gid, 1000u) << "unchanged";
  EXPECT_EQ(root->attributes.mtime, mtime);
  EXPECT_EQ(root->attributes.ctime, clock_.Now());
  EXPECT_EQ(root->attributes.type, FileType::kDirectory);
  EXPECT_EQ(store_.counts().Total(), 0) << "the root has no object to write";
  auto truncate = fs().SetAttr(kRootInode, {.size = 0}, std::nullopt);
  ASSERT_FALSE(truncate.ok());
  EXPECT_EQ(truncate.error().code, ErrorCode::kIsDirectory);
}

TEST_F(FilesystemTest, LookupOfMissingNameIsNegativeAndCached) {
  Mount();
  auto missing = fs().Lookup(kRootInode, "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->inode, 0u);
  EXPECT_GT(missing->entry_timeout.count(), 0);
  store_.ResetCounts();
  ASSERT_EQ(fs().Lookup(kRootInode, "nope")->inode, 0u);
  EXPECT_EQ(store_.counts().Total(), 0);
}

TEST_F(FilesystemTest, ImplicitDirectoriesMarkersAndShadowedFiles) {
  store_.PutForTest("a", "file shadowed by the directory a/");
  store_.PutForTest("a/b", "1");
  store_.PutForTest("marked/", "", {}, "application/x-directory");
  store_.PutForTest("implicit/deep/x", "2");
  store_.PutForTest("plain", "3");
  Mount({.object_metadata = false});
  auto root = List(kRootInode);
  ASSERT_EQ(root.size(), 4u);
  EXPECT_EQ(root["a"].attributes.type, FileType::kDirectory);
  EXPECT_EQ(root["marked"].attributes.type, FileType::kDirectory);
  EXPECT_EQ(root["implicit"].attributes.type, FileType::kDirectory);
  EXPECT_EQ(root["plain"].attributes.type, FileType::kRegular);
  EXPECT_TRUE(List(LookupPath("marked")).empty());
  EXPECT_EQ(List(LookupPath("implicit")).count("deep"), 1u);
  EXPECT_EQ(fs().Lookup(kRootInode, "a")->attributes.type, FileType::kDirectory);
}

TEST_F(FilesystemTest, UnrepresentableNamesAreSkipped) {
  for (const char* key : {"d/ok", "d//empty-component", "d/./dot", "d/../dotdot"}) {
    store_.PutForTest(key, "x");
  }
  store_.PutForTest("d/" + std::string(300, 'n'), "long");
  Mount({.object_metadata = false});
  auto listed = List(LookupPath("d"));
  ASSERT_EQ(listed.size(), 1u) << listed.begin()->first;
  EXPECT_EQ(listed.begin()->first, "ok");
}

TEST_F(FilesystemTest, SequentialReadOf64MibCostsAHandfulOfGets) {
  const std::string body = Pattern(64u << 20);
  store_.PutForTest("big", body);
  Mount({.object_metadata = false});
  const InodeId file = LookupPath("big");
  store_.ResetCounts();
  const std::string back = ReadAll(file, 128 * 1024);
  EXPECT_EQ(back.size(), body.size());
  EXPECT_TRUE(back == body) << "sequential read returned wrong bytes";
  // 4 MiB first, then 8 MiB steps as the window grows: 1 + 1 + 1 + 2 + 4.
  EXPECT_LE(store_.counts().get_object, 10) << "readahead should use a few large GETs";
}

TEST_F(FilesystemTest, RandomReadsFetchOnlyWhatTheyTouch) {
  const std::string body = Pattern(32u << 20, 'k');
  store_.PutForTest("r", body);
  Mount({.object_metadata = false});
  const InodeId file = LookupPath("r");
  auto opened = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(opened.ok());
  store_.ResetCounts();
  for (uint64_t offset : {uint64_t{20} << 20, uint64_t{3} << 20, uint64_t{27} << 20}) {
    auto slices = fs().Read(opened->handle, offset + 100, 4096);
    ASSERT_TRUE(slices.ok());
    std::string got;
    for (const auto& s : *slices) got.append(s.block->data() + s.offset, s.length);
    EXPECT_EQ(got, body.substr(offset + 100, 4096));
  }
  EXPECT_EQ(store_.counts().get_object, 3);
  fs().Release(opened->handle);
}

TEST_F(FilesystemTest, ChangedObjectGivesStaleOnOpenHandleAndNewOpenSeesNewVersion) {
  store_.PutForTest("f", Pattern(8u << 20, 'a'));
  Mount({.object_metadata = false});
  const InodeId file = LookupPath("f");
  auto opened = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(fs().Read(opened->handle, 5u << 20, 4096).ok());  // a random read: one block
  store_.PutForTest("f", Pattern(8u << 20, 'b'));
  auto stale = fs().Read(opened->handle, 1u << 20, 4096);  // a block not read yet
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kStale);
  fs().Release(opened->handle);
  auto reopened = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(reopened->keep_cache) << "the kernel must drop pages of the old version";
  auto fresh = fs().Read(reopened->handle, 0, 10);
  ASSERT_TRUE(fresh.ok()) << fresh.error().ToString();
  EXPECT_EQ(std::string((*fresh)[0].block->data(), 10), Pattern(10, 'b'));
}

TEST_F(FilesystemTest, ReadingASmallFileWholeCostsOneGet) {
  store_.PutForTest("small", Pattern(300 * 1024));
  Mount({.object_metadata = false});
  const InodeId file = LookupPath("small");
  store_.ResetCounts();
  EXPECT_EQ(ReadAll(file, 128 * 1024), Pattern(300 * 1024));
  EXPECT_EQ(store_.counts().get_object, 1);
}

TEST_F(FilesystemTest, KernelCacheIsKeptAcrossOpensWhileTheEtagHolds) {
  store_.PutForTest("f", "data");
  Mount({.object_metadata = false});
  const InodeId file = LookupPath("f");
  auto first = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(first.ok());
  fs().Release(first->handle);
  auto second = fs().Open(file, OpenFlags{});
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->keep_cache);
  fs().Release(second->handle);
}

TEST_F(FilesystemTest, ReadOnlyRefusesWritesAndDirectoriesRefuseOpen) {
  store_.PutForTest("d/f", "x");
  FilesystemOptions read_only;
  read_only.read_only = true;
  Mount(read_only);
  auto write = fs().Open(LookupPath("d/f"), OpenFlags{.write = true});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, ErrorCode::kReadOnly);
  auto dir = fs().Open(LookupPath("d"), OpenFlags{});
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, ErrorCode::kIsDirectory);
}

TEST_F(FilesystemTest, PrefixMountShowsOnlyThePrefix) {
  store_.PutForTest("outside", "x");
  store_.PutForTest("data/2024/a.csv", "1");
  store_.PutForTest("data/2024/b.csv", "2");
  Mount({.prefix = "data/", .object_metadata = false});
  auto root = List(kRootInode);
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root.begin()->first, "2024");
  EXPECT_EQ(ReadAll(LookupPath("2024/b.csv"), 4096), "2");
  EXPECT_EQ(fs().Lookup(kRootInode, "outside")->inode, 0u);
}

TEST_F(FilesystemTest, IncludeAndExcludeHideKeysCompletely) {
  for (const char* key : {"a.txt", "b.log", "logs/x.txt", "keep/y.txt"})
    store_.PutForTest(key, "x");
  Mount({.include_patterns = {"*.txt"}, .exclude_patterns = {"logs"}, .object_metadata = false});
  auto root = List(kRootInode);
  EXPECT_EQ(root.count("a.txt"), 1u);
  EXPECT_EQ(root.count("b.log"), 0u);
  EXPECT_EQ(root.count("logs"), 0u);
  EXPECT_EQ(root.count("keep"), 1u);
  EXPECT_EQ(fs().Lookup(kRootInode, "b.log")->inode, 0u);
  EXPECT_EQ(fs().Lookup(kRootInode, "logs")->inode, 0u);
}

// A directory that only hidden keys make is hidden too (issue #21); its marker object, or
// one visible key below it, makes it shown. The check costs one LIST per directory without a
// marker, and only when filters are set.
TEST_F(FilesystemTest, DirectoryOfOnlyHiddenKeysIsHidden) {
  for (const char* key : {"logs/a.log", "logs/deep/b.log", "marked/", "marked/c.log", "mixed/d.log",
                          "mixed/e.txt", "sub/in/f.txt", "sub/in/g.log"}) {
    store_.PutForTest(key, "x");
  }
  Mount({.exclude_patterns = {"*.log"}, .object_metadata = false});
  store_.ResetCounts();
  auto root = List(kRootInode);
  EXPECT_EQ(root.count("logs"), 0u) << "only excluded keys below it";
  EXPECT_EQ(root.count("marked"), 1u) << "its marker makes it a real directory";
  EXPECT_EQ(root.count("mixed"), 1u);
  EXPECT_EQ(root.count("sub"), 1u);
  EXPECT_EQ(store_.counts().list_objects, 5) << "the listing, and one per common prefix";
  EXPECT_EQ(fs().Lookup(kRootInode, "logs")->inode, 0u);
  EXPECT_NE(fs().Lookup(kRootInode, "mixed")->inode, 0u);
  EXPECT_NE(fs().Lookup(kRootInode, "marked")->inode, 0u);
}

TEST_F(FilesystemTest, MkdirOverADirectoryOfOnlyHiddenKeysWritesItsMarker) {
  store_.PutForTest("logs/a.log", "x");
  Mount({.exclude_patterns = {"*.log"}, .object_metadata = false});
  ASSERT_EQ(fs().Lookup(kRootInode, "logs")->inode, 0u);
  auto made = fs().MakeDirectory(kRootInode, "logs", 0755, testing::kFixtureUser);
  ASSERT_TRUE(made.ok()) << made.error().ToString();
  EXPECT_TRUE(store_.InfoOf("logs/").has_value()) << "the marker makes it a real directory";
  EXPECT_NE(fs().Lookup(kRootInode, "logs")->inode, 0u);
}

// The type a name gives goes with the name; one set otherwise stays (issue #21).
TEST_F(FilesystemTest, RenameMovesADerivedContentTypeOnly) {
  store_.PutForTest("a.txt", "x", {{"color", "blue"}}, "text/plain");
  store_.PutForTest("b.txt", "x", {}, "application/x-made-up");
  store_.PutForTest("c.txt", "x", {}, "text/plain");
  Mount({.object_metadata = false,
         .content_types = ContentTypes::Parse("text/plain txt text\nimage/jpeg jpg\n")});
  ASSERT_TRUE(fs().Rename(kRootInode, "a.txt", kRootInode, "a.jpg", RenameMode::kReplace).ok());
  ASSERT_TRUE(fs().Rename(kRootInode, "b.txt", kRootInode, "b.jpg", RenameMode::kReplace).ok());
  ASSERT_TRUE(fs().Rename(kRootInode, "c.txt", kRootInode, "c.text", RenameMode::kReplace).ok());
  EXPECT_EQ(store_.InfoOf("a.jpg")->content_type, "image/jpeg");
  EXPECT_EQ(store_.InfoOf("a.jpg")->user_metadata.at("color"), "blue") << "metadata kept";
  EXPECT_EQ(store_.InfoOf("b.jpg")->content_type, "application/x-made-up");
  EXPECT_EQ(store_.InfoOf("c.text")->content_type, "text/plain");
}

TEST_F(FilesystemTest, NoFiltersNoVisibilityChecks) {
  for (const char* key : {"a/x.log", "b/y.log"}) store_.PutForTest(key, "x");
  Mount({.object_metadata = false});
  store_.ResetCounts();
  EXPECT_EQ(List(kRootInode).size(), 2u);
  EXPECT_EQ(store_.counts().list_objects, 1);
}

TEST_F(FilesystemTest, LookupReferencesAreCountedAndForgotten) {
  for (int i = 0; i < 10; ++i) store_.PutForTest("d/f" + std::to_string(i), "x");
  Mount({.object_metadata = false});
  const InodeId dir = LookupPath("d");
  auto listed = List(dir);
  EXPECT_EQ(fs().inode_count(), 12u);  // root, d, 10 files
  for (const auto& [name, entry] : listed) fs().Forget(entry.inode, 1);
  EXPECT_EQ(fs().inode_count(), 2u);
  fs().Forget(dir, 1);
  EXPECT_EQ(fs().inode_count(), 1u);
}

TEST_F(FilesystemTest, SymlinksAndXattrsFromS3fsMetadata) {
  store_.PutForTest("link", "target/file", {{"mode", "41471"}});  // S_IFLNK | 0777
  store_.PutForTest("f", "x", {{"color", "blue"}});
  Mount({.object_metadata = true});
  const InodeId link = LookupPath("link");
  auto attr = fs().GetAttr(link);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->attributes.type, FileType::kSymlink);
  EXPECT_EQ(*fs().ReadLink(link), "target/file");
  const InodeId file = LookupPath("f");
  auto names = fs().ListXattr(file);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"user.color"});
  EXPECT_EQ(*fs().GetXattr(file, "user.color"), "blue");
  EXPECT_EQ(fs().GetXattr(file, "user.none").error().code, ErrorCode::kNoData);
}

TEST_F(FilesystemTest, SecurityAndSystemXattrsCostNoRequest) {
  store_.PutForTest("d/f", "x");
  Mount({.object_metadata = false});
  const InodeId file = LookupPath("d/f");
  store_.ResetCounts();
  for (const char* name : {"security.selinux", "system.posix_acl_access"}) {
    EXPECT_EQ(fs().GetXattr(file, name).error().code, ErrorCode::kNoData) << name;
  }
  EXPECT_EQ(store_.counts().Total(), 0) << "ls -l asks these for every file";
}

}  // namespace
}  // namespace s3mount
