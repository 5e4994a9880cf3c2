// Concurrency tests of the Filesystem on a gated fake store: a file's upload frozen at its
// close must not hold up stat, lookup, listings, xattrs or other files (the attributes of a
// file being uploaded are a snapshot read without the upload's lock), and reads of different
// files are all in flight at once (nothing inside the core serializes them).
//
// A frozen request is released only after the operations under test returned; if one of them
// waited for it, the test would deadlock, so each observation runs on its own thread and a
// watchdog (generous, not a timing assertion) reports the operation that waited, then opens
// the gate so the test can end.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_driver.h"
#include "tests/support/filesystem_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::Operation;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr Caller kUser = testing::kFixtureUser;
// How long an observation may take before the test calls it blocked: far above anything an
// in-memory operation needs, it only turns a deadlock into a named failure.
constexpr auto kWatchdog = std::chrono::seconds(60);

class FilesystemConcurrencyTest : public testing::FilesystemFixture {
 protected:
  void SetUp() override { Mount(SmallPartOptions()); }

  // Creates `name` in the root and writes `size` bytes from 0, in 1 MiB writes; left open.
  Filesystem::Created CreateAndWrite(const std::string& name, uint64_t size) {
    auto created = fs().Create(kRootInode, name, 0644, false, {.write = true}, kUser);
    EXPECT_TRUE(created.ok()) << created.error().ToString();
    const std::string chunk(kMiB, 'x');
    for (uint64_t at = 0; created.ok() && at < size; at += kMiB) {
      auto written = fs().Write(created->file.handle, at, chunk);
      EXPECT_TRUE(written.ok()) << written.error().ToString();
    }
    return created.ok() ? *created : Filesystem::Created{};
  }

  // Runs `observe` on its own thread while a request is frozen at the gate; returns false if
  // it did not return before the watchdog (it waited for the frozen request).
  bool AnswersWhileFrozen(const std::function<void()>& observe) {
    auto done = std::async(std::launch::async, observe);
    const bool answered = done.wait_for(kWatchdog) == std::future_status::ready;
    if (!answered) gated_.Open();
    done.get();
    return answered;
  }
};

TEST_F(FilesystemConcurrencyTest, StatLookupAndListingAnswerWhileTheFileUploadsAtClose) {
  const auto big = CreateAndWrite("big", 12 * kMiB);  // two 5 MiB parts sent, 2 MiB left
  const auto other = CreateAndWrite("other", kMiB);
  gated_.Close(Operation::kCompleteMultipart);
  Status closed;
  std::thread closer([&] {
    closed = fs().Flush(big.file.handle);
    fs().Release(big.file.handle);
  });
  ASSERT_TRUE(gated_.WaitUntilHeld(1, kWatchdog))
      << "the close never reached CompleteMultipartUpload";

  Result<Entry> stat = MakeError(ErrorCode::kInternalError, "not run");
  Result<Entry> looked_up = MakeError(ErrorCode::kInternalError, "not run");
  Result<std::set<std::string>> names = MakeError(ErrorCode::kInternalError, "not run");
  Result<std::vector<std::string>> xattrs = MakeError(ErrorCode::kInternalError, "not run");
  const bool answered = AnswersWhileFrozen([&] {
    stat = fs().GetAttr(big.entry.inode);
    looked_up = fs().Lookup(kRootInode, "big");
    names = testing::ListNames(fs(), kRootInode);
    xattrs = fs().ListXattr(big.entry.inode);
  });
  // Another file is neither blocked: it is written and closed meanwhile.
  const bool other_closed = AnswersWhileFrozen([&] {
    EXPECT_TRUE(fs().Flush(other.file.handle).ok());
    fs().Release(other.file.handle);
  });
  gated_.Open();
  closer.join();

  EXPECT_TRUE(answered) << "stat, lookup, readdir or listxattr of a file waited for its upload";
  EXPECT_TRUE(other_closed) << "closing another file waited for this file's upload";
  ASSERT_TRUE(stat.ok()) << stat.error().ToString();
  EXPECT_EQ(stat->attributes.size, 12 * kMiB) << "stat during the upload shows the written size";
  ASSERT_TRUE(looked_up.ok()) << looked_up.error().ToString();
  EXPECT_EQ(looked_up->inode, big.entry.inode);
  EXPECT_EQ(looked_up->attributes.size, 12 * kMiB);
  fs().Forget(looked_up->inode, 1);
  ASSERT_TRUE(names.ok()) << names.error().ToString();
  EXPECT_TRUE(names->contains("big")) << "the file being uploaded is listed";
  EXPECT_TRUE(xattrs.ok()) << xattrs.error().ToString();
  EXPECT_TRUE(closed.ok()) << closed.error().ToString();
  auto stored = store_.InfoOf("big");
  ASSERT_TRUE(stored.has_value()) << "the upload completed after the gate opened";
  EXPECT_EQ(stored->size, 12 * kMiB);
}

TEST_F(FilesystemConcurrencyTest, StatAnswersWhileAStagedFileIsPutAtFsync) {
  // Written out of order: staged on disk, uploaded with one PUT at fsync.
  const auto file = CreateAndWrite("staged", 0);
  ASSERT_TRUE(fs().Write(file.file.handle, 4096, "tail").ok());
  ASSERT_TRUE(fs().Write(file.file.handle, 0, "head").ok());
  gated_.Close(Operation::kPutObject);
  Status synced;
  std::thread syncer([&] { synced = fs().Fsync(file.file.handle); });
  ASSERT_TRUE(gated_.WaitUntilHeld(1, kWatchdog)) << "fsync never reached PutObject";

  Result<Entry> stat = MakeError(ErrorCode::kInternalError, "not run");
  const bool answered = AnswersWhileFrozen([&] { stat = fs().GetAttr(file.entry.inode); });
  gated_.Open();
  syncer.join();

  EXPECT_TRUE(answered) << "stat of a file waited for its PUT at fsync";
  ASSERT_TRUE(stat.ok()) << stat.error().ToString();
  EXPECT_EQ(stat->attributes.size, 4100u);
  EXPECT_TRUE(synced.ok()) << synced.error().ToString();
  fs().Release(file.file.handle);
}

TEST_F(FilesystemConcurrencyTest, ReadsOfDifferentFilesAreAllInFlightAtOnce) {
  constexpr int kReaders = 64;
  for (int i = 0; i < kReaders; ++i) {
    store_.PutForTest("file" + std::to_string(i),
                      std::string(4096, static_cast<char>('a' + i % 26)));
  }
  std::vector<uint64_t> handles;
  for (int i = 0; i < kReaders; ++i) {
    auto inode = testing::LookupPath(fs(), "file" + std::to_string(i));
    ASSERT_TRUE(inode.ok()) << inode.error().ToString();
    auto opened = fs().Open(*inode, OpenFlags{});
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    handles.push_back(opened->handle);
  }
  gated_.Close(Operation::kGetObject);
  std::vector<std::thread> readers;
  std::vector<std::string> read(kReaders);
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&, i] {
      auto slices = fs().Read(handles[i], 0, 4096);
      if (!slices.ok()) return;
      for (const auto& slice : *slices)
        read[i].append(slice.block->data() + slice.offset, slice.length);
    });
  }
  const bool all_held = gated_.WaitUntilHeld(kReaders, kWatchdog);
  const int most = gated_.most_held();
  gated_.Open();
  for (auto& reader : readers) reader.join();
  EXPECT_TRUE(all_held) << "only " << most << " of " << kReaders << " reads reached S3 at once";
  for (int i = 0; i < kReaders; ++i) {
    EXPECT_EQ(read[i], std::string(4096, static_cast<char>('a' + i % 26))) << "file" << i;
    fs().Release(handles[i]);
  }
}

}  // namespace
}  // namespace s3mount
