// Tests of StreamingUpload and ObjectUploader on the fake store: part sizes that grow so that
// 10,000 parts reach S3's 5 TiB limit, one PUT for a small file, and multipart uploads that
// are aborted when abandoned.
#include "fs/streaming_upload.h"

#include <gtest/gtest.h>

#include "fs/memory_budget.h"
#include "fs/object_uploader.h"
#include "s3mount/common/thread_pool.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::Pattern;
using testing::SameBytes;

class StreamingUploadTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeObjectStore store_{clock_};
  ThreadPool pool_{4};
  MemoryBudget memory_{uint64_t{64} << 20};
  ObjectUploader uploader_{store_, pool_, memory_, UploaderOptions{}};
};

TEST_F(StreamingUploadTest, PartSizesDoubleEveryThousandParts) {
  store_.SetMinPartSize(0);
  constexpr uint64_t kFirst = 1024;
  // 1,000 parts of 1 KiB, 1,000 of 2 KiB, then 3 of 4 KiB and a tail of 10 bytes.
  const std::string data = Pattern(kFirst * 1000 + kFirst * 2 * 1000 + kFirst * 4 * 3 + 10);
  {
    StreamingUpload upload(store_, pool_, memory_, uploader_, "grow", kFirst);
    for (size_t at = 0; at < data.size(); at += 3000) {
      ASSERT_TRUE(upload.Append(std::string_view(data).substr(at, 3000)).ok());
    }
    auto done = upload.Finish("", {}, true);
    ASSERT_TRUE(done.ok()) << done.error().ToString();
  }
  EXPECT_TRUE(SameBytes(store_.BodyOf("grow"), data));
  EXPECT_EQ(store_.counts().upload_part, 2004);
  EXPECT_EQ(memory_.used(), 0u) << "every buffer is given back";
}

TEST_F(StreamingUploadTest, UploaderPartsFitFiveTebibytesInTenThousandParts) {
  const uint64_t five_tib = uint64_t{5} << 40;
  const uint64_t part = uploader_.PartSizeFor(five_tib);
  EXPECT_GE(part * kMaxPartNumber, five_tib);
  EXPECT_LE(part, kMaxPartSize);
  EXPECT_EQ(uploader_.PartSizeFor(100), uint64_t{8} << 20) << "small objects: the minimum";
}

TEST_F(StreamingUploadTest, SmallFileIsOnePutAndAnAbandonedUploadIsAborted) {
  {
    StreamingUpload small(store_, pool_, memory_, uploader_, "small", uint64_t{5} << 20);
    ASSERT_TRUE(small.Append("tiny").ok());
    ASSERT_TRUE(small.Finish("text/plain", {{"mode", "33188"}}, true).ok());
  }
  EXPECT_EQ(store_.counts().put_object, 1);
  EXPECT_EQ(store_.counts().create_multipart, 0);
  EXPECT_EQ(store_.InfoOf("small")->user_metadata["mode"], "33188");
  {
    StreamingUpload abandoned(store_, pool_, memory_, uploader_, "gone", uint64_t{5} << 20);
    ASSERT_TRUE(abandoned.Append(Pattern(uint64_t{11} << 20)).ok());
    EXPECT_TRUE(abandoned.started());
  }  // dropped without Finish: truncated to zero, unlinked...
  EXPECT_TRUE(store_.PendingUploads().empty()) << "an abandoned multipart upload is aborted";
  EXPECT_FALSE(store_.BodyOf("gone").has_value());
  EXPECT_EQ(memory_.used(), 0u);
}

TEST_F(StreamingUploadTest, TimesChangedOnlyByTheWritesCostNoCopyOfTheObject) {
  const UserMetadata at_start{{"mode", "33188"}, {"mtime", "100"}, {"ctime", "100"}};
  const UserMetadata at_close{{"mode", "33188"}, {"mtime", "160"}, {"ctime", "160"}};
  StreamingUpload upload(store_, pool_, memory_, uploader_, "big", uint64_t{5} << 20);
  upload.SetInitialMetadata("text/plain", at_start);
  ASSERT_TRUE(upload.Append(Pattern(uint64_t{11} << 20)).ok());
  auto done = upload.Finish("text/plain", at_close, /*times_from_writes=*/true);
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(store_.counts().copy_object, 0) << "no server-side copy of the whole object";
  const auto stored = store_.InfoOf("big")->user_metadata;
  EXPECT_EQ(stored.count("mtime"), 0u) << "the times come from Last-Modified, the completion";
  EXPECT_EQ(stored.count("ctime"), 0u);
  EXPECT_EQ(stored.at("mode"), "33188");
  EXPECT_EQ(done->metadata, stored) << "Finish reports what the object carries";
}

TEST_F(StreamingUploadTest, TimesSetByTheApplicationAreCopiedInPlace) {
  StreamingUpload upload(store_, pool_, memory_, uploader_, "kept", uint64_t{5} << 20);
  upload.SetInitialMetadata("", {{"mode", "33188"}, {"mtime", "100"}});
  ASSERT_TRUE(upload.Append(Pattern(uint64_t{11} << 20)).ok());
  const UserMetadata at_close{{"mode", "33188"}, {"mtime", "42"}};
  auto done = upload.Finish("", at_close, /*times_from_writes=*/false);
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(store_.counts().copy_object, 1) << "utimens while streaming: a self-copy sets it";
  EXPECT_EQ(store_.InfoOf("kept")->user_metadata.at("mtime"), "42");
  EXPECT_EQ(done->metadata, at_close);
}

}  // namespace
}  // namespace s3mount
