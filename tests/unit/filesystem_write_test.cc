// Tests of the Filesystem's write side on the in-memory fake store: what S3 holds after each
// POSIX-level change (bytes, s3fs metadata, markers), what each change costs in requests,
// streaming multipart uploads, staging with server-side copies of unchanged parts, open
// handles surviving unlink and rename, and failures that keep the data.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "s3mount/fs/filesystem.h"
#include "s3mount/fs/metadata_codec.h"
#include "tests/support/filesystem_fixture.h"
#include "tests/support/new_file_checks.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::Pattern;
using testing::SameBytes;

using testing::Operation;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr Caller kUser = testing::kFixtureUser;

class FilesystemWriteTest : public testing::FilesystemFixture {
 protected:
  void Mount(FilesystemOptions options = {}) {
    options.part_size = 5 * kMiB;
    if (options.write_memory == (uint64_t{256} << 20)) options.write_memory = 64 * kMiB;
    FilesystemFixture::Mount(std::move(options));
  }
  InodeId LookupPath(const std::string& path) { return Inode(path); }

  // Creates `name` in the root with `data`, written `chunk` bytes at a time, and closes it.
  void WriteNewFile(const std::string& name, const std::string& data, size_t chunk = kMiB) {
    Status written = WriteAndClose(name, data, kRootInode, chunk);
    ASSERT_TRUE(written.ok()) << name << ": " << written.error().ToString();
  }
};

TEST_F(FilesystemWriteTest, SmallFileIsOnePutAtCloseWithS3fsMetadata) {
  Mount();
  store_.ResetCounts();
  WriteNewFile("notes.txt", "hello");
  const auto counts = store_.counts();
  EXPECT_EQ(counts.put_object, 1) << "nothing at create, the bytes and metadata at close";
  EXPECT_EQ(counts.create_multipart, 0);
  testing::ExpectNewFileInS3(store_, "notes.txt", "hello");
}

TEST_F(FilesystemWriteTest, ExclusiveCreateOfAKeyAnotherClientMadeFails) {
  Mount();
  ASSERT_EQ(fs().Lookup(kRootInode, "race")->inode, 0u);  // negative entry cached
  store_.PutForTest("race", "theirs");
  auto created = fs().Create(kRootInode, "race", 0644, true, {.write = true}, kUser);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_.BodyOf("race"), "theirs") << "the other client's object must survive";
}

TEST_F(FilesystemWriteTest, ExclusiveCreateFallsBackToACheckWithoutConditionalWrites) {
  Mount();
  const Error unsupported = MakeError(ErrorCode::kNotImplemented, "no If-None-Match here");
  faulty_.FailNext(Operation::kPutObject, unsupported);
  auto created = fs().Create(kRootInode, "fresh", 0644, true, {.write = true}, kUser);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  fs().Release(created->file.handle);
  EXPECT_EQ(store_.BodyOf("fresh"), "");
  ASSERT_EQ(fs().Lookup(kRootInode, "taken")->inode, 0u);  // negative entry cached
  store_.PutForTest("taken", "theirs");
  faulty_.FailNext(Operation::kPutObject, unsupported);
  auto refused = fs().Create(kRootInode, "taken", 0644, true, {.write = true}, kUser);
  ASSERT_FALSE(refused.ok()) << "the fallback must ask S3, not the cache";
  EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_.BodyOf("taken"), "theirs");
}

TEST_F(FilesystemWriteTest, SequentialWriteStreamsAMultipartUploadWhileWriting) {
  Mount();
  const std::string data = Pattern(23 * kMiB);
  store_.ResetCounts();
  auto created = fs().Create(kRootInode, "big.bin", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  for (size_t at = 0; at < 12 * kMiB; at += kMiB) {
    ASSERT_TRUE(fs().Write(created->file.handle, at, std::string_view(data).substr(at, kMiB)).ok());
  }
  EXPECT_EQ(store_.counts().create_multipart, 1) << "parts must start before close";
  for (size_t at = 12 * kMiB; at < data.size(); at += kMiB) {
    ASSERT_TRUE(fs().Write(created->file.handle, at, std::string_view(data).substr(at, kMiB)).ok());
  }
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);
  EXPECT_TRUE(SameBytes(store_.BodyOf("big.bin"), data));
  EXPECT_EQ(store_.counts().upload_part, 5);  // 4 x 5 MiB + the 3 MiB tail
  EXPECT_EQ(store_.counts().complete_multipart, 1);
  EXPECT_TRUE(store_.PendingUploads().empty());
  EXPECT_EQ(store_.InfoOf("big.bin")->user_metadata["mode"], "33188");
}

TEST_F(FilesystemWriteTest, ReadBackWhileWritingAndAfterClose) {
  Mount();
  auto created = fs().Create(kRootInode, "f", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(fs().Write(created->file.handle, 0, "abcdef").ok());
  EXPECT_EQ(ReadHandle(created->file.handle, 2, 10), "cdef");
  EXPECT_EQ(fs().GetAttr(created->entry.inode)->attributes.size, 6u);
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);
  auto opened = fs().Open(created->entry.inode, {});
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(ReadHandle(opened->handle, 0, 100), "abcdef");
  fs().Release(opened->handle);
  EXPECT_EQ(fs().GetAttr(created->entry.inode)->attributes.size, 6u);
}

TEST_F(FilesystemWriteTest, RandomWritesToALargeObjectCopyUnchangedPartsServerSide) {
  const std::string original = Pattern(22 * kMiB);
  store_.PutForTest("db.bin", original);
  Mount();
  const InodeId inode = LookupPath("db.bin");
  const uint64_t handle = OpenForWrite(inode);
  ASSERT_TRUE(fs().Write(handle, 11 * kMiB + 7, "PATCH").ok());
  EXPECT_EQ(ReadHandle(handle, 11 * kMiB + 5, 9),
            original.substr(11 * kMiB + 5, 2) + "PATCH" + original.substr(11 * kMiB + 12, 2));
  store_.ResetCounts();
  ASSERT_TRUE(fs().Flush(handle).ok());
  fs().Release(handle);
  std::string expected = original;
  expected.replace(11 * kMiB + 7, 5, "PATCH");
  EXPECT_TRUE(SameBytes(store_.BodyOf("db.bin"), expected));
  const auto counts = store_.counts();
  EXPECT_EQ(counts.upload_part_copy, 4) << "parts 1, 2, 4, 5 are unchanged";
  EXPECT_EQ(counts.upload_part, 1) << "only the changed part is uploaded";
}

TEST_F(FilesystemWriteTest, AppendAndHolesAndTruncates) {
  store_.PutForTest("log", "0123456789");
  Mount();
  const InodeId inode = LookupPath("log");
  const uint64_t handle = OpenForWrite(inode);
  ASSERT_TRUE(fs().Write(handle, 10, "AB").ok());
  ASSERT_TRUE(fs().Write(handle, 15, "Z").ok());                // a hole of 3 zero bytes
  ASSERT_TRUE(fs().SetAttr(inode, {.size = 14}, handle).ok());  // cuts the Z and one zero
  ASSERT_TRUE(fs().SetAttr(inode, {.size = 16}, handle).ok());  // grows with zeros
  ASSERT_TRUE(fs().Flush(handle).ok());
  fs().Release(handle);
  EXPECT_EQ(store_.BodyOf("log"), std::string("0123456789AB") + std::string(4, '\0'));
  // truncate(2) of a closed file by path is uploaded at once.
  ASSERT_TRUE(fs().SetAttr(inode, {.size = 4}, std::nullopt).ok());
  EXPECT_EQ(store_.BodyOf("log"), "0123");
}

TEST_F(FilesystemWriteTest, OpenWithTruncateReplacesTheContent) {
  store_.PutForTest("f", "old content",
                    {{"mode", "33216"}, {"xattr", "%7B%22user.a%22%3A%22eA%3D%3D%22%7D"}});
  Mount();
  const InodeId inode = LookupPath("f");
  const uint64_t handle = OpenForWrite(inode, true);
  ASSERT_TRUE(fs().Write(handle, 0, "new").ok());
  ASSERT_TRUE(fs().Flush(handle).ok());
  fs().Release(handle);
  EXPECT_EQ(store_.BodyOf("f"), "new");
  auto info = store_.InfoOf("f");
  EXPECT_EQ(info->user_metadata["mode"], "33216") << "the mode (0700) survives a rewrite";
  EXPECT_EQ(info->user_metadata["xattr"], "%7B%22user.a%22%3A%22eA%3D%3D%22%7D")
      << "xattrs survive a rewrite";
}

TEST_F(FilesystemWriteTest, ChmodChownUtimensOfAClosedFileIsOneCopyNoUpload) {
  store_.PutForTest("f", Pattern(1000));
  Mount();
  const InodeId inode = LookupPath("f");
  store_.ResetCounts();
  const WallTime mtime = WallTime(std::chrono::seconds(1700000000) + std::chrono::nanoseconds(5));
  auto changed =
      fs().SetAttr(inode, {.permissions = 0600, .uid = 7, .gid = 8, .mtime = mtime}, std::nullopt);
  ASSERT_TRUE(changed.ok()) << changed.error().ToString();
  EXPECT_EQ(changed->attributes.permissions, 0600u);
  EXPECT_EQ(changed->attributes.mtime, mtime);
  const auto counts = store_.counts();
  EXPECT_EQ(counts.copy_object, 1);
  EXPECT_EQ(counts.put_object, 0);
  EXPECT_EQ(counts.upload_part, 0);
  auto info = store_.InfoOf("f");
  EXPECT_EQ(info->user_metadata["mode"], "33152");
  EXPECT_EQ(info->user_metadata["uid"], "7");
  EXPECT_EQ(info->user_metadata["gid"], "8");
  EXPECT_EQ(info->user_metadata["mtime"], "1700000000.000000005");
  EXPECT_TRUE(SameBytes(store_.BodyOf("f"), Pattern(1000)));
  EXPECT_EQ(fs().GetAttr(inode)->attributes.permissions, 0600u) << "the cache shows the change";
}

TEST_F(FilesystemWriteTest, MkdirWritesAMarkerAndRmdirRefusesANonEmptyDirectory) {
  Mount();
  auto made = fs().MakeDirectory(kRootInode, "d", 0750, Caller{1, 2, 0});
  ASSERT_TRUE(made.ok()) << made.error().ToString();
  auto marker = store_.InfoOf("d/");
  ASSERT_TRUE(marker.has_value()) << "mkdir must write the d/ marker";
  EXPECT_EQ(marker->content_type, "application/x-directory");
  EXPECT_EQ(marker->user_metadata["mode"], std::to_string(040750));
  auto again = fs().MakeDirectory(kRootInode, "d", 0750, kUser);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  store_.PutForTest("d/inside", "x");
  Status refused = fs().RemoveDirectory(kRootInode, "d");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNotEmpty);
  // Another client's file shows once the listing cached at mkdir (empty) expires.
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(fs().Unlink(made->inode, "inside").ok());
  ASSERT_TRUE(fs().RemoveDirectory(kRootInode, "d").ok());
  EXPECT_EQ(store_.ObjectCount(), 0u);
  EXPECT_EQ(fs().Lookup(kRootInode, "d")->inode, 0u);
}

TEST_F(FilesystemWriteTest, ImplicitDirectoryEmptiedByUnlinkCanStillBeRemoved) {
  store_.PutForTest("implicit/only", "x");  // no implicit/ marker
  Mount();
  const InodeId dir = LookupPath("implicit");
  ASSERT_TRUE(fs().Unlink(dir, "only").ok());
  Status removed = fs().RemoveDirectory(kRootInode, "implicit");
  EXPECT_TRUE(removed.ok()) << "rm -r must be able to remove it: " << removed.error().ToString();
  EXPECT_EQ(fs().RemoveDirectory(kRootInode, "implicit").error().code, ErrorCode::kNotFound)
      << "but only once";
}

TEST_F(FilesystemWriteTest, RmRecursiveCostsOneDeletePerFileAfterTheListing) {
  for (int i = 0; i < 300; ++i) store_.PutForTest("wrm/f" + std::to_string(i), "x");
  Mount();
  const InodeId dir = LookupPath("wrm");
  // What rm -r does: read the directory (readdirplus), then unlink every entry, then rmdir.
  std::vector<std::string> names;
  auto handle = fs().OpenDir(dir);
  ASSERT_TRUE(handle.ok());
  uint64_t offset = 0;
  for (bool more = true; more;) {
    more = false;
    ASSERT_TRUE(fs().ReadDir(*handle, offset, true,
                             [&](const DirectoryEntry& entry) {
                               offset = entry.next_offset;
                               more = true;
                               if (entry.name != "." && entry.name != "..")
                                 names.push_back(entry.name);
                               return true;
                             })
                    .ok());
  }
  fs().ReleaseDir(*handle);
  ASSERT_EQ(names.size(), 300u);
  store_.ResetCounts();
  for (const std::string& name : names) ASSERT_TRUE(fs().Unlink(dir, name).ok()) << name;
  ASSERT_TRUE(fs().RemoveDirectory(kRootInode, "wrm").ok());
  const auto counts = store_.counts();
  EXPECT_LE(counts.delete_object, 301);  // the files, and a marker if the cache still knew one
  EXPECT_EQ(counts.head_object, 0) << "the listing already said what each entry is";
  EXPECT_LE(counts.list_objects, 2);
}

TEST_F(FilesystemWriteTest, AListedDirectoryAnswersLookupsAndFollowsLocalChanges) {
  for (int i = 0; i < 20; ++i) store_.PutForTest("d/f" + std::to_string(i), "x");
  FilesystemOptions options;
  options.object_metadata = false;
  Mount(std::move(options));
  const InodeId dir = LookupPath("d");
  auto names = [&] {
    std::set<std::string> out;
    auto handle = fs().OpenDir(dir);
    EXPECT_TRUE(handle.ok());
    uint64_t offset = 0;
    for (bool more = true; more;) {
      more = false;
      EXPECT_TRUE(fs().ReadDir(*handle, offset, false,
                               [&](const DirectoryEntry& entry) {
                                 offset = entry.next_offset;
                                 more = true;
                                 if (entry.name != "." && entry.name != "..")
                                   out.insert(entry.name);
                                 return true;
                               })
                      .ok());
    }
    fs().ReleaseDir(*handle);
    return out;
  };
  EXPECT_EQ(names().size(), 20u);
  store_.ResetCounts();
  EXPECT_EQ(fs().Lookup(dir, "new")->inode, 0u);
  auto created = fs().Create(dir, "new", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  fs().Release(created->file.handle);
  ASSERT_TRUE(fs().Unlink(dir, "f3").ok());
  const auto listed = names();
  EXPECT_TRUE(listed.contains("new"));
  EXPECT_FALSE(listed.contains("f3"));
  EXPECT_EQ(listed.size(), 20u);
  const auto counts = store_.counts();
  EXPECT_EQ(counts.list_objects, 0) << "the cached listing answers and is kept up to date";
  EXPECT_EQ(counts.head_object, 0);
  EXPECT_EQ(counts.put_object, 1);
  EXPECT_EQ(counts.delete_object, 1);
}

TEST_F(FilesystemWriteTest, ExclusiveCreatesInANewDirectoryCostTwoPutsEach) {
  Mount();
  auto dir = fs().MakeDirectory(kRootInode, "new", 0755, kUser);
  ASSERT_TRUE(dir.ok());
  store_.ResetCounts();
  for (int i = 0; i < 10; ++i) {
    const std::string name = "f" + std::to_string(i);
    ASSERT_EQ(fs().Lookup(dir->inode, name)->inode, 0u);  // the kernel's lookup before create
    auto created = fs().Create(dir->inode, name, 0644, true, {.write = true}, kUser);
    ASSERT_TRUE(created.ok());
    ASSERT_TRUE(fs().Write(created->file.handle, 0, "data").ok());
    ASSERT_TRUE(fs().Flush(created->file.handle).ok());
    fs().Release(created->file.handle);
  }
  const auto counts = store_.counts();
  EXPECT_EQ(counts.put_object, 20) << "O_EXCL: one PUT at create (If-None-Match), one at close";
  EXPECT_EQ(counts.head_object + counts.list_objects, 0)
      << "a directory made here is known to be empty";
}

TEST_F(FilesystemWriteTest, SymlinkFifoAndRefusedHardLink) {
  Mount();
  auto link = fs().MakeSymlink(kRootInode, "l", "../target", kUser);
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(store_.BodyOf("l"), "../target");
  EXPECT_EQ(store_.InfoOf("l")->user_metadata["mode"], std::to_string(0120777));
  EXPECT_EQ(fs().ReadLink(link->inode).value(), "../target");
  auto fifo = fs().MakeNode(kRootInode, "p", FileType::kFifo, 0640, kUser);
  ASSERT_TRUE(fifo.ok());
  EXPECT_EQ(fifo->attributes.type, FileType::kFifo);
  EXPECT_EQ(store_.InfoOf("p")->user_metadata["mode"], std::to_string(010640 & ~022));
  auto hard = fs().Link(link->inode, kRootInode, "h");
  ASSERT_FALSE(hard.ok());
  EXPECT_EQ(hard.error().code, ErrorCode::kNotPermitted);
}

TEST_F(FilesystemWriteTest, RenameOfAFileAndOfADirectoryMovesEveryKey) {
  store_.PutForTest("a/one", "1");
  store_.PutForTest("a/sub/two", "2");
  store_.PutForTest("a/", "", {}, "application/x-directory");
  store_.PutForTest("f", "file", {{"mode", "33261"}});
  Mount();
  LookupPath("a/sub/two");
  ASSERT_TRUE(fs().Rename(kRootInode, "f", kRootInode, "g", RenameMode::kReplace).ok());
  EXPECT_FALSE(store_.BodyOf("f").has_value());
  EXPECT_EQ(store_.BodyOf("g"), "file");
  EXPECT_EQ(store_.InfoOf("g")->user_metadata["mode"], "33261") << "metadata moves with it";
  ASSERT_TRUE(fs().Rename(kRootInode, "a", kRootInode, "b", RenameMode::kReplace).ok());
  EXPECT_EQ(store_.Keys(), (std::vector<std::string>{"b/", "b/one", "b/sub/two", "g"}));
  // The inode known as a/sub/two now reads b/sub/two.
  EXPECT_EQ(fs().Lookup(kRootInode, "a")->inode, 0u);
  const InodeId moved = LookupPath("b/sub/two");
  auto opened = fs().Open(moved, {});
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(ReadHandle(opened->handle, 0, 10), "2");
  fs().Release(opened->handle);
}

TEST_F(FilesystemWriteTest, RenameRefusalsFollowPosix) {
  store_.PutForTest("f", "1");
  store_.PutForTest("g", "2");
  store_.PutForTest("d/x", "3");
  store_.PutForTest("e/", "", {}, "application/x-directory");
  Mount();
  auto code = [&](std::string_view from, std::string_view to, RenameMode mode) {
    Status status = fs().Rename(kRootInode, from, kRootInode, to, mode);
    return status.ok() ? std::optional<ErrorCode>() : status.error().code;
  };
  EXPECT_EQ(code("f", "g", RenameMode::kNoReplace), ErrorCode::kAlreadyExists);
  EXPECT_EQ(code("f", "d", RenameMode::kReplace), ErrorCode::kIsDirectory);
  EXPECT_EQ(code("e", "f", RenameMode::kReplace), ErrorCode::kNotDirectory);
  EXPECT_EQ(code("e", "d", RenameMode::kReplace), ErrorCode::kNotEmpty);
  EXPECT_EQ(code("f", "g", RenameMode::kExchange), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("missing", "h", RenameMode::kReplace), ErrorCode::kNotFound);
  EXPECT_EQ(code("f", "g", RenameMode::kReplace), std::nullopt);
  EXPECT_EQ(store_.BodyOf("g"), "1");
  EXPECT_EQ(code("d", "e", RenameMode::kReplace), std::nullopt) << "an empty target is replaced";
  EXPECT_EQ(store_.BodyOf("e/x"), "3");
}

TEST_F(FilesystemWriteTest, UnlinkedOpenFileStaysReadableAndWritable) {
  store_.PutForTest("tmp", "abcdef");
  Mount();
  const InodeId inode = LookupPath("tmp");
  const uint64_t handle = OpenForWrite(inode);
  ASSERT_TRUE(fs().Unlink(kRootInode, "tmp").ok());
  EXPECT_FALSE(store_.BodyOf("tmp").has_value());
  ASSERT_TRUE(fs().Write(handle, 6, "gh").ok());
  EXPECT_EQ(ReadHandle(handle, 0, 100), "abcdefgh");
  store_.ResetCounts();
  ASSERT_TRUE(fs().Flush(handle).ok());
  fs().Release(handle);
  EXPECT_EQ(store_.counts().put_object, 0) << "an unlinked file is never uploaded";
  EXPECT_EQ(store_.ObjectCount(), 0u);
}

TEST_F(FilesystemWriteTest, RenamedOpenFileIsUploadedUnderItsNewName) {
  Mount();
  auto created = fs().Create(kRootInode, "draft", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(fs().Write(created->file.handle, 0, "v1").ok());
  ASSERT_TRUE(fs().Rename(kRootInode, "draft", kRootInode, "final", RenameMode::kReplace).ok());
  ASSERT_TRUE(fs().Write(created->file.handle, 2, "+v2").ok());
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);
  EXPECT_EQ(store_.BodyOf("final"), "v1+v2");
  EXPECT_FALSE(store_.BodyOf("draft").has_value());
}

TEST_F(FilesystemWriteTest, XattrsAreStoredAsS3fsDoes) {
  store_.PutForTest("f", "x");
  Mount();
  const InodeId inode = LookupPath("f");
  ASSERT_TRUE(fs().SetXattr(inode, "user.color", "red", XattrMode::kAny).ok());
  EXPECT_EQ(store_.InfoOf("f")->user_metadata["xattr"], "%7B%22user.color%22%3A%22cmVk%22%7D");
  EXPECT_EQ(fs().GetXattr(inode, "user.color").value(), "red");
  EXPECT_EQ(fs().SetXattr(inode, "user.color", "blue", XattrMode::kCreate).error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(fs().SetXattr(inode, "user.size", "1", XattrMode::kReplace).error().code,
            ErrorCode::kNoData);
  EXPECT_EQ(fs().SetXattr(inode, "security.selinux", "x", XattrMode::kAny).error().code,
            ErrorCode::kNotSupported);
  ASSERT_TRUE(fs().RemoveXattr(inode, "user.color").ok());
  EXPECT_FALSE(store_.InfoOf("f")->user_metadata.contains("xattr"));
  EXPECT_EQ(fs().RemoveXattr(inode, "user.color").error().code, ErrorCode::kNoData);
  EXPECT_EQ(store_.BodyOf("f"), "x");
}

TEST_F(FilesystemWriteTest, FailedUploadFailsTheFlushKeepsTheDataAndTheRetryWorks) {
  store_.PutForTest("f", "0123456789");
  Mount();
  const InodeId inode = LookupPath("f");
  const uint64_t handle = OpenForWrite(inode);
  ASSERT_TRUE(fs().Write(handle, 3, "XYZ").ok());
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kInternalError, "injected"));
  Status failed = fs().Flush(handle);
  ASSERT_FALSE(failed.ok()) << "close must report the failed upload";
  EXPECT_EQ(store_.BodyOf("f"), "0123456789") << "the old object is untouched";
  EXPECT_EQ(ReadHandle(handle, 0, 100), "012XYZ6789") << "the written bytes are still there";
  ASSERT_TRUE(fs().Flush(handle).ok()) << "the next flush retries";
  fs().Release(handle);
  EXPECT_EQ(store_.BodyOf("f"), "012XYZ6789");
}

TEST_F(FilesystemWriteTest, FailedStreamingPartIsRetriedAtCloseAndTheFileArrivesWhole) {
  Mount();
  const std::string data = Pattern(16 * kMiB);
  auto created = fs().Create(kRootInode, "s", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  faulty_.FailNext(Operation::kUploadPart, MakeError(ErrorCode::kInternalError, "injected"));
  for (size_t at = 0; at < data.size(); at += kMiB) {
    auto written = fs().Write(created->file.handle, at, std::string_view(data).substr(at, kMiB));
    ASSERT_TRUE(written.ok()) << "a failed part must not fail later writes: "
                              << written.error().ToString();
  }
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);
  EXPECT_TRUE(SameBytes(store_.BodyOf("s"), data));
}

TEST_F(FilesystemWriteTest, FailureAtLastCloseKeepsTheStagingFileOnDisk) {
  store_.PutForTest("f", "0123456789");
  Mount();
  const InodeId inode = LookupPath("f");
  const uint64_t handle = OpenForWrite(inode);
  ASSERT_TRUE(fs().Write(handle, 2, "kept").ok());
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kAccessDenied, "denied"), 2);
  EXPECT_EQ(fs().Flush(handle).error().code, ErrorCode::kAccessDenied);
  fs().Release(handle);
  size_t kept = 0;
  for (const auto& entry : std::filesystem::directory_iterator(staging_root_->File("staging"))) {
    ++kept;
    EXPECT_GE(std::filesystem::file_size(entry.path()), 6u) << entry.path();
  }
  EXPECT_EQ(kept, 1u) << "the data that could not be uploaded must stay on disk";
}

TEST_F(FilesystemWriteTest, FilesStillOpenAtUnmountAreUploaded) {
  Mount();
  auto created = fs().Create(kRootInode, "open", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(fs().Write(created->file.handle, 0, "unsaved").ok());
  filesystem_.reset();  // as on SIGTERM: no close ever comes
  EXPECT_EQ(store_.BodyOf("open"), "unsaved");
}

TEST_F(FilesystemWriteTest, StagingLimitGivesNoSpace) {
  FilesystemOptions options;
  options.staging_capacity = kMiB;
  store_.PutForTest("f", "x");
  Mount(std::move(options));
  const uint64_t handle = OpenForWrite(LookupPath("f"));
  ASSERT_TRUE(fs().Write(handle, 100, Pattern(kMiB / 2)).ok());
  auto full = fs().Write(handle, 10 * kMiB, Pattern(kMiB));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kNoSpace);
  ASSERT_TRUE(fs().Flush(handle).ok());
  fs().Release(handle);
}

TEST_F(FilesystemWriteTest, ReadOnlyMountRefusesEveryChange) {
  store_.PutForTest("f", "x");
  FilesystemOptions options;
  options.read_only = true;
  Mount(std::move(options));
  const InodeId inode = LookupPath("f");
  EXPECT_EQ(fs().Create(kRootInode, "n", 0644, false, {.write = true}, kUser).error().code,
            ErrorCode::kReadOnly);
  EXPECT_EQ(fs().MakeDirectory(kRootInode, "d", 0755, kUser).error().code, ErrorCode::kReadOnly);
  EXPECT_EQ(fs().Unlink(kRootInode, "f").error().code, ErrorCode::kReadOnly);
  EXPECT_EQ(fs().SetAttr(inode, {.permissions = 0600}, std::nullopt).error().code,
            ErrorCode::kReadOnly);
  EXPECT_EQ(fs().Rename(kRootInode, "f", kRootInode, "g", RenameMode::kReplace).error().code,
            ErrorCode::kReadOnly);
  EXPECT_EQ(store_.BodyOf("f"), "x");
}

}  // namespace
}  // namespace s3mount
