// Tests of deferred creation on the in-memory fake store: a file created without O_EXCL costs
// no request until its first flush, which is its only PUT. Until then it exists only in this
// mount, and every operation must treat it as existing (lookups, stats and listings after the
// caches expire, chmod/chown/xattrs, unlink, rename, rmdir of its parent, a second handle,
// change events) without ever asking S3 for an object it does not have.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>

#include "s3mount/fs/filesystem.h"
#include "s3mount/fs/metadata_codec.h"
#include "tests/support/filesystem_driver.h"
#include "tests/support/filesystem_fixture.h"
#include "tests/support/new_file_checks.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::Operation;
using testing::Pattern;
using testing::SameBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr Caller kUser = testing::kFixtureUser;
constexpr auto kTtl = std::chrono::seconds(10);

class FilesystemCreateTest : public testing::FilesystemFixture {
 protected:
  void SetUp() override {
    FilesystemOptions options = SmallPartOptions();
    options.stat_ttl = kTtl;
    options.negative_ttl = kTtl;
    options.list_ttl = kTtl;
    Mount(std::move(options));
  }

  // open(O_CREAT | O_WRONLY) in `parent`, as the kernel does it: a lookup first.
  Filesystem::Created CreateFile(InodeId parent, const std::string& name, bool write = true) {
    EXPECT_EQ(fs().Lookup(parent, name)->inode, 0u) << name << " exists already";
    auto created = fs().Create(parent, name, 0644, false, {.write = write}, kUser);
    EXPECT_TRUE(created.ok()) << created.error().ToString();
    return created.ok() ? *created : Filesystem::Created{};
  }
  std::string Read(uint64_t handle) { return ReadHandle(handle); }
  void ExpireCaches() { clock_.Advance(kTtl + std::chrono::seconds(1)); }
};

TEST_F(FilesystemCreateTest, CreateSendsNothingAndTheCloseIsTheOnlyPut) {
  store_.ResetCounts();
  auto created = CreateFile(kRootInode, "notes.txt");
  const int64_t lookup_requests = store_.counts().Total();
  EXPECT_EQ(store_.counts().put_object, 0) << "create must not write the object";
  EXPECT_FALSE(store_.BodyOf("notes.txt").has_value());
  EXPECT_EQ(created.entry.attributes.type, FileType::kRegular);
  EXPECT_EQ(created.entry.attributes.permissions, 0644u);
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "hello").ok());
  Close(created.file.handle);
  const auto counts = store_.counts();
  EXPECT_EQ(counts.Total() - lookup_requests, 1) << "one PUT per new file, nothing else";
  EXPECT_EQ(counts.put_object, 1);
  testing::ExpectNewFileInS3(store_, "notes.txt", "hello");
}

TEST_F(FilesystemCreateTest, ExclusiveCreateStillWritesAtOnce) {
  store_.ResetCounts();
  auto created = fs().Create(kRootInode, "lock", 0644, true, {.write = true}, kUser);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(store_.counts().put_object, 1) << "O_EXCL: a conditional PUT at create";
  EXPECT_EQ(store_.BodyOf("lock"), "") << "another client sees the lock file at once";
  Close(created->file.handle);
  EXPECT_EQ(store_.counts().put_object, 1) << "nothing written: nothing more to upload";
}

TEST_F(FilesystemCreateTest, AnEmptyCloseUploadsAnEmptyObjectAndTouchIsOnePutWithItsMtime) {
  auto created = CreateFile(kRootInode, "empty");
  Close(created.file.handle);
  EXPECT_EQ(store_.BodyOf("empty"), "") << "touch must create the object";

  store_.ResetCounts();
  auto touched = CreateFile(kRootInode, "touched");
  const WallTime mtime = WallTime{} + std::chrono::seconds(1'000'000'000);
  auto set = fs().SetAttr(touched.entry.inode, {.mtime = mtime}, touched.file.handle);
  ASSERT_TRUE(set.ok()) << set.error().ToString();
  EXPECT_EQ(set->attributes.mtime, mtime);
  Close(touched.file.handle);
  EXPECT_EQ(store_.counts().put_object, 1);
  EXPECT_EQ(store_.counts().copy_object, 0) << "utimens is carried by the upload";
  EXPECT_EQ(store_.InfoOf("touched")->user_metadata["mtime"], "1000000000");
}

TEST_F(FilesystemCreateTest, ChmodChownAndXattrsBeforeTheCloseAreCarriedByTheUpload) {
  auto created = CreateFile(kRootInode, "f");
  const InodeId inode = created.entry.inode;
  store_.ResetCounts();
  ASSERT_TRUE(fs().SetAttr(inode, {.permissions = 0600}, std::nullopt).ok());
  ASSERT_TRUE(fs().SetAttr(inode, {.uid = 42, .gid = 43}, std::nullopt).ok());
  ASSERT_TRUE(fs().SetXattr(inode, "user.color", "red", XattrMode::kCreate).ok());
  EXPECT_EQ(fs().GetXattr(inode, "user.color").value(), "red");
  auto attributes = fs().GetAttr(inode);
  ASSERT_TRUE(attributes.ok());
  EXPECT_EQ(attributes->attributes.permissions, 0600u);
  EXPECT_EQ(attributes->attributes.uid, 42u);
  EXPECT_EQ(store_.counts().Total(), 0) << "nothing to rewrite: the object does not exist yet";
  Close(created.file.handle);
  EXPECT_EQ(store_.counts().put_object, 1);
  EXPECT_EQ(store_.counts().copy_object, 0);
  auto info = store_.InfoOf("f");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->user_metadata["mode"], std::to_string(0100600));
  EXPECT_EQ(info->user_metadata["uid"], "42");
  EXPECT_EQ(info->user_metadata["gid"], "43");
  EXPECT_TRUE(info->user_metadata.contains("xattr"));
}

TEST_F(FilesystemCreateTest, APendingFileIsSeenAfterTheCachesExpireAndS3SaysItIsMissing) {
  store_.PutForTest("d/", "", {}, "application/x-directory");
  store_.PutForTest("d/old", "x");
  const InodeId dir = Inode("d");
  ASSERT_EQ(List(dir, false).size(), 1u);  // the listing is now cached, without "new"
  auto created = CreateFile(dir, "new");   // the kernel's lookup cached a negative entry
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "abc").ok());
  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    store_.ResetCounts();
    auto found = fs().Lookup(dir, "new");
    EXPECT_EQ(store_.counts().Total(), 0) << "no request for a file S3 cannot have yet";
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->inode, created.entry.inode);
    EXPECT_EQ(found->attributes.type, FileType::kRegular);
    EXPECT_EQ(found->attributes.permissions, 0644u);
    EXPECT_EQ(found->attributes.uid, 1234u);
    EXPECT_EQ(found->attributes.size, 3u) << "the size as written so far";
    EXPECT_EQ(fs().GetAttr(created.entry.inode)->attributes.size, 3u);
    for (bool plus : {false, true}) {
      auto listed = List(dir, plus);
      ASSERT_TRUE(listed.contains("new")) << (plus ? "readdirplus" : "readdir");
      EXPECT_TRUE(listed.contains("old"));
      EXPECT_EQ(listed.at("new").attributes.type, FileType::kRegular);
      if (plus) {
        EXPECT_EQ(listed.at("new").inode, created.entry.inode);
        EXPECT_EQ(listed.at("new").attributes.size, 3u);
        fs().Forget(created.entry.inode, 1);
        fs().Forget(listed.at("old").inode, 1);
      }
    }
  };
  check("with the listing and the negative entry cached");
  ExpireCaches();
  store_.ResetCounts();
  check("after the TTLs, with a fresh LIST that lacks it");
  EXPECT_GE(store_.counts().list_objects, 1) << "the listing was really fetched again";
  // What a HEAD of the key answers meanwhile (404), cached as a negative entry.
  ExpireCaches();
  metadata_.Insert("d/new",
                   PathEntry{.kind = PathKind::kMissing, .fetched_at = clock_.Monotonic()});
  check("with a fresh negative entry cached for it");
  Close(created.file.handle);
  EXPECT_EQ(store_.BodyOf("d/new"), "abc");
}

TEST_F(FilesystemCreateTest, APendingNameCannotBeCreatedAgain) {
  auto created = CreateFile(kRootInode, "taken");
  EXPECT_EQ(fs().Create(kRootInode, "taken", 0644, true, {.write = true}, kUser).error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(fs().MakeDirectory(kRootInode, "taken", 0755, kUser).error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_FALSE(store_.BodyOf("taken").has_value()) << "the refused O_EXCL create wrote nothing";
  Close(created.file.handle);
}

TEST_F(FilesystemCreateTest, UnlinkWhileOpenSendsNoDeleteAndUploadsNothing) {
  auto created = CreateFile(kRootInode, "tmp");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "scratch").ok());
  store_.ResetCounts();
  ASSERT_TRUE(fs().Unlink(kRootInode, "tmp").ok());
  EXPECT_EQ(fs().Lookup(kRootInode, "tmp")->inode, 0u);
  EXPECT_EQ(Read(created.file.handle), "scratch") << "the handle keeps working";
  ASSERT_TRUE(fs().Write(created.file.handle, 7, "!").ok());
  EXPECT_EQ(Read(created.file.handle), "scratch!");
  Close(created.file.handle);
  EXPECT_EQ(store_.counts().Total(), 0) << "nothing to delete, nothing to upload";
  EXPECT_EQ(store_.ObjectCount(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(staging_root_->File("staging"))) << "no data was kept";
}

TEST_F(FilesystemCreateTest, UnlinkAfterAStreamingUploadBeganDeletesWhatItStored) {
  auto created = CreateFile(kRootInode, "big");
  const std::string data = Pattern(12 * kMiB);
  for (size_t at = 0; at < data.size(); at += kMiB) {
    ASSERT_TRUE(fs().Write(created.file.handle, at, std::string_view(data).substr(at, kMiB)).ok());
  }
  ASSERT_TRUE(fs().Unlink(kRootInode, "big").ok());
  EXPECT_EQ(store_.ObjectCount(), 0u);
  EXPECT_TRUE(store_.PendingUploadKeys().empty());
  EXPECT_TRUE(SameBytes(Read(created.file.handle), std::string(data.substr(0, kMiB))));
  Close(created.file.handle);
  EXPECT_EQ(store_.ObjectCount(), 0u);
}

TEST_F(FilesystemCreateTest, RenameWhileOpenUploadsUnderTheNewNameWithoutACopy) {
  store_.PutForTest("final", "old content");
  auto created = CreateFile(kRootInode, "draft");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "v1").ok());
  store_.ResetCounts();
  ASSERT_TRUE(fs().Rename(kRootInode, "draft", kRootInode, "final", RenameMode::kReplace).ok());
  EXPECT_EQ(store_.counts().put_object, 1) << "uploaded under the new name";
  EXPECT_EQ(store_.counts().copy_object, 0) << "there is no source object to copy";
  EXPECT_EQ(store_.counts().delete_object, 0);
  EXPECT_EQ(store_.BodyOf("final"), "v1");
  EXPECT_FALSE(store_.BodyOf("draft").has_value());
  EXPECT_EQ(fs().Lookup(kRootInode, "draft")->inode, 0u);
  EXPECT_EQ(fs().Lookup(kRootInode, "final")->inode, created.entry.inode);
  ASSERT_TRUE(fs().Write(created.file.handle, 2, "+v2").ok());
  Close(created.file.handle);
  EXPECT_EQ(store_.BodyOf("final"), "v1+v2");
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"final"});
}

TEST_F(FilesystemCreateTest, AFailedRenameLeavesThePendingFileUnderItsOldName) {
  auto created = CreateFile(kRootInode, "a");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "data").ok());
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kAccessDenied, "denied"));
  Status renamed = fs().Rename(kRootInode, "a", kRootInode, "b", RenameMode::kReplace);
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(fs().Lookup(kRootInode, "a")->inode, created.entry.inode);
  EXPECT_EQ(fs().Lookup(kRootInode, "b")->inode, 0u);
  Close(created.file.handle);
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"a"});
  EXPECT_EQ(store_.BodyOf("a"), "data");
}

TEST_F(FilesystemCreateTest, RenameOfItsDirectoryMovesItAndRmdirSaysNotEmpty) {
  auto dir = fs().MakeDirectory(kRootInode, "d", 0755, kUser);
  ASSERT_TRUE(dir.ok());
  auto created = CreateFile(dir->inode, "p");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "data").ok());
  Status removed = fs().RemoveDirectory(kRootInode, "d");
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code, ErrorCode::kNotEmpty);
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"d/"}) << "the marker stays";

  ASSERT_TRUE(fs().Rename(kRootInode, "d", kRootInode, "e", RenameMode::kReplace).ok());
  EXPECT_EQ(Inode("e/p"), created.entry.inode);
  ASSERT_TRUE(fs().Write(created.file.handle, 4, "+more").ok());
  Close(created.file.handle);
  EXPECT_EQ(store_.Keys(), (std::vector<std::string>{"e/", "e/p"}));
  EXPECT_EQ(store_.BodyOf("e/p"), "data+more");
}

TEST_F(FilesystemCreateTest, ItsImplicitParentDirectoryStaysWhileItIsPending) {
  store_.PutForTest("d/only", "x");
  const InodeId dir = Inode("d");
  auto created = CreateFile(dir, "p");
  ASSERT_TRUE(fs().Unlink(dir, "only").ok());  // S3 now has nothing below d/
  ExpireCaches();
  EXPECT_EQ(fs().Lookup(kRootInode, "d")->inode, dir);
  EXPECT_EQ(fs().GetAttr(dir)->attributes.type, FileType::kDirectory);
  EXPECT_TRUE(List(kRootInode, false).contains("d"));
  EXPECT_EQ(fs().RemoveDirectory(kRootInode, "d").error().code, ErrorCode::kNotEmpty);
  Close(created.file.handle);
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"d/p"});
}

TEST_F(FilesystemCreateTest, AFailedUploadAtCloseReturnsTheErrorAndKeepsTheData) {
  auto created = CreateFile(kRootInode, "f");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "precious").ok());
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kAccessDenied, "denied"), 2);
  EXPECT_EQ(fs().Flush(created.file.handle).error().code, ErrorCode::kAccessDenied);
  EXPECT_EQ(fs().Lookup(kRootInode, "f")->inode, created.entry.inode) << "still pending";
  fs().Release(created.file.handle);  // its upload fails again
  EXPECT_FALSE(store_.BodyOf("f").has_value());
  size_t kept = 0;
  for (const auto& entry : std::filesystem::directory_iterator(staging_root_->File("staging"))) {
    ++kept;
    EXPECT_EQ(testing::ReadFile(entry.path().string()), "precious") << entry.path();
  }
  EXPECT_EQ(kept, 1u) << "the data that could not be uploaded must stay on disk";
  EXPECT_EQ(fs().Lookup(kRootInode, "f")->inode, 0u) << "S3 never had it";
}

TEST_F(FilesystemCreateTest, ASecondHandleSharesThePendingFile) {
  auto created = CreateFile(kRootInode, "shared");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "abc").ok());
  auto reader = fs().Open(created.entry.inode, {});
  ASSERT_TRUE(reader.ok()) << reader.error().ToString();
  auto writer = fs().Open(created.entry.inode, {.write = true});
  ASSERT_TRUE(writer.ok()) << writer.error().ToString();
  EXPECT_EQ(store_.counts().get_object, 0);
  EXPECT_EQ(Read(reader->handle), "abc");
  ASSERT_TRUE(fs().Write(writer->handle, 3, "def").ok());
  EXPECT_EQ(Read(created.file.handle), "abcdef");
  store_.ResetCounts();
  Close(created.file.handle);
  EXPECT_EQ(store_.BodyOf("shared"), "abcdef") << "the first close uploads";
  Close(reader->handle);
  ASSERT_TRUE(fs().Write(writer->handle, 6, "!").ok());
  Close(writer->handle);
  EXPECT_EQ(store_.BodyOf("shared"), "abcdef!");
  EXPECT_EQ(store_.counts().put_object, 2);
}

TEST_F(FilesystemCreateTest, ACreateWithoutWriteAccessIsUploadedByItsClose) {
  auto created = CreateFile(kRootInode, "ro", /*write=*/false);
  ASSERT_TRUE(fs().Flush(created.file.handle).ok());
  EXPECT_EQ(store_.BodyOf("ro"), "") << "close() returned: the file must be in S3";
  fs().Release(created.file.handle);
}

TEST_F(FilesystemCreateTest, AChangeEventForItsKeyDoesNotHideIt) {
  auto created = CreateFile(kRootInode, "p");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "mine").ok());
  for (ObjectChangeKind kind : {ObjectChangeKind::kCreated, ObjectChangeKind::kRemoved}) {
    fs().ApplyRemoteChange(
        ObjectChange{.kind = kind, .event_name = "ObjectCreated:Put", .key = "p", .etag = "e1"});
    EXPECT_EQ(fs().Lookup(kRootInode, "p")->inode, created.entry.inode);
    EXPECT_EQ(fs().GetAttr(created.entry.inode)->attributes.size, 4u);
    EXPECT_TRUE(List(kRootInode, false).contains("p"));
  }
  Close(created.file.handle);
  EXPECT_EQ(store_.BodyOf("p"), "mine");
}

TEST_F(FilesystemCreateTest, AfterItsUploadItIsAnOrdinaryCachedObject) {
  ASSERT_TRUE(List(kRootInode, false).empty());  // the root's listing is cached
  auto created = CreateFile(kRootInode, "done");
  ASSERT_TRUE(fs().Write(created.file.handle, 0, "bytes").ok());
  Close(created.file.handle);
  const std::string etag = store_.InfoOf("done")->etag;
  auto cached = metadata_.Lookup("done", clock_.Monotonic());
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->kind, PathKind::kFile);
  EXPECT_EQ(cached->object.etag, etag);
  store_.ResetCounts();
  EXPECT_EQ(fs().Lookup(kRootInode, "done")->attributes.size, 5u);
  EXPECT_TRUE(List(kRootInode, false).contains("done"));
  EXPECT_EQ(testing::ReadWhole(fs(), created.entry.inode).value(), "bytes");
  EXPECT_EQ(store_.counts().head_object + store_.counts().list_objects, 0)
      << "the upload updated the metadata cache and the cached listing";
  // An ordinary object again: a chmod is a self-copy now.
  ASSERT_TRUE(fs().SetAttr(created.entry.inode, {.permissions = 0600}, std::nullopt).ok());
  EXPECT_EQ(store_.counts().copy_object, 1);
  EXPECT_EQ(store_.BodyOf("done"), "bytes");
}

TEST_F(FilesystemCreateTest, ManySmallFilesCostOnePutEach) {
  auto dir = fs().MakeDirectory(kRootInode, "many", 0755, kUser);
  ASSERT_TRUE(dir.ok());
  store_.ResetCounts();
  for (int i = 0; i < 100; ++i) {
    auto created = CreateFile(dir->inode, "f" + std::to_string(i));
    ASSERT_TRUE(fs().Write(created.file.handle, 0, "data").ok());
    Close(created.file.handle);
  }
  EXPECT_EQ(store_.counts().put_object, 100) << "was 200: an empty PUT at create, one at close";
  EXPECT_EQ(store_.counts().Total(), 100) << "lookups in a directory made here are free";
  EXPECT_EQ(store_.ObjectCount(), 101u);
}

// Found by the reference-model test (tests/unit/reference_model/): renames and unlinks of
// files whose object changed under this mount's own hands.
TEST_F(FilesystemCreateTest, RenameOfAnExclusiveCreateWrittenInPartsUploadsThenMoves) {
  auto created = fs().Create(kRootInode, "a", 0644, true, {.write = true}, kUser);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::string data = Pattern(6 * kMiB);
  ASSERT_TRUE(fs().Write(created->file.handle, 0, data).ok());
  // A read of bytes already sent as parts completes the stream (SEMANTICS.md, "Writes").
  EXPECT_EQ(Read(created->file.handle), data.substr(0, 1 << 20));
  Status renamed = fs().Rename(kRootInode, "a", kRootInode, "b", RenameMode::kReplace);
  ASSERT_TRUE(renamed.ok()) << renamed.error().ToString();
  Close(created->file.handle);
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"b"});
  EXPECT_TRUE(SameBytes(store_.BodyOf("b"), data));
}

TEST_F(FilesystemCreateTest, ANewFileRenamedAfterItsStreamStartedReadsBackAfterClose) {
  store_.PutForTest("d/", "");
  auto created = CreateFile(kRootInode, "b");
  const std::string data = Pattern(6 * kMiB);
  ASSERT_TRUE(fs().Write(created.file.handle, 0, data).ok());
  EXPECT_EQ(Read(created.file.handle), data.substr(0, 1 << 20));  // completes the stream
  const InodeId d = Inode("d");
  Status renamed = fs().Rename(kRootInode, "b", d, "a", RenameMode::kReplace);
  ASSERT_TRUE(renamed.ok()) << renamed.error().ToString();
  Close(created.file.handle);
  auto read = testing::ReadWhole(fs(), Inode("d/a"));
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_TRUE(SameBytes(*read, data));
}

TEST_F(FilesystemCreateTest, ReadersOfAFileFollowItsMetadataChangesAndSurviveItsUnlink) {
  store_.PutForTest("f", "old bytes");
  auto reader = fs().Open(Inode("f"), {});
  ASSERT_TRUE(reader.ok());
  const std::string data = Pattern(6 * kMiB);
  ASSERT_TRUE(fs().SetAttr(Inode("f"), {.size = data.size()}, std::nullopt).ok());
  ASSERT_TRUE(fs().SetXattr(Inode("f"), "user.color", "red", XattrMode::kAny).ok());
  Status unlinked = fs().Unlink(kRootInode, "f");
  ASSERT_TRUE(unlinked.ok()) << unlinked.error().ToString();
  std::string expected = "old bytes";
  expected.resize(data.size(), '\0');
  EXPECT_EQ(Read(reader->handle), expected.substr(0, 1 << 20));
  fs().Release(reader->handle);
}

}  // namespace
}  // namespace s3mount
