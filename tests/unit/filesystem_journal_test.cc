// The Filesystem's hooks into the write journal: a close under -o writeback returns only once
// the file's bytes and a durable "upload" record are on disk (the upload itself still held),
// the record goes when the upload succeeded; a file being written has a "staged" record of its
// staging file until its close uploads it; a streaming multipart upload is noted while open.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fs/journal_record.h"
#include "s3mount/fs/filesystem.h"
#include "tests/support/filesystem_fixture.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using namespace std::chrono_literals;

class FilesystemJournalTest : public testing::FilesystemFixture {
 protected:
  void SetUp() override {
    auto cache = testing::TempDir::Create("s3mount-journal-fs");
    ASSERT_TRUE(cache.ok());
    cache_ = std::move(cache).value();
  }
  void Mount(bool write_back) {
    FilesystemOptions options = SmallPartOptions();
    options.write_back = write_back;
    options.journal_cache_dir = cache_->path();
    options.journal_target = {.endpoint = "", .bucket = "b", .prefix = ""};
    FilesystemFixture::Mount(std::move(options));
  }
  // Every record of every journal under the cache directory.
  std::vector<JournalRecord> Records() {
    std::vector<JournalRecord> out;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(cache_->path() + "/journal", error)) {
      if (entry.path().extension() != ".rec") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      auto record = DecodeJournalRecord(text.str());
      EXPECT_TRUE(record.ok()) << entry.path();
      if (record.ok()) out.push_back(*record);
    }
    return out;
  }
  static std::string FileBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::unique_ptr<testing::TempDir> cache_;
};

TEST_F(FilesystemJournalTest, AWriteBackCloseIsOnDiskWithARecordUntilItsUploadSucceeds) {
  Mount(true);
  gated_.Close();  // the upload waits at the gate
  ASSERT_TRUE(WriteAndClose("a.txt", "hello journal").ok());
  std::vector<JournalRecord> records = Records();
  ASSERT_EQ(records.size(), 1u) << "no record for a closed file whose upload is held";
  EXPECT_EQ(records[0].kind, JournalKind::kUpload);
  EXPECT_EQ(records[0].key, "a.txt");
  EXPECT_EQ(records[0].size, 13u);
  EXPECT_FALSE(records[0].replaces_etag.has_value()) << "a new file replaces nothing";
  EXPECT_EQ(records[0].metadata.count("mode"), 1u) << "the s3fs metadata is not recorded";
  EXPECT_EQ(FileBytes(records[0].data_file), "hello journal");
  gated_.Open();
  fs().DrainWriteBack();
  EXPECT_EQ(store_.BodyOf("a.txt").value_or(""), "hello journal");
  EXPECT_TRUE(Records().empty()) << "the record outlived the upload";
}

TEST_F(FilesystemJournalTest, AFileBeingWrittenHasAStagedRecordAndItsUploadANote) {
  Mount(false);
  auto created = fs().Create(kRootInode, "big.bin", 0644, false, {.write = true}, {});
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::string data(size_t{6} << 20, 'z');  // past one 5 MiB part: a multipart upload
  ASSERT_TRUE(fs().Write(created->file.handle, 0, data).ok());
  std::vector<JournalRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  bool staged = false;
  bool multipart = false;
  for (const JournalRecord& record : records) {
    EXPECT_EQ(record.key, "big.bin");
    staged = staged || record.kind == JournalKind::kStaged;
    multipart = multipart || (record.kind == JournalKind::kMultipart && !record.upload_id.empty());
  }
  EXPECT_TRUE(staged) << "the staged data of an open file is not recorded";
  EXPECT_TRUE(multipart) << "the open multipart upload is not recorded";
  ASSERT_TRUE(fs().Flush(created->file.handle).ok());
  fs().Release(created->file.handle);
  fs().Forget(created->entry.inode, 1);
  EXPECT_EQ(store_.BodyOf("big.bin").value_or("").size(), data.size());
  EXPECT_TRUE(Records().empty()) << "records outlived the upload";
}

}  // namespace
}  // namespace s3mount
