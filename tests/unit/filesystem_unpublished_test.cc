// Tests that a file being written is never published before its close or fsync: a streamed
// file whose writer seeks back, reads back, truncates or unlinks it, or runs short of write
// memory, stays invisible in S3 (no CompleteMultipartUpload, no object) until it is closed,
// and then arrives whole (a rename uploads it whole under its new name, as before). The stream
// keeps a local copy in its staging file for this; when the staging area cannot hold it, what would
// need the copy fails instead.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::Operation;
using testing::Pattern;
using testing::SameBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr Caller kUser = testing::kFixtureUser;

class FilesystemUnpublishedTest : public testing::FilesystemFixture {
 protected:
  // Creates `name` and writes `data` from offset 0, 1 MiB at a time, leaving it open.
  uint64_t CreateAndStream(const std::string& name, const std::string& data) {
    auto created = fs().Create(kRootInode, name, 0644, false, {.write = true}, kUser);
    EXPECT_TRUE(created.ok()) << name;
    if (!created.ok()) return 0;
    for (size_t at = 0; at < data.size(); at += kMiB) {
      auto written = fs().Write(created->file.handle, at, std::string_view(data).substr(at, kMiB));
      EXPECT_TRUE(written.ok()) << name << " at " << at << ": " << written.error().ToString();
    }
    return created->file.handle;
  }
  void Close(uint64_t handle) {
    Status flushed = fs().Flush(handle);
    EXPECT_TRUE(flushed.ok()) << flushed.error().ToString();
    fs().Release(handle);
  }
  // Nothing of `key` is visible in S3 and no upload of it has been completed.
  void ExpectUnpublished(const std::string& key, const std::string& when) {
    EXPECT_FALSE(store_.InfoOf(key).has_value()) << key << " was published " << when;
    EXPECT_EQ(store_.counts().complete_multipart, 0) << "an upload was completed " << when;
  }
};

TEST_F(FilesystemUnpublishedTest, StreamedFileWhoseWriterSeeksBackIsPublishedOnlyAtClose) {
  Mount(SmallPartOptions());
  std::string data = Pattern(12 * kMiB);
  const uint64_t handle = CreateAndStream("f", data);
  ASSERT_GE(store_.counts().upload_part, 1) << "the test needs parts sent before the seek";
  ASSERT_TRUE(fs().Write(handle, 100, "PATCH").ok());
  data.replace(100, 5, "PATCH");
  ExpectUnpublished("f", "when its writer wrote before the streamed end");
  Close(handle);
  EXPECT_TRUE(SameBytes(store_.BodyOf("f").value_or(""), data));
  EXPECT_TRUE(store_.PendingUploads().empty()) << "the abandoned stream's upload was left open";
}

TEST_F(FilesystemUnpublishedTest, ReadingBackStreamedBytesPublishesNothing) {
  Mount(SmallPartOptions());
  const std::string data = Pattern(12 * kMiB);
  const uint64_t handle = CreateAndStream("f", data);
  EXPECT_EQ(ReadHandle(handle, 3 * kMiB, 4096), data.substr(3 * kMiB, 4096));
  ExpectUnpublished("f", "when streamed bytes were read back");
  Close(handle);
  EXPECT_TRUE(SameBytes(store_.BodyOf("f").value_or(""), data));
}

TEST_F(FilesystemUnpublishedTest, TruncatingAStreamedFilePublishesNothing) {
  Mount(SmallPartOptions());
  const std::string data = Pattern(12 * kMiB);
  const uint64_t handle = CreateAndStream("f", data);
  auto created = fs().Lookup(kRootInode, "f");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(fs().SetAttr(created->inode, {.size = 7 * kMiB}, handle).ok());
  ExpectUnpublished("f", "when it was truncated");
  Close(handle);
  EXPECT_TRUE(SameBytes(store_.BodyOf("f").value_or(""), data.substr(0, 7 * kMiB)));
}

TEST_F(FilesystemUnpublishedTest, AWriterShortOfMemorySpillsWithoutPublishing) {
  FilesystemOptions options = SmallPartOptions();
  // Streams may hold 9 MiB (a 1 MiB tail, one 5 MiB part in flight, a 3 MiB tail); the
  // other 5 MiB, one part, are left to uploads at close.
  options.write_memory = 14 * kMiB;
  Mount(std::move(options));
  std::string a = Pattern(6 * kMiB, 'a');
  const std::string b = Pattern(8 * kMiB, 'q');
  const uint64_t first = CreateAndStream("a", a);  // part 1 of "a" is uploaded
  // The part goes up on the upload pool: wait for it (a slow machine takes its time).
  for (int i = 0; i < 3000 && store_.counts().upload_part < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(store_.counts().upload_part, 1) << "part 1 of a never reached the store";
  // "b" takes all the memory: its first part is held in flight, its tail holds the rest.
  gated_.Close(Operation::kUploadPart);
  const uint64_t second = CreateAndStream("b", b);
  ASSERT_TRUE(gated_.WaitUntilHeld(1, std::chrono::seconds(30))) << "b's part never started";
  // "a" finds no memory and has no part of its own in flight: it must spill, not complete.
  // (Completing would need its tail uploaded as a part: that one would wait at the gate.)
  auto more = std::async(std::launch::async,
                         [&] { return fs().Write(first, a.size(), std::string(kMiB, 'z')); });
  (void)more.wait_for(std::chrono::seconds(5));  // lets a completing write reach the gate
  gated_.Open();
  ASSERT_TRUE(more.get().ok());
  a += std::string(kMiB, 'z');
  ExpectUnpublished("a", "when the write memory ran short");
  Close(first);
  Close(second);
  EXPECT_TRUE(SameBytes(store_.BodyOf("a").value_or(""), a));
  EXPECT_TRUE(SameBytes(store_.BodyOf("b").value_or(""), b));
  EXPECT_TRUE(store_.PendingUploads().empty());
}

TEST_F(FilesystemUnpublishedTest, RenamingAStreamedFileUploadsItWholeUnderItsNewNameOnly) {
  // A rename of a file not uploaded yet uploads it under its new name (it may replace an
  // object there, which must not come back if the file is unlinked before its close): the
  // upload holds every byte written so far, never a part of the stream.
  Mount(SmallPartOptions());
  const std::string data = Pattern(12 * kMiB);
  const uint64_t handle = CreateAndStream("old", data);
  ASSERT_TRUE(fs().Rename(kRootInode, "old", kRootInode, "new", RenameMode::kReplace).ok());
  EXPECT_FALSE(store_.InfoOf("old").has_value()) << "the old name was published";
  EXPECT_TRUE(SameBytes(store_.BodyOf("new").value_or(""), data)) << "not whole at the rename";
  ASSERT_TRUE(fs().Write(handle, data.size(), "more").ok());
  Close(handle);
  EXPECT_FALSE(store_.InfoOf("old").has_value());
  EXPECT_TRUE(SameBytes(store_.BodyOf("new").value_or(""), data + "more"));
  EXPECT_TRUE(store_.PendingUploads().empty());
}

TEST_F(FilesystemUnpublishedTest, UnlinkingAStreamedFileWhileOpenPublishesNothing) {
  Mount(SmallPartOptions());
  const std::string data = Pattern(12 * kMiB);
  const uint64_t handle = CreateAndStream("f", data);
  ASSERT_TRUE(fs().Unlink(kRootInode, "f").ok());
  ExpectUnpublished("f", "when it was unlinked while open");
  EXPECT_EQ(ReadHandle(handle, 5 * kMiB, 10), data.substr(5 * kMiB, 10));
  Close(handle);
  EXPECT_FALSE(store_.InfoOf("f").has_value()) << "an unlinked file must not come back";
  EXPECT_TRUE(store_.PendingUploads().empty());
}

TEST_F(FilesystemUnpublishedTest, WithoutRoomForALocalCopyOnlyWritesAtTheEndWork) {
  FilesystemOptions options = SmallPartOptions();
  options.staging_capacity = 2 * kMiB;  // too small for a copy of the streamed file
  Mount(std::move(options));
  const std::string data = Pattern(12 * kMiB);
  const uint64_t handle = CreateAndStream("f", data);
  auto seek_back = fs().Write(handle, 100, "PATCH");
  ASSERT_FALSE(seek_back.ok()) << "a write before the streamed end needs the bytes sent";
  EXPECT_EQ(seek_back.error().code, ErrorCode::kNoSpace) << seek_back.error().ToString();
  ExpectUnpublished("f", "when a write could not be kept");
  ASSERT_TRUE(fs().Write(handle, data.size(), "tail").ok()) << "appending still works";
  Close(handle);
  EXPECT_TRUE(SameBytes(store_.BodyOf("f").value_or(""), data + "tail"));
}

}  // namespace
}  // namespace s3mount
