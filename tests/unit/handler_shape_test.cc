// Tests of the FUSE handler shape (src/fuse/handler_shape.h) without the kernel: an Error
// becomes one error reply through ErrnoOf, no exception escapes and none causes a second
// reply, and what an undelivered reply would have handed to the kernel (lookup references of
// entries and readdirplus entries, the handle of a create) goes back to the Filesystem, as
// its inode count shows.
#include "fuse/handler_shape.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "s3mount/fs/filesystem.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;

// The libfuse side of a request, recorded.
struct FakeRequest {
  bool replied() const { return replied_; }
  void ReplyError(int code) {
    replied_ = true;
    errors.push_back(code);
  }
  void Reply() { replied_ = true; }

  bool replied_ = false;
  std::vector<int> errors;  // every error reply sent, in order
};

TEST(ServeRequestTest, AnErrorIsRepliedOnceThroughErrnoOf) {
  FakeRequest request;
  ServeRequest(request, "lookup",
               [] { return Status(MakeError(ErrorCode::kNotFound, "no such key")); });
  EXPECT_EQ(request.errors, std::vector<int>{ENOENT});
  FakeRequest denied;
  ServeRequest(denied, "open",
               [] { return Status(MakeError(ErrorCode::kAccessDenied, "denied")); });
  EXPECT_EQ(denied.errors, std::vector<int>{EACCES});
}

TEST(ServeRequestTest, ABodyThatRepliedGetsNoErrorReply) {
  FakeRequest request;
  ServeRequest(request, "getattr", [&] {
    request.Reply();
    return OkStatus();
  });
  EXPECT_TRUE(request.replied());
  EXPECT_TRUE(request.errors.empty()) << "a second reply was sent after the body's own";
}

TEST(ServeRequestTest, ExceptionsBecomeEioOrEnomem) {
  FakeRequest out_of_memory;
  ServeRequest(out_of_memory, "read", []() -> Status { throw std::bad_alloc(); });
  EXPECT_EQ(out_of_memory.errors, std::vector<int>{ENOMEM});
  FakeRequest logic;
  ServeRequest(logic, "write", []() -> Status { throw std::logic_error("broken"); });
  EXPECT_EQ(logic.errors, std::vector<int>{EIO});
  FakeRequest odd;
  ServeRequest(odd, "statfs", []() -> Status { throw 42; });
  EXPECT_EQ(odd.errors, std::vector<int>{EIO}) << "a non-std exception must be caught too";
}

TEST(ServeRequestTest, AnExceptionAfterTheReplySendsNoSecondReply) {
  FakeRequest request;
  ServeRequest(request, "release", [&]() -> Status {
    request.Reply();
    throw std::runtime_error("after the reply");
  });
  EXPECT_TRUE(request.errors.empty()) << "a request was answered twice";
}

// forget has no reply; its Request's ReplyError only finishes it (fuse_reply_none), and must
// happen exactly once even when the Filesystem throws.
TEST(ServeRequestTest, AForgetThatThrowsIsStillFinishedOnce) {
  FakeRequest forget;
  ServeRequest(forget, "forget", []() -> Status { throw std::bad_alloc(); });
  EXPECT_EQ(forget.errors.size(), 1u);
}

constexpr Caller kUser{1234, 5678, 022};

class HandoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = testing::TempDir::Create("s3mount-handover-test");
    ASSERT_TRUE(root.ok()) << root.error().ToString();
    staging_root_ = std::move(root).value();
    store_.PutForTest("file", "data");
    for (const char* name : {"d/a", "d/b", "d/c"}) store_.PutForTest(name, "x");
    FilesystemOptions options;
    options.staging_directory = staging_root_->File("staging");
    auto created = Filesystem::Create(store_, clock_, metadata_, blocks_, std::move(options));
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    filesystem_ = std::move(created).value();
  }
  void TearDown() override { filesystem_.reset(); }
  Filesystem& fs() { return *filesystem_; }

  InodeId LookupInode(InodeId parent, const std::string& name) {
    auto entry = fs().Lookup(parent, name);
    EXPECT_TRUE(entry.ok()) << name << ": " << entry.error().ToString();
    return entry.ok() ? entry->inode : 0;
  }

  std::unique_ptr<testing::TempDir> staging_root_;  // removed after the file system
  FakeClock clock_;
  FakeObjectStore store_{clock_};
  MetadataCache metadata_{MetadataCacheOptions{}};
  BlockCache blocks_{BlockCacheOptions{}};
  std::unique_ptr<Filesystem> filesystem_;
};

TEST_F(HandoverTest, AnUndeliveredLookupGivesItsReferenceBack) {
  Handover handover(fs(), 1);
  const InodeId file = LookupInode(kRootInode, "file");
  ASSERT_NE(file, 0u);
  EXPECT_TRUE(handover.Add(file));
  ASSERT_EQ(fs().inode_count(), 2u) << "root and the file";
  EXPECT_EQ(handover.Settle(-ENOENT), -ENOENT);  // fuse_reply_entry: interrupted
  EXPECT_EQ(fs().inode_count(), 1u) << "the file's lookup reference was not given back";
}

TEST_F(HandoverTest, ADeliveredLookupKeepsItsReference) {
  {
    Handover handover(fs(), 1);
    handover.Add(LookupInode(kRootInode, "file"));
    handover.Settle(0);
  }
  EXPECT_EQ(fs().inode_count(), 2u) << "the kernel's reference was dropped after delivery";
}

TEST_F(HandoverTest, AHandlerThatLeavesWithoutReplyingGivesItBack) {
  try {
    Handover handover(fs(), 1);
    handover.Add(LookupInode(kRootInode, "file"));
    throw std::runtime_error("the reply was never built");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(fs().inode_count(), 1u);
}

TEST_F(HandoverTest, ANegativeEntryHandsNothing) {
  Handover handover(fs(), 1);
  auto missing = fs().Lookup(kRootInode, "missing");
  ASSERT_TRUE(missing.ok()) << missing.error().ToString();
  ASSERT_EQ(missing->inode, 0u);
  EXPECT_TRUE(handover.Add(missing->inode));
  handover.Settle(-ENOENT);
  EXPECT_EQ(fs().inode_count(), 1u);
}

TEST_F(HandoverTest, PastItsCapacityAReferenceIsGivenBackAtOnce) {
  const InodeId file = LookupInode(kRootInode, "file");
  const InodeId d = LookupInode(kRootInode, "d");
  Handover handover(fs(), 1);
  EXPECT_TRUE(handover.Add(file));
  EXPECT_FALSE(handover.Add(d)) << "a reference past the capacity was accepted";
  EXPECT_EQ(fs().inode_count(), 2u) << "d's reference was not given back at once";
  handover.Settle(0);
  EXPECT_EQ(fs().inode_count(), 2u);
}

// readdirplus of d: ".", ".." and three files, of which only the files carry a reference.
TEST_F(HandoverTest, AnUndeliveredReaddirplusGivesBackItsEntriesOnly) {
  const InodeId d = LookupInode(kRootInode, "d");
  ASSERT_EQ(fs().inode_count(), 2u);
  auto handle = fs().OpenDir(d);
  ASSERT_TRUE(handle.ok()) << handle.error().ToString();
  size_t entries = 0;
  {
    Handover handover(fs(), 16);
    Status read = fs().ReadDir(*handle, 0, /*plus=*/true, [&](const DirectoryEntry& entry) {
      ++entries;
      return handover.Add(entry);
    });
    ASSERT_TRUE(read.ok()) << read.error().ToString();
    EXPECT_EQ(fs().inode_count(), 5u) << "root, d and the three files";
    handover.Settle(-ENOENT);
  }
  fs().ReleaseDir(*handle);
  EXPECT_EQ(entries, 5u);
  EXPECT_EQ(fs().inode_count(), 2u)
      << "the files' references must go back, and \".\" / \"..\" (which took none) must not";
  EXPECT_EQ(LookupInode(kRootInode, "d"), d) << "d was forgotten through its \".\" entry";
}

TEST_F(HandoverTest, AnUndeliveredCreateReleasesItsHandleAndReference) {
  {
    Handover handover(fs(), 1);
    auto created = fs().Create(kRootInode, "new", 0644, false, {.write = true}, kUser);
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    handover.AddHandle(created->file.handle);
    handover.Add(created->entry.inode);
    EXPECT_EQ(fs().inode_count(), 2u);
    handover.Settle(-ENOENT);  // fuse_reply_create: interrupted
  }
  EXPECT_EQ(fs().inode_count(), 1u) << "the created file's reference or handle was kept";
}

}  // namespace
}  // namespace s3mount
