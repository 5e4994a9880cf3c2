// Directory objects other tools make: a key without a trailing '/' whose Content-Type is
// application/x-directory (old s3fs, some consoles), Nextcloud's httpd/unix-directory, or whose
// x-amz-meta-mode has S_IFDIR. The mount shows them as directories, with the attributes of
// their headers, and operates on the object itself (docs/SEMANTICS.md, "Directory objects").
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <string>

#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_fixture.h"

namespace s3mount {
namespace {

constexpr Caller kUser = testing::kFixtureUser;

// The s3fs headers the directory objects of these tests carry.
UserMetadata StoredHeaders() {
  return {{"mode", std::to_string(S_IFDIR | 0750)},
          {"uid", "321"},
          {"gid", "654"},
          {"mtime", "1600000000"}};
}

class FilesystemDirectoryObjectTest : public testing::FilesystemFixture {
 protected:
  void PutDirectoryObject(const std::string& key, UserMetadata headers = StoredHeaders(),
                          std::string content_type = "application/x-directory") {
    store_.PutForTest(key, "", std::move(headers), std::move(content_type));
  }
  static void ExpectHeaderAttributes(const Attributes& attributes, const std::string& what) {
    EXPECT_EQ(attributes.type, FileType::kDirectory) << what << " is not a directory";
    EXPECT_EQ(attributes.permissions, 0750u) << what;
    EXPECT_EQ(attributes.uid, 321u) << what;
    EXPECT_EQ(attributes.gid, 654u) << what;
    EXPECT_EQ(attributes.mtime.time_since_epoch(), std::chrono::seconds(1600000000)) << what;
  }
};

TEST_F(FilesystemDirectoryObjectTest, LookupShowsADirectoryWithTheObjectsHeaders) {
  for (bool object_metadata : {false, true}) {
    PutDirectoryObject("d");
    Mount({.object_metadata = object_metadata});
    auto entry = fs().Lookup(kRootInode, "d");
    ASSERT_TRUE(entry.ok()) << entry.error().ToString();
    ExpectHeaderAttributes(entry->attributes, "lookup");
    auto attr = fs().GetAttr(entry->inode);
    ASSERT_TRUE(attr.ok()) << attr.error().ToString();
    ExpectHeaderAttributes(attr->attributes, "getattr");
  }
}

TEST_F(FilesystemDirectoryObjectTest, TheOtherFormsAreDirectoriesTooAndAnEmptyFileIsNot) {
  PutDirectoryObject("charset", StoredHeaders(), "application/x-directory; charset=UTF-8");
  PutDirectoryObject("nextcloud", {}, "httpd/unix-directory");
  PutDirectoryObject("by-mode", StoredHeaders(), "binary/octet-stream");
  store_.PutForTest("empty", "");
  Mount({.object_metadata = false});
  for (const char* name : {"charset", "nextcloud", "by-mode"}) {
    auto entry = fs().Lookup(kRootInode, name);
    ASSERT_TRUE(entry.ok()) << name;
    EXPECT_EQ(entry->attributes.type, FileType::kDirectory) << name;
  }
  auto empty = fs().Lookup(kRootInode, "empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->attributes.type, FileType::kRegular) << "an empty file became a directory";
}

TEST_F(FilesystemDirectoryObjectTest, ListingsShowItAsADirectoryAndOnlyEmptyFilesAreHeaded) {
  PutDirectoryObject("top/d");
  for (int i = 0; i < 20; ++i) store_.PutForTest("top/file" + std::to_string(i), "x");
  store_.PutForTest("top/empty", "");
  for (bool plus : {true, false}) {
    Mount({.object_metadata = false});
    const InodeId top = Inode("top");
    store_.ResetCounts();
    auto listed = List(top, plus);
    ASSERT_EQ(listed.size(), 22u);
    // Plain readdir cannot tell without a HEAD: it says "unknown" (a stat follows).
    if (plus) ExpectHeaderAttributes(listed.at("d").attributes, "readdirplus");
    EXPECT_EQ(listed.at("file0").attributes.type, FileType::kRegular);
    EXPECT_EQ(store_.counts().head_object, plus ? 2 : 0)
        << "readdirplus must HEAD the zero-byte keys (and only them); plain readdir none";
    auto entry = fs().Lookup(top, "d");
    ASSERT_TRUE(entry.ok());
    ExpectHeaderAttributes(entry->attributes, plus ? "lookup after readdirplus" : "lookup");
    auto empty = fs().Lookup(top, "empty");
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->attributes.type, FileType::kRegular);
    store_.ResetCounts();
    List(top, plus);
    (void)fs().Lookup(top, "d");
    EXPECT_EQ(store_.counts().head_object, 0) << "a second listing forgot what the HEAD learnt";
  }
}

TEST_F(FilesystemDirectoryObjectTest, ReaddirplusOfManyEmptyFilesHeadsEachOnceInAnyReplySize) {
  for (int i = 0; i < 300; ++i) store_.PutForTest("many/empty" + std::to_string(i), "");
  PutDirectoryObject("many/zz-dir");
  for (size_t reply_size : {7, 100}) {
    Mount({.object_metadata = false});
    const InodeId dir = Inode("many");
    store_.ResetCounts();
    auto listed = List(dir, true, reply_size);
    ASSERT_EQ(listed.size(), 301u) << reply_size;
    for (const auto& [name, entry] : listed) {
      EXPECT_EQ(entry.attributes.type, name == "zz-dir" ? FileType::kDirectory : FileType::kRegular)
          << name;
    }
    // The second mount shares the metadata cache: it knows them all already.
    EXPECT_EQ(store_.counts().head_object, reply_size == 7 ? 301 : 0)
        << "one HEAD per zero-byte key, no more (reply size " << reply_size << ")";
  }
}

TEST_F(FilesystemDirectoryObjectTest, ReaddirOfItListsTheKeysBelowAndFilesCanBeMadeInside) {
  PutDirectoryObject("d");
  store_.PutForTest("d/old", "x");
  Mount({.object_metadata = false});
  const InodeId dir = Inode("d");
  EXPECT_EQ(List(dir).size(), 1u);
  ASSERT_TRUE(fs().MakeDirectory(dir, "sub", 0755, kUser).ok());
  ASSERT_TRUE(WriteAndClose("new", "data", dir).ok());
  auto names = List(dir);
  for (const char* name : {"old", "sub", "new"}) EXPECT_TRUE(names.contains(name)) << name;
  EXPECT_EQ(store_.BodyOf("d/new"), "data");
  EXPECT_TRUE(store_.InfoOf("d/sub/").has_value());
}

TEST_F(FilesystemDirectoryObjectTest, ChmodChownAndUtimensRewriteTheObjectItself) {
  PutDirectoryObject("d");
  Mount({.object_metadata = false});
  const InodeId dir = Inode("d");
  auto changed = fs().SetAttr(
      dir, {.permissions = 0700, .uid = 11, .gid = 22, .mtime = WallTime(std::chrono::seconds(5))},
      std::nullopt);
  ASSERT_TRUE(changed.ok()) << changed.error().ToString();
  EXPECT_EQ(changed->attributes.type, FileType::kDirectory);
  auto stored = store_.InfoOf("d");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->user_metadata.at("mode"), std::to_string(S_IFDIR | 0700));
  EXPECT_EQ(stored->user_metadata.at("uid"), "11");
  EXPECT_EQ(stored->user_metadata.at("gid"), "22");
  EXPECT_EQ(stored->user_metadata.at("mtime"), "5");
  EXPECT_EQ(stored->content_type, "application/x-directory") << "the copy lost its type";
  EXPECT_FALSE(store_.InfoOf("d/").has_value()) << "chmod made a second marker";
  Mount({.object_metadata = false});
  auto again = fs().Lookup(kRootInode, "d");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->attributes.permissions, 0700u);
}

TEST_F(FilesystemDirectoryObjectTest, RmdirDeletesTheObjectAndAMarkerBesideIt) {
  PutDirectoryObject("alone");
  PutDirectoryObject("both");
  store_.PutForTest("both/", "", {}, "application/x-directory");
  PutDirectoryObject("emptied");
  store_.PutForTest("emptied/f", "x");
  Mount({.object_metadata = false});
  List(kRootInode);
  ASSERT_EQ(fs().RemoveDirectory(kRootInode, "emptied").error().code, ErrorCode::kNotEmpty);
  ASSERT_TRUE(fs().Unlink(Inode("emptied"), "f").ok());
  for (const char* name : {"alone", "both", "emptied"}) {
    Status removed = fs().RemoveDirectory(kRootInode, name);
    ASSERT_TRUE(removed.ok()) << name << ": " << removed.error().ToString();
    EXPECT_FALSE(store_.InfoOf(name).has_value()) << name << " is still in S3";
    EXPECT_FALSE(store_.InfoOf(std::string(name) + "/").has_value()) << name << "/ is still in S3";
    auto gone = fs().Lookup(kRootInode, name);
    ASSERT_TRUE(gone.ok());
    EXPECT_EQ(gone->inode, 0u) << name << " still shows after rmdir";
  }
}

TEST_F(FilesystemDirectoryObjectTest, RenameMovesTheObjectWithWhatIsBelowIt) {
  PutDirectoryObject("d");
  store_.PutForTest("d/child", "x");
  PutDirectoryObject("empty-target");
  Mount({.object_metadata = false});
  ASSERT_EQ(fs().Lookup(kRootInode, "d")->attributes.type, FileType::kDirectory);
  Status renamed = fs().Rename(kRootInode, "d", kRootInode, "e", RenameMode::kReplace);
  ASSERT_TRUE(renamed.ok()) << renamed.error().ToString();
  EXPECT_FALSE(store_.InfoOf("d").has_value()) << "the directory object stayed behind";
  EXPECT_FALSE(store_.InfoOf("d/child").has_value());
  auto moved = store_.InfoOf("e");
  ASSERT_TRUE(moved.has_value()) << "the directory object did not move";
  EXPECT_EQ(moved->content_type, "application/x-directory");
  EXPECT_EQ(moved->user_metadata.at("mode"), std::to_string(S_IFDIR | 0750));
  EXPECT_EQ(store_.BodyOf("e/child"), "x");
  // Onto an empty directory object: it is replaced (deleted), as an empty directory is.
  renamed = fs().Rename(kRootInode, "e", kRootInode, "empty-target", RenameMode::kReplace);
  ASSERT_TRUE(renamed.ok()) << renamed.error().ToString();
  EXPECT_EQ(store_.BodyOf("empty-target/child"), "x");
  auto target = store_.InfoOf("empty-target");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->content_type, "application/x-directory");
  EXPECT_FALSE(store_.InfoOf("e").has_value());
}

}  // namespace
}  // namespace s3mount
