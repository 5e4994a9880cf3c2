// Tests of HandleTable on its own: handle ids, the OpenFile shared by an inode's attached
// handles, the last close, read-only handles adopted by an OpenFile, and retiring records.
#include "fs/handle_table.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;

class HandleTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = testing::TempDir::Create("s3mount-handle-table-test");
    ASSERT_TRUE(root.ok());
    root_ = std::move(root).value();
    auto staging = StagingArea::Create(root_->File("staging"), uint64_t{1} << 30);
    ASSERT_TRUE(staging.ok()) << staging.error().ToString();
    staging_ = std::move(staging).value();
  }

  std::shared_ptr<OpenFile> NewFile(const std::string& path) {
    OpenFileServices services{.store = store_,
                              .upload_pool = pool_,
                              .memory = memory_,
                              .uploader = uploader_,
                              .staging = *staging_,
                              .fetcher = fetcher_};
    return std::make_shared<OpenFile>(services, OpenFileInit{.path = path, .key = path});
  }
  std::shared_ptr<FileHandle> Handle(InodeId inode, bool attached) {
    auto handle = std::make_shared<FileHandle>();
    handle->inode = inode;
    handle->attached = attached;
    if (!attached) {
      handle->reader = std::make_shared<FileReader>(fetcher_, ObjectVersion{"k", "\"e1\"", 5},
                                                    size_t{1} << 20, size_t{1} << 20);
    }
    return handle;
  }

  std::unique_ptr<testing::TempDir> root_;
  FakeClock clock_;
  FakeObjectStore store_{clock_};
  ThreadPool pool_{2};
  MemoryBudget memory_{uint64_t{64} << 20};
  ObjectUploader uploader_{store_, pool_, memory_, UploaderOptions{}};
  std::unique_ptr<StagingArea> staging_;
  BlockCache blocks_{BlockCacheOptions{}};
  BufferPool buffers_{size_t{8} << 20};
  BlockFetcher fetcher_{store_, blocks_, pool_, buffers_, size_t{1} << 20};
  HandleTable table_;
};

// Found by the reference-model test with write-back (a close's size lost now and then): an
// open saw the inode's OpenFile, the write-back worker retired it (uploaded, no handle), and
// the open then attached to the retired file, in a record no longer held.
TEST_F(HandleTableTest, AttachingToAnOpenFileRetiredMeanwhileIsRefused) {
  auto file = NewFile("a");
  ASSERT_TRUE(table_.AttachNewFile(7, file));
  const uint64_t id = table_.AddFile(Handle(7, true));
  auto released = table_.TakeFile(id);
  ASSERT_EQ(released.last, file);
  const std::shared_ptr<OpenFile> seen = table_.OpenFileOf(7);
  ASSERT_EQ(seen, file);
  ASSERT_EQ(table_.RetireIdle(7, file.get(), false).outcome, HandleTable::Retire::kErased);
  int made = 0;
  auto make = [&] {
    ++made;
    return NewFile("a");
  };
  EXPECT_EQ(table_.AttachHandle(7, seen.get(), make), nullptr)
      << "the OpenFile seen was retired: the open must look again";
  EXPECT_EQ(made, 0);
  EXPECT_EQ(table_.OpenFileOf(7), nullptr) << "a refused attach leaves no record behind";
  auto fresh = table_.AttachHandle(7, nullptr, make);
  EXPECT_NE(fresh, nullptr);
  EXPECT_NE(fresh, file) << "looking again makes a new OpenFile";
  EXPECT_EQ(made, 1);
}

TEST_F(HandleTableTest, AttachedHandlesShareOneOpenFileAndTheLastCloseReturnsIt) {
  auto file = NewFile("a");
  int made = 0;
  auto make = [&] {
    ++made;
    return file;
  };
  EXPECT_EQ(table_.AttachHandle(7, nullptr, make), file);
  EXPECT_EQ(table_.AttachHandle(7, file.get(), make), file);
  EXPECT_EQ(made, 1) << "the second handle reuses the inode's OpenFile";
  const uint64_t first = table_.AddFile(Handle(7, true));
  const uint64_t second = table_.AddFile(Handle(7, true));
  EXPECT_NE(first, second);
  EXPECT_EQ(table_.OpenFileOf(7), file);

  auto released = table_.TakeFile(first);
  ASSERT_NE(released.handle, nullptr);
  EXPECT_EQ(released.last, nullptr) << "another handle is still open";
  released = table_.TakeFile(second);
  EXPECT_EQ(released.last, file) << "the last close hands back the OpenFile to upload";
  EXPECT_EQ(table_.TakeFile(second).handle, nullptr) << "a handle is released once";
  EXPECT_TRUE(table_.HasHandles(7)) << "the record stays until retired";
  EXPECT_EQ(table_.RetireIdle(7, nullptr, false).outcome, HandleTable::Retire::kErased);
  EXPECT_FALSE(table_.HasHandles(7));
  EXPECT_EQ(table_.OpenFileOf(7), nullptr);
}

TEST_F(HandleTableTest, ANewFileIsRefusedWhenTheInodeIsStillOpen) {
  EXPECT_TRUE(table_.AttachNewFile(3, NewFile("x")));
  EXPECT_FALSE(table_.AttachNewFile(3, NewFile("x")));
}

TEST_F(HandleTableTest, ReadOnlyHandlesAreAdoptedByTheInodesOpenFile) {
  const uint64_t reader = table_.AddFile(Handle(9, false));
  EXPECT_TRUE(table_.HasOwnReaders(9));
  ObjectVersion seen;
  auto adopted = table_.AdoptReaders(9, [&](const ObjectVersion& version) {
    seen = version;
    return NewFile("r");
  });
  ASSERT_NE(adopted, nullptr);
  EXPECT_EQ(seen.etag, "\"e1\"") << "made from the version the reader reads";
  EXPECT_FALSE(table_.HasOwnReaders(9));
  auto handle = table_.FileOf(reader);
  ASSERT_NE(handle, nullptr);
  EXPECT_TRUE(handle->attached);
  EXPECT_EQ(table_.ReaderOf(*handle), nullptr);
  EXPECT_EQ(table_.TakeFile(reader).last, adopted) << "the adopted handle is counted";
  EXPECT_EQ(table_.AdoptReaders(10, [&](const ObjectVersion&) { return NewFile("n"); }), nullptr)
      << "no reader, no OpenFile: nothing is made";
  EXPECT_FALSE(table_.HasHandles(10));
}

TEST_F(HandleTableTest, ReadersFollowANewVersion) {
  const uint64_t reader = table_.AddFile(Handle(4, false));
  auto fresh = std::make_shared<FileReader>(fetcher_, ObjectVersion{"k", "\"e2\"", 9},
                                            size_t{1} << 20, size_t{1} << 20);
  table_.ReadersFollow(4, [&] { return fresh; });
  EXPECT_EQ(table_.ReaderOf(*table_.FileOf(reader)), fresh);
}

TEST_F(HandleTableTest, RetireKeepsRecordsInUseDirtyOrOfAnotherFile) {
  auto file = NewFile("d");  // a new file is dirty until its first upload
  ASSERT_TRUE(table_.AttachNewFile(5, file));
  EXPECT_EQ(table_.RetireIdle(5, nullptr, false).outcome, HandleTable::Retire::kInUse)
      << "it has a handle";
  const uint64_t id = table_.AddFile(Handle(5, true));
  EXPECT_EQ(table_.TakeFile(id).last, file);
  EXPECT_TRUE(table_.NeedsHold(5));
  EXPECT_TRUE(table_.MarkHeld(5));
  EXPECT_FALSE(table_.NeedsHold(5)) << "held once";
  EXPECT_EQ(table_.RetireIdle(5, nullptr, true).outcome, HandleTable::Retire::kDirty);
  auto other = NewFile("d");
  EXPECT_EQ(table_.RetireIdle(5, other.get(), false).outcome, HandleTable::Retire::kInUse)
      << "the record holds another OpenFile";
  const auto retired = table_.RetireIdle(5, file.get(), false);
  EXPECT_EQ(retired.outcome, HandleTable::Retire::kErased);
  EXPECT_TRUE(retired.inode_held) << "the held lookup reference is handed back";
}

TEST_F(HandleTableTest, DirectoryHandles) {
  auto directory = std::make_shared<DirectoryHandle>();
  const uint64_t id = table_.AddDirectory(directory);
  EXPECT_EQ(table_.DirectoryOf(id), directory);
  EXPECT_EQ(table_.TakeDirectory(id), directory);
  EXPECT_EQ(table_.DirectoryOf(id), nullptr);
  EXPECT_EQ(table_.TakeDirectory(id), nullptr);
}

}  // namespace
}  // namespace s3mount
