// Tests of the Filesystem with write-back (-o writeback) on the fake store: close and unlink
// return before S3 has the change while this mount shows it; fsync, rmdir, rename and
// unmount wait for what is queued; per-key order; retries that end with the data on disk;
// backpressure; and, for contrast, that close without the option still waits.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_driver.h"
#include "tests/support/filesystem_fixture.h"

namespace s3mount {
namespace {

using testing::Operation;
using namespace std::chrono_literals;

constexpr Caller kUser = testing::kFixtureUser;

// gated_.Close() holds every change (PUTs, DELETEs) at the gate; gated_.journal() lists those
// that reached the store, in order.
class FilesystemWriteBackTest : public testing::FilesystemFixture {
 protected:
  void Mount(bool write_back = true, size_t max_queued = 1000, size_t threads = 4) {
    FilesystemOptions options;
    options.write_memory = uint64_t{64} << 20;
    options.write_back = write_back;
    options.write_back_max_queued = max_queued;
    options.write_back_threads = threads;
    options.write_back_attempts = 3;
    options.write_back_backoff = 1ms;
    options.write_back_between = between_;
    FilesystemFixture::Mount(std::move(options));
  }

  // Called on a worker between two queued operations of a path (set before Mount).
  std::function<void(const std::string& path)> between_;

  // Names a readdir of the mount root returns ("." and ".." left out).
  std::vector<std::string> RootNames() {
    auto names = testing::ListNames(fs(), kRootInode);
    EXPECT_TRUE(names.ok()) << names.error().ToString();
    return names.ok() ? std::vector<std::string>(names->begin(), names->end())
                      : std::vector<std::string>{};
  }
};

// Found by the reference-model test with write-back (seed 81: "readdirplus: a has mode 0644,
// expected 0600", one run in six): a file created here was still waiting for its upload when
// its directory was opened; the upload ran before the readdirplus reached the file, and the
// entry was then described from the LIST alone (the mount's default mode, no uid or mtime)
// instead of from its open file or a HEAD.
TEST_F(FilesystemWriteBackTest, ReaddirplusDescribesAFileUploadedBetweenOpendirAndReaddir) {
  Mount();
  gated_.Close();
  auto created = fs().Create(kRootInode, "a", 0600, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(fs().Write(created->file.handle, 0, "hello").ok());
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);  // the upload waits at the gate
  auto directory = fs().OpenDir(kRootInode);
  ASSERT_TRUE(directory.ok()) << directory.error().ToString();
  gated_.Open();
  fs().DrainWriteBack();                     // uploaded: the open file is retired
  clock_.Advance(std::chrono::seconds(61));  // what the upload told the caches has expired
  std::map<std::string, Entry> listed;
  Status read = fs().ReadDir(*directory, 0, true, [&](const DirectoryEntry& entry) {
    if (entry.name != "." && entry.name != "..") listed.emplace(entry.name, entry.entry);
    return true;
  });
  fs().ReleaseDir(*directory);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_TRUE(listed.contains("a"));
  EXPECT_EQ(listed["a"].attributes.permissions, 0600u)
      << "the listing's guess (the default mode) was given for a file with its own mode";
  EXPECT_EQ(listed["a"].attributes.uid, kUser.uid);
  EXPECT_EQ(listed["a"].attributes.size, 5u);
  for (const auto& [name, entry] : listed) fs().Forget(entry.inode, 1);
}

TEST_F(FilesystemWriteBackTest, CloseReturnsBeforeThePutAndTheFileStaysVisibleAndReadable) {
  // One worker, held by a blocked upload: the file's own upload stays queued (a running
  // upload holds the file's lock, and local reads of that file wait for it).
  // The blocker is in a directory of its own: the listing below must not stat it.
  Mount(true, 1000, 1);
  auto sub = fs().MakeDirectory(kRootInode, "sub", 0755, kUser);
  ASSERT_TRUE(sub.ok());
  gated_.Close();
  ASSERT_TRUE(WriteAndClose("blocker", "b", sub->inode).ok());
  ASSERT_TRUE(WriteAndClose("notes.txt", "hello").ok());
  EXPECT_FALSE(store_.BodyOf("notes.txt").has_value()) << "close must not wait for the PUT";
  auto entry = fs().Lookup(kRootInode, "notes.txt");
  ASSERT_TRUE(entry.ok());
  ASSERT_NE(entry->inode, 0u) << "the closed file must stay visible before its upload";
  EXPECT_EQ(entry->attributes.size, 5u);
  EXPECT_EQ(ReadAll(entry->inode), "hello");
  const std::vector<std::string> names = RootNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "notes.txt"), names.end());
  gated_.Open();
  fs().DrainWriteBack();
  EXPECT_EQ(store_.BodyOf("notes.txt"), "hello");
  EXPECT_EQ(store_.counts().put_object, 3) << "the marker of sub, then one PUT per new file";
  EXPECT_EQ(ReadAll(fs().Lookup(kRootInode, "notes.txt")->inode), "hello");
}

TEST_F(FilesystemWriteBackTest, WithoutTheOptionCloseWaitsForThePut) {
  Mount(false);
  gated_.Close();
  auto closing = std::async(std::launch::async, [&] { return WriteAndClose("f", "data"); });
  EXPECT_EQ(closing.wait_for(100ms), std::future_status::timeout)
      << "without write-back, close must wait until S3 has the data";
  gated_.Open();
  EXPECT_TRUE(closing.get().ok());
  EXPECT_EQ(store_.BodyOf("f"), "data");
}

TEST_F(FilesystemWriteBackTest, FsyncWaitsForTheQueuedUpload) {
  Mount();
  gated_.Close();
  auto created = fs().Create(kRootInode, "f", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(fs().Write(created->file.handle, 0, "synced").ok());
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());  // close of a dup: queued
  auto syncing = std::async(std::launch::async, [&] { return fs().Fsync(created->file.handle); });
  EXPECT_EQ(syncing.wait_for(100ms), std::future_status::timeout)
      << "fsync returned before S3 had the data";
  gated_.Open();
  EXPECT_TRUE(syncing.get().ok());
  EXPECT_EQ(store_.BodyOf("f"), "synced");
  fs().Release(created->file.handle);
}

TEST_F(FilesystemWriteBackTest, FsyncReportsAnUploadThatKeepsFailing) {
  Mount();
  auto created = fs().Create(kRootInode, "f", 0644, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(fs().Write(created->file.handle, 0, "data").ok());
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kAccessDenied, "denied"), 4);
  ASSERT_TRUE(fs().Flush(created->file.handle).ok()) << "write-back: the close does not wait";
  Status synced = fs().Fsync(created->file.handle);
  ASSERT_FALSE(synced.ok()) << "fsync must report the failed upload";
  EXPECT_EQ(synced.error().code, ErrorCode::kAccessDenied);
  EXPECT_EQ(faulty_.attempts().put_object, 4) << "3 queued attempts, then fsync's own";
  EXPECT_TRUE(fs().Fsync(created->file.handle).ok()) << "nothing was dropped: a retry works";
  EXPECT_EQ(store_.BodyOf("f"), "data");
  fs().Release(created->file.handle);
}

TEST_F(FilesystemWriteBackTest, AReopenBetweenTheRetiringUploadAndTheNextOneIsUploaded) {
  // The close of version 2 queues two uploads of its OpenFile (flush, release); the first
  // is running, so the second cannot be coalesced into it. The first uploads and retires the
  // OpenFile; before the second starts, the application reopens the file (a new OpenFile),
  // writes version 3 and closes it. Its uploads must not be taken for the queued one of the
  // retired OpenFile (which has nothing left to upload).
  struct Pause {
    std::promise<void> paused;
    std::promise<void> resume;
    std::shared_future<void> resumed = resume.get_future().share();
    std::atomic<bool> armed = false;
  };
  auto pause = std::make_shared<Pause>();
  between_ = [pause](const std::string& path) {
    if (path != "f" || !pause->armed.exchange(false)) return;
    pause->paused.set_value();
    pause->resumed.wait();
  };
  // The worker goes on however the test ends.
  std::shared_ptr<void> release(nullptr, [pause](void*) { pause->resume.set_value(); });
  Mount();
  ASSERT_TRUE(WriteAndClose("f", "version 1").ok());
  fs().DrainWriteBack();
  const InodeId inode = Inode("f");
  const uint64_t second = OpenForWrite(inode, true);
  ASSERT_NE(second, 0u);
  ASSERT_TRUE(fs().Write(second, 0, "version 2").ok());
  gated_.Close();
  ASSERT_TRUE(fs().Flush(second).ok());
  ASSERT_TRUE(gated_.WaitUntilHeld(1, 10s)) << "the upload queued by the flush did not start";
  fs().Release(second);  // queued behind the running upload
  pause->armed = true;
  gated_.Open();
  // Version 2 is in S3, its OpenFile retired (a deadlock detector, not a timing check).
  ASSERT_EQ(pause->paused.get_future().wait_for(10s), std::future_status::ready)
      << "the worker did not finish the upload of version 2";
  ASSERT_EQ(store_.BodyOf("f"), "version 2");
  const uint64_t third = OpenForWrite(inode, true);
  ASSERT_NE(third, 0u);
  ASSERT_TRUE(fs().Write(third, 0, "version three").ok());
  Close(third);
  release.reset();
  fs().DrainWriteBack();
  EXPECT_EQ(store_.BodyOf("f"), "version three")
      << "the upload of the reopened file was dropped as a duplicate of the retired one's";
  EXPECT_EQ(fs().Lookup(kRootInode, "f")->attributes.size, 13u);
}

TEST_F(FilesystemWriteBackTest, UnlinkThenRecreateSendsTheDeleteBeforeThePut) {
  store_.PutForTest("a", "old");
  Mount();
  ASSERT_NE(fs().Lookup(kRootInode, "a")->inode, 0u);
  gated_.Close();
  ASSERT_TRUE(fs().Unlink(kRootInode, "a").ok()) << "unlink must not wait for the DELETE";
  EXPECT_EQ(store_.BodyOf("a"), "old") << "the DELETE is still queued";
  EXPECT_EQ(fs().Lookup(kRootInode, "a")->inode, 0u) << "gone for this mount at once";
  const std::vector<std::string> names = RootNames();
  EXPECT_EQ(std::find(names.begin(), names.end(), "a"), names.end())
      << "a listing from S3 must not bring back a name whose DELETE is queued";
  gated_.Open();  // the create waits for the DELETE (ACreateWaitsForTheQueuedDeleteOfItsName)
  ASSERT_TRUE(WriteAndClose("a", "new").ok());
  fs().DrainWriteBack();
  EXPECT_EQ(gated_.journal(), (std::vector<std::string>{"DELETE a", "PUT a"}));
  EXPECT_EQ(store_.BodyOf("a"), "new");
}

TEST_F(FilesystemWriteBackTest, ACreateWaitsForTheQueuedDeleteOfItsName) {
  // The new file's data may reach S3 before its close (a stream completed early), so the
  // old name's DELETE must not run after the create: the create waits for it.
  store_.PutForTest("a", "old");
  Mount();
  ASSERT_NE(fs().Lookup(kRootInode, "a")->inode, 0u);
  gated_.Close();
  ASSERT_TRUE(fs().Unlink(kRootInode, "a").ok());
  auto created = std::async(std::launch::async, [&] {
    return fs().Create(kRootInode, "a", 0644, false, {.write = true}, kUser);
  });
  EXPECT_EQ(created.wait_for(100ms), std::future_status::timeout)
      << "the create did not wait for the queued DELETE of its name";
  gated_.Open();
  auto file = created.get();
  ASSERT_TRUE(file.ok()) << file.error().ToString();
  EXPECT_EQ(gated_.journal(), (std::vector<std::string>{"DELETE a"}));
  ASSERT_TRUE(fs().Write(file->file.handle, 0, "new").ok());
  ASSERT_TRUE(fs().Flush(file->file.handle).ok());
  fs().Release(file->file.handle);
  fs().DrainWriteBack();
  EXPECT_EQ(store_.BodyOf("a"), "new");
}

TEST_F(FilesystemWriteBackTest, UnlinkOfAFileWhoseUploadIsStillQueuedSendsNothing) {
  // One worker, held by a blocked upload in another directory: the upload of "f" has not
  // started when it is unlinked, so S3 never had it and must hear nothing of it.
  Mount(true, 1000, 1);
  auto sub = fs().MakeDirectory(kRootInode, "sub", 0755, kUser);
  ASSERT_TRUE(sub.ok());
  gated_.Close();
  ASSERT_TRUE(WriteAndClose("blocker", "b", sub->inode).ok());
  ASSERT_TRUE(WriteAndClose("f", "never sent").ok());
  ASSERT_NE(fs().Lookup(kRootInode, "f")->inode, 0u) << "pending upload: still visible";
  ASSERT_TRUE(fs().Unlink(kRootInode, "f").ok());
  EXPECT_EQ(fs().Lookup(kRootInode, "f")->inode, 0u);
  gated_.Open();
  fs().DrainWriteBack();
  EXPECT_EQ(gated_.journal(), (std::vector<std::string>{"PUT sub/", "PUT sub/blocker"}))
      << "neither a PUT nor a DELETE of the unlinked, never uploaded file";
  EXPECT_EQ(store_.counts().delete_object, 0);
  EXPECT_EQ(fs().Lookup(kRootInode, "f")->inode, 0u);
}

TEST_F(FilesystemWriteBackTest, ANameListedWhileItsDeleteWasQueuedStaysGoneAfterIt) {
  store_.PutForTest("a", "old");
  store_.PutForTest("b", "kept");
  Mount();
  ASSERT_NE(fs().Lookup(kRootInode, "a")->inode, 0u);
  gated_.Close();
  ASSERT_TRUE(fs().Unlink(kRootInode, "a").ok());
  // S3 still lists "a": this listing (and what it caches) comes from before the DELETE.
  const std::vector<std::string> before = RootNames();
  EXPECT_EQ(std::count(before.begin(), before.end(), "a"), 0);
  gated_.Open();
  fs().DrainWriteBack();
  ASSERT_FALSE(store_.BodyOf("a").has_value());
  const std::vector<std::string> after = RootNames();
  EXPECT_EQ(std::count(after.begin(), after.end(), "a"), 0)
      << "the listing cached while the DELETE was queued brought the name back";
  EXPECT_EQ(std::count(after.begin(), after.end(), "b"), 1);
  EXPECT_EQ(fs().Lookup(kRootInode, "a")->inode, 0u) << "a cached lookup brought it back";
}

TEST_F(FilesystemWriteBackTest, RmdirWaitsForTheQueuedDeletesBelow) {
  store_.PutForTest("d/", "");
  store_.PutForTest("d/one", "1");
  store_.PutForTest("d/two", "2");
  Mount();
  const InodeId dir = fs().Lookup(kRootInode, "d")->inode;
  ASSERT_NE(fs().Lookup(dir, "one")->inode, 0u);
  ASSERT_NE(fs().Lookup(dir, "two")->inode, 0u);
  gated_.Close();
  ASSERT_TRUE(fs().Unlink(dir, "one").ok());
  ASSERT_TRUE(fs().Unlink(dir, "two").ok());
  auto removing =
      std::async(std::launch::async, [&] { return fs().RemoveDirectory(kRootInode, "d"); });
  EXPECT_EQ(removing.wait_for(100ms), std::future_status::timeout)
      << "rmdir must wait for the deletes queued below it";
  gated_.Open();
  Status removed = removing.get();
  EXPECT_TRUE(removed.ok()) << removed.error().ToString();
  EXPECT_EQ(store_.ObjectCount(), 0u) << "the files and the marker are gone from S3";
}

TEST_F(FilesystemWriteBackTest, RmdirOfFreshlyWrittenFilesWaitsForTheirUploads) {
  Mount();
  ASSERT_TRUE(fs().MakeDirectory(kRootInode, "d", 0755, kUser).ok());
  const InodeId dir = fs().Lookup(kRootInode, "d")->inode;
  ASSERT_TRUE(WriteAndClose("f", "x", dir).ok());
  auto removed = fs().RemoveDirectory(kRootInode, "d");
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code, ErrorCode::kNotEmpty) << "d/f was written: d is not empty";
  EXPECT_EQ(store_.BodyOf("d/f"), "x") << "rmdir waited for the upload below it";
}

TEST_F(FilesystemWriteBackTest, RenameWaitsForTheQueuedUploadThenMovesTheObject) {
  Mount();
  gated_.Close();
  ASSERT_TRUE(WriteAndClose("src", "payload").ok());
  auto renaming = std::async(std::launch::async, [&] {
    return fs().Rename(kRootInode, "src", kRootInode, "dst", RenameMode::kReplace);
  });
  EXPECT_EQ(renaming.wait_for(100ms), std::future_status::timeout)
      << "rename must wait for the upload queued on its source";
  gated_.Open();
  Status renamed = renaming.get();
  ASSERT_TRUE(renamed.ok()) << renamed.error().ToString();
  EXPECT_EQ(store_.BodyOf("dst"), "payload");
  EXPECT_FALSE(store_.BodyOf("src").has_value());
  EXPECT_EQ(ReadAll(fs().Lookup(kRootInode, "dst")->inode), "payload");
}

TEST_F(FilesystemWriteBackTest, AReopenBeforeTheUploadStartsJoinsIt) {
  Mount(true, 1000, 1);  // one worker: a blocked upload holds it
  gated_.Close();
  ASSERT_TRUE(WriteAndClose("blocker", "b").ok());
  ASSERT_TRUE(WriteAndClose("f", "first").ok());
  const InodeId inode = fs().Lookup(kRootInode, "f")->inode;
  auto opened = fs().Open(inode, {.write = true});
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  ASSERT_TRUE(fs().Write(opened->handle, 5, "+more").ok());
  ASSERT_TRUE(fs().Flush(opened->handle).ok());
  fs().Release(opened->handle);
  EXPECT_EQ(ReadAll(inode), "first+more");
  gated_.Open();
  fs().DrainWriteBack();
  EXPECT_EQ(store_.BodyOf("f"), "first+more");
  EXPECT_EQ(store_.counts().put_object, 2) << "one PUT for 'blocker', one for both closes of f";
}

TEST_F(FilesystemWriteBackTest, UnmountUploadsEverythingQueued) {
  Mount();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(WriteAndClose("f" + std::to_string(i), "data " + std::to_string(i)).ok());
  }
  filesystem_.reset();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(store_.BodyOf("f" + std::to_string(i)), "data " + std::to_string(i)) << i;
  }
}

TEST_F(FilesystemWriteBackTest, AnUploadThatKeepsFailingIsRetriedThenKeptOnDisk) {
  Mount();
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kInternalError, "injected"), 100);
  ASSERT_TRUE(WriteAndClose("lost", "precious bytes").ok());
  fs().DrainWriteBack();
  const int64_t attempts = faulty_.attempts().put_object;
  EXPECT_GE(attempts, 3);
  EXPECT_EQ(attempts % 3, 0) << "write_back_attempts=3 per queued upload";
  EXPECT_FALSE(store_.BodyOf("lost").has_value());
  size_t kept = 0;
  for (const auto& entry : std::filesystem::directory_iterator(staging_root_->File("staging"))) {
    ++kept;
    EXPECT_GE(std::filesystem::file_size(entry.path()), 14u) << entry.path();
  }
  EXPECT_EQ(kept, 1u) << "the data that could not be uploaded must stay on disk";
  EXPECT_EQ(fs().Lookup(kRootInode, "lost")->inode, 0u)
      << "as after a failed last close, S3 never had it";
  EXPECT_GE(clock_.sleeps().size(), 2u) << "retries are paced by the clock";
}

TEST_F(FilesystemWriteBackTest, CloseWaitsForRoomWhenTheQueueIsFull) {
  Mount(true, 2, 4);
  gated_.Close();
  ASSERT_TRUE(WriteAndClose("a", "1").ok());
  ASSERT_TRUE(WriteAndClose("b", "2").ok());
  auto third = std::async(std::launch::async, [&] { return WriteAndClose("c", "3"); });
  EXPECT_EQ(third.wait_for(100ms), std::future_status::timeout)
      << "a close went past write_back_max_queued=2";
  gated_.Open();
  EXPECT_TRUE(third.get().ok());
  fs().DrainWriteBack();
  EXPECT_EQ(store_.ObjectCount(), 3u);
}

// Found by the reference-model test (tests/unit/reference_model/): `cat` of a new file while
// its creator still has it open, then `mv`.
TEST_F(FilesystemWriteBackTest, RenameOfANewFileAfterAReaderClosedIt) {
  Mount();
  auto created = fs().Create(kRootInode, "a", 0600, false, {.write = true}, kUser);
  ASSERT_TRUE(created.ok());
  auto reader = fs().Open(created->entry.inode, {});
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(fs().Flush(reader->handle).ok());  // the reader's close: flush, then release
  fs().Release(reader->handle);
  Status renamed = fs().Rename(kRootInode, "a", kRootInode, "b", RenameMode::kReplace);
  ASSERT_TRUE(renamed.ok()) << renamed.error().ToString();
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);
  fs().DrainWriteBack();
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"b"});
  EXPECT_EQ(store_.BodyOf("b"), "");
}

}  // namespace
}  // namespace s3mount
