// Tests that a path keeps its inode number when the kernel forgets the inode. The kernel
// evicts unused inodes whenever it likes (memory pressure, drop_caches) and looks the name up
// again later; GNU tar extracts a symlink whose target holds ".." through a placeholder file
// and replaces it only if the placeholder's st_ino is unchanged at the end, so a new number
// after an eviction left the placeholder in place (MountToolsTest.TarExtractsAndArchives-
// TheSameTree under load). Also: names that were unlinked, renamed over or retyped get new
// numbers, and the remembered inodes are bounded.
#include <gtest/gtest.h>

#include <memory>

#include "fs/inode_table.h"
#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_fixture.h"

namespace s3mount {
namespace {

constexpr Caller kUser = testing::kFixtureUser;

class InodeNumbersTest : public testing::FilesystemFixture {
 protected:
  void SetUp() override { Mount(); }

  InodeId Mkdir(InodeId parent, const std::string& name) {
    auto made = fs().MakeDirectory(parent, name, 0755, kUser);
    EXPECT_TRUE(made.ok()) << name << ": " << made.error().ToString();
    return made.ok() ? made->inode : 0;
  }
  // open(O_WRONLY | O_CREAT [| O_EXCL], mode), then close: the kernel keeps the create's
  // lookup reference.
  InodeId CreateAndClose(InodeId parent, const std::string& name, bool exclusive,
                         uint32_t mode = 0) {
    auto created = fs().Create(parent, name, mode, exclusive, {.write = true}, kUser);
    EXPECT_TRUE(created.ok()) << name << ": " << created.error().ToString();
    if (!created.ok()) return 0;
    Close(created->file.handle);
    return created->entry.inode;
  }
};

// What tar does for x/nested/link -> ../top.txt, with `echo 3 > drop_caches` (the kernel
// forgets the idle placeholder and its directories, children first) before its final lstat.
TEST_F(InodeNumbersTest, TarPlaceholderKeepsItsNumberAcrossAKernelEviction) {
  const InodeId x = Mkdir(kRootInode, "x");
  const InodeId nested = Mkdir(x, "nested");
  const InodeId placeholder = CreateAndClose(nested, "link", /*exclusive=*/true);
  ASSERT_NE(placeholder, 0u);
  fs().Forget(placeholder, 1);
  fs().Forget(nested, 1);
  fs().Forget(x, 1);
  EXPECT_EQ(fs().inode_count(), 1u) << "only the root is still referenced by the kernel";

  EXPECT_EQ(Inode("x"), x) << "x got a new inode number after the kernel forgot it";
  EXPECT_EQ(Inode("x/nested"), nested) << "x/nested got a new inode number";
  EXPECT_EQ(Inode("x/nested/link"), placeholder)
      << "the placeholder's st_ino changed: tar would leave it instead of the symlink";
  EXPECT_EQ(fs().inode_count(), 4u) << "the lookups took one reference each";
}

TEST_F(InodeNumbersTest, DeferredCreateKeepsItsNumberAfterUploadAndEviction) {
  const InodeId file = CreateAndClose(kRootInode, "a.txt", /*exclusive=*/false, 0644);
  ASSERT_NE(file, 0u);
  EXPECT_TRUE(store_.InfoOf("a.txt").has_value()) << "the close uploads the file";
  fs().Forget(file, 1);
  EXPECT_EQ(Inode("a.txt"), file);
  fs().Forget(file, 1);
  clock_.Advance(std::chrono::hours(1));  // the metadata cache expired too: a HEAD now
  EXPECT_EQ(Inode("a.txt"), file);
}

TEST_F(InodeNumbersTest, ManyLookupsAndForgetsKeepOneNumber) {
  const InodeId dir = Mkdir(kRootInode, "d");
  const InodeId file = CreateAndClose(dir, "f", true, 0644);
  for (int round = 0; round < 5; ++round) {
    fs().Forget(file, 1);
    fs().Forget(dir, 1);
    EXPECT_EQ(Inode("d/f"), file) << "round " << round;
    EXPECT_EQ(Inode("d"), dir) << "round " << round;  // a second reference on d
    fs().Forget(dir, 1);
  }
}

TEST_F(InodeNumbersTest, AnUnlinkedNameGetsANewNumber) {
  const InodeId old_file = CreateAndClose(kRootInode, "f", true, 0644);
  fs().Forget(old_file, 1);  // evicted, remembered
  ASSERT_EQ(Inode("f"), old_file);
  ASSERT_TRUE(fs().Unlink(kRootInode, "f").ok());
  fs().Forget(old_file, 1);
  const InodeId new_file = CreateAndClose(kRootInode, "f", true, 0644);
  EXPECT_NE(new_file, old_file) << "a new file must not take the unlinked file's number";
}

TEST_F(InodeNumbersTest, ARenamedFileKeepsItsNumberAtItsNewName) {
  const InodeId dir = Mkdir(kRootInode, "d");
  const InodeId file = CreateAndClose(dir, "f", true, 0644);
  fs().Forget(file, 1);  // evicted: remembered under d/f
  const InodeId other = CreateAndClose(kRootInode, "g", true, 0644);
  ASSERT_TRUE(fs().Rename(kRootInode, "g", dir, "f", RenameMode::kReplace).ok());
  fs().Forget(other, 1);
  EXPECT_EQ(Inode("d/f"), other) << "d/f is now the renamed file";
  EXPECT_NE(Inode("d/f"), file);
}

TEST(InodeTableTest, RemembersAtMostTheNewestForgottenInodes) {
  InodeTable table(2);
  std::vector<InodeId> ids;
  for (const char* name : {"a", "b", "c"}) {
    auto info = table.Acquire(kRootInode, name, FileType::kRegular);
    ASSERT_TRUE(info.ok());
    ids.push_back(info->id);
  }
  for (InodeId id : ids) table.Forget(id, 1);  // a forgotten first
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.remembered(), 2u);
  EXPECT_FALSE(table.Get(ids[0]).has_value()) << "the oldest forgotten inode is dropped";
  EXPECT_NE(table.Acquire(kRootInode, "a", FileType::kRegular)->id, ids[0]);
  EXPECT_EQ(table.Acquire(kRootInode, "b", FileType::kRegular)->id, ids[1]);
  EXPECT_EQ(table.Acquire(kRootInode, "c", FileType::kRegular)->id, ids[2]);
  EXPECT_EQ(table.remembered(), 0u);
}

TEST(InodeTableTest, WithoutRememberingForgottenInodesAreDropped) {
  InodeTable table(0);
  const InodeId a = table.Acquire(kRootInode, "a", FileType::kRegular)->id;
  table.Forget(a, 1);
  EXPECT_FALSE(table.Get(a).has_value());
  EXPECT_EQ(table.remembered(), 0u);
}

TEST(InodeTableTest, ARetypedNameGetsANewNumberAndTheOldInodeIsDropped) {
  InodeTable table;
  const InodeId file = table.Acquire(kRootInode, "x", FileType::kRegular)->id;
  table.Forget(file, 1);
  const InodeId dir = table.Acquire(kRootInode, "x", FileType::kDirectory)->id;
  EXPECT_NE(dir, file);
  EXPECT_FALSE(table.Get(file).has_value());
  EXPECT_EQ(table.remembered(), 0u);
}

TEST(InodeTableTest, RenamingADirectoryRepathsItsRememberedChildren) {
  InodeTable table;
  const InodeId dir = table.Acquire(kRootInode, "d", FileType::kDirectory)->id;
  const InodeId file = table.Acquire(dir, "f", FileType::kRegular)->id;
  table.Forget(file, 1);
  table.Move(kRootInode, "d", kRootInode, "e");
  ASSERT_TRUE(table.Get(file).has_value());
  EXPECT_EQ(table.Get(file)->path, "e/f");
  EXPECT_EQ(table.Acquire(dir, "f", FileType::kRegular)->id, file);
}

TEST(InodeTableTest, DroppingADirectoryDropsWhatIsRememberedBelowIt) {
  InodeTable table(1);
  const InodeId dir = table.Acquire(kRootInode, "d", FileType::kDirectory)->id;
  const InodeId file = table.Acquire(dir, "f", FileType::kRegular)->id;
  const InodeId other = table.Acquire(kRootInode, "g", FileType::kRegular)->id;
  table.Forget(file, 1);
  table.Detach(kRootInode, "d");  // rmdir (of an implicit directory S3 lost)
  table.Forget(dir, 1);
  EXPECT_FALSE(table.Get(dir).has_value());
  EXPECT_FALSE(table.Get(file).has_value()) << "d/f can never be looked up again";
  table.Forget(other, 1);
  EXPECT_EQ(table.remembered(), 1u);
  EXPECT_EQ(table.size(), 1u);
}

}  // namespace
}  // namespace s3mount
