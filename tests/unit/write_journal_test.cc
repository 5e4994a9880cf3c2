// The write journal: its record format, the lock that keeps live mounts' journals apart, the
// recovery decisions (upload, keep because S3 changed, abort the mount's own multipart
// uploads, keep staged data), recovery itself on the fake store, and the list/clear API.
#include "fs/write_journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "fs/journal_record.h"
#include "fs/journal_recovery.h"
#include "fs/memory_budget.h"
#include "fs/object_uploader.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/journal.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

JournalRecord FullRecord() {
  return JournalRecord{.kind = JournalKind::kUpload,
                       .key = "dir/a file%with\nodd bytes",
                       .path = "dir/a file",
                       .data_file = "/tmp/x y/staged-1",
                       .written = {{0, 5}, {10, 12}},
                       .size = 20,
                       .replaces_etag = "\"etag-1\"",
                       .base_limit = 15,
                       .content_type = "text/plain; charset=utf-8",
                       .metadata = {{"mode", "33188"}, {"x y", "a b%c"}},
                       .upload_id = "",
                       .kept_reason = "a reason"};
}

TEST(JournalRecordTest, RoundTripsEveryField) {
  const JournalRecord record = FullRecord();
  auto decoded = DecodeJournalRecord(EncodeJournalRecord(record));
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(*decoded, record);
  JournalRecord multipart{.kind = JournalKind::kMultipart, .key = "k", .upload_id = "id-1"};
  auto again = DecodeJournalRecord(EncodeJournalRecord(multipart));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, multipart);
}

TEST(JournalRecordTest, RefusesARecordCutShortOrMalformed) {
  const std::string text = EncodeJournalRecord(FullRecord());
  for (size_t cut : {size_t{0}, size_t{10}, text.size() / 2, text.size() - 4, text.size() - 1}) {
    EXPECT_FALSE(DecodeJournalRecord(text.substr(0, cut)).ok()) << "cut at " << cut;
  }
  EXPECT_FALSE(DecodeJournalRecord("s3mount-journal 1\nkind upload\nsize x\nkey k\nend\n").ok());
  EXPECT_FALSE(DecodeJournalRecord("s3mount-journal 1\nkind nope\nkey k\nend\n").ok());
  EXPECT_FALSE(DecodeJournalRecord("s3mount-journal 1\nkind staged\nend\n").ok()) << "no key";
}

TEST(DecideRecoveryTest, UploadsOnlyOverWhatTheFileReplaced) {
  const Result<ObjectInfo> missing = MakeError(ErrorCode::kNotFound, "404");
  const Result<ObjectInfo> old_object = ObjectInfo{.key = "k", .etag = "\"old\""};
  const Result<ObjectInfo> other_object = ObjectInfo{.key = "k", .etag = "\"other\""};
  const Result<ObjectInfo> failed = MakeError(ErrorCode::kServiceUnavailable, "503");
  JournalRecord fresh{.kind = JournalKind::kUpload, .key = "k"};
  EXPECT_EQ(DecideRecovery(fresh, missing), RecoveryAction::kUpload);
  EXPECT_EQ(DecideRecovery(fresh, other_object), RecoveryAction::kKeepChanged)
      << "an object appeared where the new file had none";
  JournalRecord rewrite{.kind = JournalKind::kUpload, .key = "k", .replaces_etag = "\"old\""};
  EXPECT_EQ(DecideRecovery(rewrite, old_object), RecoveryAction::kUpload);
  EXPECT_EQ(DecideRecovery(rewrite, other_object), RecoveryAction::kKeepChanged);
  EXPECT_EQ(DecideRecovery(rewrite, missing), RecoveryAction::kKeepChanged)
      << "the object it replaced was deleted since";
  EXPECT_EQ(DecideRecovery(rewrite, failed), RecoveryAction::kRetryLater);
  EXPECT_EQ(
      DecideRecovery({.kind = JournalKind::kMultipart, .key = "k", .upload_id = "u"}, missing),
      RecoveryAction::kAbortUpload);
  EXPECT_EQ(DecideRecovery({.kind = JournalKind::kStaged, .key = "k"}, missing),
            RecoveryAction::kKeepStaged);
}

class WriteJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = testing::TempDir::Create("s3mount-journal-test");
    ASSERT_TRUE(root.ok());
    root_ = std::move(root).value();
  }

  std::unique_ptr<WriteJournal> OpenJournal() {
    auto journal = WriteJournal::Open(root_->path(), target_);
    EXPECT_TRUE(journal.ok()) << journal.error().ToString();
    return journal.ok() ? std::move(journal).value() : nullptr;
  }

  // A data file with `bytes`, as a staging file of a dead mount would be.
  std::string DataFile(const std::string& name, const std::string& bytes) {
    std::filesystem::create_directories(root_->File("staging-dead"));
    const std::string path = root_->File("staging-dead/" + name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // What a mount that died left: its records, in a journal directory whose lock is free.
  void LeaveOrphan(const std::vector<JournalRecord>& records) {
    auto dead = OpenJournal();
    ASSERT_NE(dead, nullptr);
    for (const JournalRecord& record : records) {
      ASSERT_TRUE(dead->Put(dead->NewId(), record, true).ok());
    }
  }  // the lock goes with it; the records stay

  RecoveryReport Recover() {
    auto journal = OpenJournal();
    EXPECT_NE(journal, nullptr);
    if (!journal) return {};
    return RecoverJournal(*journal, store_, uploader_);
  }

  std::unique_ptr<testing::TempDir> root_;
  JournalTarget target_{.endpoint = "http://127.0.0.1:1", .bucket = "b", .prefix = ""};
  testing::FakeClock clock_;
  testing::FakeObjectStore store_{clock_};
  ThreadPool pool_{2};
  MemoryBudget memory_{uint64_t{64} << 20};
  ObjectUploader uploader_{store_, pool_, memory_, UploaderOptions{.part_size = 5 << 20}};
};

TEST_F(WriteJournalTest, ALiveMountsJournalIsNotRecoveredADeadOnesIs) {
  auto live = OpenJournal();
  ASSERT_NE(live, nullptr);
  ASSERT_TRUE(live->Put(live->NewId(), {.kind = JournalKind::kStaged, .key = "k"}, false).ok());
  auto other = OpenJournal();
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->directory(), live->directory()) << "two mounts share one journal directory";
  EXPECT_TRUE(other->TakeOrphans().empty()) << "a live mount's journal was taken for recovery";
  const std::string live_directory = live->directory();
  live.reset();  // as if its process died: the record stays, the lock is free
  ASSERT_TRUE(std::filesystem::exists(live_directory));
  auto orphans = other->TakeOrphans();
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].directory(), live_directory);
  ASSERT_EQ(orphans[0].records.size(), 1u);
  EXPECT_EQ(orphans[0].records[0].record.key, "k");
  EXPECT_TRUE(other->TakeOrphans().empty()) << "one orphan taken twice at once";
}

TEST_F(WriteJournalTest, AJournalWithNothingLeftIsRemovedAtUnmount) {
  auto journal = OpenJournal();
  ASSERT_NE(journal, nullptr);
  const uint64_t id = journal->NewId();
  ASSERT_TRUE(journal->Put(id, {.kind = JournalKind::kStaged, .key = "k"}, true).ok());
  journal->Remove(id);
  const std::string directory = journal->directory();
  journal.reset();
  EXPECT_FALSE(std::filesystem::exists(directory));
}

TEST_F(WriteJournalTest, RecoveryUploadsAClosedNewFileWithItsMetadata) {
  LeaveOrphan({{.kind = JournalKind::kUpload,
                .key = "new.txt",
                .data_file = DataFile("new", "hello world"),
                .written = {{0, 11}},
                .size = 11,
                .content_type = "text/plain",
                .metadata = {{"mode", "33188"}, {"uid", "1000"}}}});
  const RecoveryReport report = Recover();
  EXPECT_EQ(report.uploaded, 1u);
  EXPECT_EQ(store_.BodyOf("new.txt").value_or("(missing)"), "hello world");
  auto info = store_.InfoOf("new.txt");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->content_type, "text/plain");
  EXPECT_EQ(info->user_metadata.at("mode"), "33188");
  EXPECT_FALSE(std::filesystem::exists(root_->File("staging-dead/new")))
      << "the data file of an uploaded record stays";
  auto kept = ListKeptData(root_->path());
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->empty()) << "an uploaded record is still listed";
}

TEST_F(WriteJournalTest, RecoveryRebuildsARewriteFromItsRangesAndTheReplacedObject) {
  const std::string etag = store_.PutForTest("edit.bin", "AAAAAAAAAA");
  // Bytes 2-3 written, then the file grown to 12: "AAxyAAAAAA\0\0".
  LeaveOrphan({{.kind = JournalKind::kUpload,
                .key = "edit.bin",
                .data_file = DataFile("edit", std::string("\0\0xy", 4)),
                .written = {{2, 4}},
                .size = 12,
                .replaces_etag = etag,
                .base_limit = 10}});
  EXPECT_EQ(Recover().uploaded, 1u);
  EXPECT_EQ(store_.BodyOf("edit.bin").value_or("(missing)"), std::string("AAxyAAAAAA\0\0", 12));
}

TEST_F(WriteJournalTest, RecoveryKeepsAFileWhoseObjectChangedSinceAndListsIt) {
  const std::string old_etag = store_.PutForTest("shared.txt", "old");
  store_.PutForTest("shared.txt", "another client's");
  store_.PutForTest("appeared.txt", "someone else's");
  const std::string data = DataFile("shared", "mine");
  LeaveOrphan({{.kind = JournalKind::kUpload,
                .key = "shared.txt",
                .data_file = data,
                .written = {{0, 4}},
                .size = 4,
                .replaces_etag = old_etag},
               {.kind = JournalKind::kUpload,
                .key = "appeared.txt",
                .data_file = DataFile("appeared", "mine too"),
                .written = {{0, 8}},
                .size = 8}});
  const RecoveryReport report = Recover();
  EXPECT_EQ(report.uploaded, 0u);
  EXPECT_EQ(report.kept, 2u);
  EXPECT_EQ(store_.BodyOf("shared.txt").value_or(""), "another client's")
      << "recovery overwrote another client's change";
  EXPECT_EQ(store_.BodyOf("appeared.txt").value_or(""), "someone else's");
  auto kept = ListKeptData(root_->path());
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 2u);
  for (const KeptItem& item : *kept) {
    EXPECT_FALSE(item.pending);
    EXPECT_NE(item.reason.find("S3"), std::string::npos) << item.reason;
    EXPECT_EQ(item.target, target_.Describe());
    if (item.key == "shared.txt") {
      EXPECT_EQ(item.data_file, data);
      EXPECT_EQ(item.size, 4u);
    }
  }
  Recover();  // a kept record is not acted on again
  EXPECT_EQ(store_.BodyOf("shared.txt").value_or(""), "another client's");
  auto cleared = ClearKeptData(root_->path(), {});
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(*cleared, 2u);
  EXPECT_FALSE(std::filesystem::exists(data)) << "clear left the data file";
  EXPECT_TRUE(ListKeptData(root_->path())->empty());
}

TEST_F(WriteJournalTest, RecoveryAbortsTheMountsOwnMultipartUploadsOnly) {
  auto ours = store_.CreateMultipartUpload({.key = "big.bin"});
  auto theirs = store_.CreateMultipartUpload({.key = "other.bin"});
  ASSERT_TRUE(ours.ok() && theirs.ok());
  LeaveOrphan({{.kind = JournalKind::kMultipart, .key = "big.bin", .upload_id = *ours}});
  EXPECT_EQ(Recover().aborted, 1u);
  EXPECT_EQ(store_.PendingUploads(), std::vector<std::string>{*theirs})
      << "recovery must abort its own upload and leave another client's";
}

TEST_F(WriteJournalTest, RecoveryKeepsStagedDataOfUnclosedFilesAndClearDeletesIt) {
  const std::string data = DataFile("staged", "half written");
  LeaveOrphan({{.kind = JournalKind::kStaged,
                .key = "draft.txt",
                .path = "draft.txt",
                .data_file = data,
                .written = {{0, 12}},
                .size = 12}});
  auto pending = ListKeptData(root_->path());
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_TRUE((*pending)[0].pending) << "a dead mount's record before recovery";
  const RecoveryReport report = Recover();
  EXPECT_EQ(report.kept, 1u);
  EXPECT_FALSE(store_.BodyOf("draft.txt").has_value()) << "staged data was uploaded";
  auto kept = ListKeptData(root_->path());
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].key, "draft.txt");
  EXPECT_EQ((*kept)[0].kind, "staged");
  EXPECT_EQ((*kept)[0].data_file, data);
  EXPECT_TRUE(std::filesystem::exists(data));
  EXPECT_FALSE(ClearKeptData(root_->path(), {"no/such/id.rec"}).ok());
  auto cleared = ClearKeptData(root_->path(), {(*kept)[0].id});
  ASSERT_TRUE(cleared.ok()) << cleared.error().ToString();
  EXPECT_EQ(*cleared, 1u);
  EXPECT_FALSE(std::filesystem::exists(data));
}

TEST_F(WriteJournalTest, RecoveryKeepsARecordWhoseDataFileIsGone) {
  store_.PutForTest("gone-base.bin", "0123456789");
  auto etag = store_.InfoOf("gone-base.bin")->etag;
  // The record's data file is missing and its bytes are not all in S3: it cannot be
  // rebuilt. It is kept (reported) rather than uploaded wrong.
  LeaveOrphan({{.kind = JournalKind::kUpload,
                .key = "gone-base.bin",
                .data_file = root_->File("staging-dead/missing"),
                .written = {{0, 2}},
                .size = 10,
                .replaces_etag = etag,
                .base_limit = 10}});
  const RecoveryReport report = Recover();
  EXPECT_EQ(report.uploaded, 0u);
  EXPECT_EQ(report.kept, 1u);
  EXPECT_EQ(store_.BodyOf("gone-base.bin").value_or(""), "0123456789");
}

}  // namespace
}  // namespace s3mount
