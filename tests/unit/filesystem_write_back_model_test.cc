// Regression tests for divergences the reference-model test (tests/unit/reference_model/)
// found with write-back (-o writeback), each reduced to the few calls that show it, on the
// fake store: what broke is named in each test's comment and failure messages.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace s3mount
