// Tests of how the upload paths act on an ambiguous Complete, on the fake store behind
// scripted faults and the real retry layer: a Complete applied whose answer was lost is a
// success with nothing sent again; a Complete whose outcome is unknown is followed by a
// ListParts before anything else goes to the upload; an upload that vanished is never sent a
// part and never aborted, and ObjectUploader sends the object again as a new upload.
#include <gtest/gtest.h>

#include <atomic>

#include "fs/memory_budget.h"
#include "fs/object_uploader.h"
#include "fs/streaming_upload.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/s3/outcome_check.h"
#include "s3mount/s3/retrying_object_store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/faulty_object_store.h"
#include "tests/fakes/forwarding_object_store.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::FaultyObjectStore;
using testing::ForwardingObjectStore;
using testing::Operation;
using testing::Pattern;
using testing::SameBytes;

constexpr uint64_t kPart = uint64_t{5} << 20;

// Aborts the upload behind the first Complete it sees (as a lifecycle rule or another
// process would), then lets the Complete through.
class VanishingStore final : public ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  Result<PutObjectResponse> CompleteMultipartUpload(
      const CompleteMultipartUploadRequest& request) override {
    if (!vanished_.exchange(true)) {
      (void)ForwardingObjectStore::AbortMultipartUpload(request.key, request.upload_id);
    }
    return ForwardingObjectStore::CompleteMultipartUpload(request);
  }

 private:
  std::atomic<bool> vanished_{false};
};

class AmbiguousOutcomeTest : public ::testing::Test {
 protected:
  int64_t Sent(Operation op) const { return faulty_.attempts().Of(op); }

  FakeClock clock_;
  FakeObjectStore fake_{clock_};
  VanishingStore vanishing_{fake_};
  FaultyObjectStore faulty_{fake_, clock_};
  RetryPolicy policy_{RetryOptions{}, 7};
  RetryingObjectStore store_{faulty_, policy_, clock_};
  ThreadPool pool_{2};
  MemoryBudget memory_{uint64_t{64} << 20};
  ObjectUploader uploader_{store_, pool_, memory_, UploaderOptions{.part_size = kPart}};
};

TEST_F(AmbiguousOutcomeTest, StreamWhoseCompleteAppliedButWasAnsweredWith500IsWhole) {
  const std::string data = Pattern(kPart * 2 + 100);
  StreamingUpload upload(store_, pool_, memory_, uploader_, "big", kPart);
  ASSERT_TRUE(upload.Append(data).ok());
  faulty_.FailNextAfterCall(Operation::kCompleteMultipart,
                            MakeError(ErrorCode::kInternalError, "500 after applying"));
  auto done = upload.Finish("", {}, true);
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_TRUE(SameBytes(fake_.BodyOf("big"), data));
  EXPECT_EQ(done->response.etag, fake_.InfoOf("big")->etag);
  EXPECT_EQ(Sent(Operation::kCompleteMultipart), 1) << "Complete resent to a completed upload";
  EXPECT_TRUE(fake_.PendingUploads().empty());
}

TEST_F(AmbiguousOutcomeTest, AfterAnUnresolvedCompleteTheNextFinishAsksBeforeSending) {
  const std::string data = Pattern(kPart + 10);
  StreamingUpload upload(store_, pool_, memory_, uploader_, "k", kPart);
  ASSERT_TRUE(upload.Append(data).ok());
  // Applied, answer lost, and S3 cannot be asked right then: the close fails.
  faulty_.FailNextAfterCall(Operation::kCompleteMultipart, MakeError(ErrorCode::kNetwork, "reset"));
  faulty_.FailNext(Operation::kListParts, MakeError(ErrorCode::kAccessDenied, "denied"));
  auto first = upload.Finish("", {}, true);
  ASSERT_FALSE(first.ok());
  const int64_t parts_sent = Sent(Operation::kUploadPart);
  // The next flush asks first and finds the object ours: no part, no Complete goes out.
  auto second = upload.Finish("", {}, true);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_TRUE(SameBytes(fake_.BodyOf("k"), data));
  EXPECT_EQ(Sent(Operation::kCompleteMultipart), 1);
  EXPECT_EQ(Sent(Operation::kUploadPart), parts_sent) << "a part went to a completed upload";
}

TEST_F(AmbiguousOutcomeTest, AStreamWhoseUploadVanishedSendsNothingMoreAndAbortsNothing) {
  RetryingObjectStore vanishing_store(vanishing_, policy_, clock_);
  ObjectUploader uploader(vanishing_store, pool_, memory_, UploaderOptions{.part_size = kPart});
  fake_.PutForTest("k", "previous");
  {
    StreamingUpload upload(vanishing_store, pool_, memory_, uploader, "k", kPart);
    ASSERT_TRUE(upload.Append(Pattern(kPart + 10)).ok());
    auto done = upload.Finish("", {}, true);
    ASSERT_FALSE(done.ok());
    EXPECT_EQ(done.error().code, ErrorCode::kNoSuchUpload) << done.error().ToString();
    fake_.ResetCounts();
    Status appended = upload.Append(Pattern(kPart));
    ASSERT_FALSE(appended.ok()) << "a new part was accepted for a vanished upload";
    EXPECT_EQ(appended.error().code, ErrorCode::kNoSpace) << appended.error().ToString();
    EXPECT_FALSE(upload.Finish("", {}, true).ok());
  }
  EXPECT_EQ(fake_.counts().upload_part, 0);
  EXPECT_EQ(fake_.counts().complete_multipart, 0);
  EXPECT_EQ(fake_.counts().abort_multipart, 0);
  EXPECT_EQ(fake_.BodyOf("k"), "previous") << "the previous object was touched";
}

// The whole file from memory, for ObjectUploader.
class StringSource final : public UploadSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  Status Read(uint64_t offset, size_t size, char* out) override {
    data_.copy(out, size, offset);
    return OkStatus();
  }
  bool Unchanged(uint64_t /*offset*/, uint64_t /*size*/) const override { return false; }

 private:
  std::string data_;
};

TEST_F(AmbiguousOutcomeTest, UploaderSendsTheObjectAgainAsANewUploadWhenItsUploadVanished) {
  RetryingObjectStore vanishing_store(vanishing_, policy_, clock_);
  ObjectUploader uploader(vanishing_store, pool_, memory_, UploaderOptions{.part_size = kPart});
  const std::string data = Pattern(kPart * 2 + 7);
  StringSource source(data);
  auto uploaded = uploader.Upload({.key = "u"}, source);
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().ToString();
  EXPECT_TRUE(SameBytes(fake_.BodyOf("u"), data));
  EXPECT_EQ(fake_.counts().create_multipart, 2) << "one upload vanished, one new one";
  EXPECT_TRUE(fake_.PendingUploads().empty());
}

TEST_F(AmbiguousOutcomeTest, MultipartEtagIsTheMd5OfThePartMd5s) {
  fake_.SetMinPartSize(1);
  auto id = fake_.CreateMultipartUpload({.key = "e"});
  ASSERT_TRUE(id.ok());
  std::vector<CompletedPart> parts;
  for (int n = 1; n <= 3; ++n) {
    auto etag = fake_.UploadPart(
        {.key = "e", .upload_id = *id, .part_number = n, .body = Pattern(1000 + n)});
    ASSERT_TRUE(etag.ok());
    parts.push_back({n, *etag, 0});
  }
  auto done = fake_.CompleteMultipartUpload({.key = "e", .upload_id = *id, .parts = parts});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(MultipartEtag(parts), done->etag);
  EXPECT_TRUE(SameEtag(PutEtag("abc"), "900150983CD24FB0D6963F7D28E17F72"));
  parts[0].etag = "\"not-an-md5\"";
  EXPECT_EQ(MultipartEtag(parts), "") << "an ETag that is no MD5 cannot be predicted";
}

}  // namespace
}  // namespace s3mount
