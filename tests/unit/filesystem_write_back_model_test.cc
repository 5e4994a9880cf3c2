// Regression tests for divergences the reference-model test (tests/unit/reference_model/)
// found with write-back (-o writeback), each reduced to the few calls that show it, on the
// fake store: what broke is named in each test's comment and failure messages.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_fixture.h"

namespace s3mount {
namespace {

constexpr Caller kUser = testing::kFixtureUser;

class FilesystemWriteBackModelTest : public testing::FilesystemFixture {
 protected:
  void SetUp() override {
    FilesystemOptions options;
    options.write_back = true;
    options.write_back_threads = 2;
    Mount(std::move(options));
  }
};

// Seed 223: the last close of a file unlinked while open queues its (empty) upload and holds
// its inode meanwhile. The hold looked the inode up again by its old name, which a directory
// had taken since: the directory lost its inode number, and a file open below it showed the
// size S3 had instead of the size written through the open handle.
TEST_F(FilesystemWriteBackModelTest, ClosingAFileUnlinkedWhileOpenLeavesItsOldNameAlone) {
  auto unlinked = fs().Create(kRootInode, "a", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(unlinked.ok()) << unlinked.error().ToString();
  ASSERT_TRUE(fs().Write(unlinked->file.handle, 0, "old").ok());
  ASSERT_TRUE(fs().Unlink(kRootInode, "a").ok());
  auto directory = fs().MakeDirectory(kRootInode, "a", 0755, kUser);
  ASSERT_TRUE(directory.ok()) << directory.error().ToString();
  auto inner = fs().Create(directory->inode, "f", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(inner.ok()) << inner.error().ToString();
  ASSERT_TRUE(fs().Write(inner->file.handle, 0, "written").ok());

  Close(unlinked->file.handle);

  auto looked_up = fs().Lookup(kRootInode, "a");
  ASSERT_TRUE(looked_up.ok()) << looked_up.error().ToString();
  EXPECT_EQ(looked_up->inode, directory->inode)
      << "closing the unlinked file 'a' took the name 'a' from the directory now there";
  EXPECT_EQ(looked_up->attributes.type, FileType::kDirectory);
  auto file = fs().Lookup(looked_up->inode, "f");
  ASSERT_TRUE(file.ok()) << file.error().ToString();
  EXPECT_EQ(file->inode, inner->entry.inode) << "a/f, open for writing, changed inode";
  EXPECT_EQ(file->attributes.size, 7u) << "a/f must show the size written through its handle";
  Close(inner->file.handle);
  fs().DrainWriteBack();
  EXPECT_EQ(store_.BodyOf("a/f"), "written");
  EXPECT_FALSE(store_.BodyOf("a").has_value()) << "the unlinked file must not be uploaded";
}

// Seeds 59, 241, 383 and others (under load): a listing read while an unlinked file's DELETE
// was queued holds the name, hidden by the queued DELETE. A directory handle that took that
// listing and read its entries after the DELETE had run showed the unlinked name again.
TEST_F(FilesystemWriteBackModelTest, AListingReadBeforeAQueuedDeleteRanDoesNotShowTheName) {
  store_.PutForTest("a", "kept");
  store_.PutForTest("b", "unlinked");
  gated_.Close(testing::Operation::kDeleteObject);
  ASSERT_TRUE(fs().Unlink(kRootInode, "b").ok());
  ASSERT_TRUE(gated_.WaitUntilHeld(1, std::chrono::seconds(30))) << "the DELETE of b never ran";
  store_.ResetCounts();
  EXPECT_EQ(List(kRootInode).count("b"), 0u) << "b shows while its DELETE is queued";
  // A second listing takes the (cached) listing, which still has b, and stops after "a".
  auto handle = fs().OpenDir(kRootInode);
  ASSERT_TRUE(handle.ok()) << handle.error().ToString();
  std::set<std::string> names;
  uint64_t offset = 0;
  Status first = fs().ReadDir(*handle, 0, true, [&](const DirectoryEntry& entry) {
    offset = entry.next_offset;
    names.insert(entry.name);
    if (entry.name != "." && entry.name != ".." && entry.entry.inode != 0)
      fs().Forget(entry.entry.inode, 1);
    return entry.name != "a";
  });
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_TRUE(names.contains("a"));
  clock_.Advance(std::chrono::milliseconds(1));  // the DELETE runs after that listing
  gated_.Open();
  fs().DrainWriteBack();
  Status rest = fs().ReadDir(*handle, offset, true, [&](const DirectoryEntry& entry) {
    names.insert(entry.name);
    if (entry.name != "." && entry.name != ".." && entry.entry.inode != 0)
      fs().Forget(entry.entry.inode, 1);
    return true;
  });
  ASSERT_TRUE(rest.ok()) << rest.error().ToString();
  fs().ReleaseDir(*handle);
  EXPECT_FALSE(names.contains("b")) << "the listing showed b after its DELETE had run";
  // Only a is described: a HEAD of b, queued by the readahead while its DELETE was queued and
  // sent once the (fake) clock had moved, was as new as the DELETE's outcome and replaced it.
  EXPECT_EQ(store_.counts().head_object, 1) << "b, being deleted, was HEADed";
  EXPECT_EQ(List(kRootInode).count("b"), 0u);
  EXPECT_FALSE(store_.BodyOf("b").has_value());
}

}  // namespace
}  // namespace s3mount
