// Tests for RetryingObjectStore on the fake store with scripted faults and a fake clock:
// how many attempts each failure costs, how long it sleeps, what is never retried, and
// resumption of a GET whose body was cut, and how ambiguous outcomes (a PUT, a copy, a
// Complete whose answer was lost) are resolved by asking the store.
#include "s3mount/s3/retrying_object_store.h"

#include <gtest/gtest.h>

#include <functional>

#include "s3mount/s3/object_sinks.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/faulty_object_store.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using testing::FakeObjectStore;
using testing::FaultyObjectStore;
using testing::Operation;

// A clock that runs a callback when someone sleeps on it (to change the world between
// attempts).
class HookedClock final : public Clock {
 public:
  WallTime Now() const override { return inner_.Now(); }
  MonoTime Monotonic() const override { return inner_.Monotonic(); }
  void SleepFor(std::chrono::nanoseconds duration) override {
    inner_.SleepFor(duration);
    if (on_sleep) on_sleep();
  }
  std::function<void()> on_sleep;
  FakeClock inner_;
};

// Counts Begin calls and collects the body.
class RecordingSink final : public ObjectSink {
 public:
  Status Begin(const GetObjectResponse& response) override {
    ++begins;
    first = response;
    return OkStatus();
  }
  Status Append(std::string_view bytes) override {
    body.append(bytes);
    return OkStatus();
  }
  int begins = 0;
  GetObjectResponse first;
  std::string body;
};

std::string Pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return data;
}

class RetryingObjectStoreTest : public ::testing::Test {
 protected:
  RetryingObjectStoreTest()
      : fake_(clock_.inner_),
        faulty_(fake_, clock_),
        policy_(RetryOptions{}, 42),
        store_(faulty_, policy_, clock_) {
    fake_.SetGetChunkSize(16 * 1024);
  }
  int64_t Attempts(Operation op) const { return faulty_.attempts().Of(op); }

  HookedClock clock_;
  FakeObjectStore fake_;
  FaultyObjectStore faulty_;
  RetryPolicy policy_;
  RetryingObjectStore store_;
};

TEST_F(RetryingObjectStoreTest, SlowDownIsRetriedWithGrowingBackoffThenSucceeds) {
  fake_.PutForTest("k", "v");
  faulty_.FailNext(Operation::kHeadObject, MakeError(ErrorCode::kSlowDown, "slow"), 3);
  auto head = store_.HeadObject({.key = "k"});
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(Attempts(Operation::kHeadObject), 4);
  const auto sleeps = clock_.inner_.sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto cap = policy_.BackoffCap(MakeError(ErrorCode::kSlowDown, ""), i + 1);
    EXPECT_GE(sleeps[i], cap / 2) << "sleep " << i;
    EXPECT_LE(sleeps[i], cap) << "sleep " << i;
  }
}

TEST_F(RetryingObjectStoreTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  faulty_.FailNext(Operation::kListObjects, MakeError(ErrorCode::kInternalError, "boom"), 100);
  auto list = store_.ListObjects({});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kInternalError);
  EXPECT_EQ(Attempts(Operation::kListObjects), policy_.options().max_attempts);
  EXPECT_EQ(clock_.inner_.sleeps().size(), static_cast<size_t>(policy_.options().max_attempts - 1));
}

TEST_F(RetryingObjectStoreTest, PermanentErrorsCostOneAttemptAndNoSleep) {
  auto head = store_.HeadObject({.key = "missing"});
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, ErrorCode::kNotFound);
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kAccessDenied, "no"));
  EXPECT_FALSE(store_.PutObject({.key = "k", .body = "x"}).ok());
  EXPECT_EQ(Attempts(Operation::kHeadObject), 1);
  EXPECT_EQ(Attempts(Operation::kPutObject), 1);
  EXPECT_TRUE(clock_.inner_.sleeps().empty());
}

TEST_F(RetryingObjectStoreTest, PlainPutIsRetriedAfterALostReply) {
  faulty_.FailNextAfterCall(Operation::kPutObject, MakeError(ErrorCode::kNetwork, "reset"));
  auto put = store_.PutObject({.key = "k", .body = "data"});
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(Attempts(Operation::kPutObject), 2);
  EXPECT_EQ(fake_.BodyOf("k"), "data");
}

TEST_F(RetryingObjectStoreTest, ConditionalPutWhoseAnswerWasLostIsFoundOursWithoutAResend) {
  // Resending would find the key it just created and report a false conflict: HEAD says the
  // key holds exactly this body, so the PUT succeeded.
  faulty_.FailNextAfterCall(Operation::kPutObject, MakeError(ErrorCode::kTimeout, "stalled"));
  auto put = store_.PutObject({.key = "k", .body = "data", .if_none_match_any = true});
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->etag, fake_.InfoOf("k")->etag);
  EXPECT_EQ(Attempts(Operation::kPutObject), 1) << "a conditional PUT was resent blindly";
  EXPECT_EQ(Attempts(Operation::kHeadObject), 1);
  // But a 503 proves nothing happened, so even a conditional PUT goes again.
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kSlowDown, "slow"));
  auto second = store_.PutObject({.key = "k2", .body = "data", .if_none_match_any = true});
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(Attempts(Operation::kPutObject), 3);
}

TEST_F(RetryingObjectStoreTest, ConditionalPutLostBeforeTheServerIsResentAndAConflictStays) {
  // Not applied (HEAD finds nothing): the resend lets the server check the condition.
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kNetwork, "reset"));
  auto put = store_.PutObject({.key = "k", .body = "data", .if_none_match_any = true});
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(fake_.BodyOf("k"), "data");
  EXPECT_EQ(Attempts(Operation::kPutObject), 2);
  // Another client's object under the key: the conflict is real and reported as such.
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kNetwork, "reset"));
  auto conflict = store_.PutObject({.key = "k", .body = "mine", .if_none_match_any = true});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kPreconditionFailed) << conflict.error().ToString();
  EXPECT_EQ(fake_.BodyOf("k"), "data");
}

TEST_F(RetryingObjectStoreTest, ConditionalPutResentUnseenAfterItAppliedIsFoundOurs) {
  // libcurl resent it on a new connection: the second attempt fails its own If-None-Match.
  const UserMetadata metadata = {{"mtime", "1700000000.123456789"}};
  faulty_.FailNextAfterCall(Operation::kPutObject,
                            MakeError(ErrorCode::kPreconditionFailed, "412 to our own resend"));
  auto put = store_.PutObject(
      {.key = "k", .body = "data", .user_metadata = metadata, .if_none_match_any = true});
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(Attempts(Operation::kPutObject), 1);
  // The same bytes with other metadata are another client's: the conflict stays.
  fake_.PutForTest("j", "data");
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kPreconditionFailed, "412"));
  auto conflict = store_.PutObject(
      {.key = "j", .body = "data", .user_metadata = metadata, .if_none_match_any = true});
  ASSERT_FALSE(conflict.ok()) << "another client's object taken for ours";
  EXPECT_EQ(conflict.error().code, ErrorCode::kPreconditionFailed);
}

// chmod's copy of "k" onto itself, setting mode 0644, pinned to "k"'s current ETag.
CopyObjectRequest InPlaceModeCopy(FakeObjectStore& fake) {
  return {.source_key = "k",
          .destination_key = "k",
          .metadata_directive = MetadataDirective::kReplace,
          .user_metadata = {{"mode", "33188"}},
          .source_if_match = fake.InfoOf("k")->etag};
}

TEST_F(RetryingObjectStoreTest, InPlaceCopyResentUnseenAfterItAppliedIsFoundDone) {
  fake_.PutForTest("k", "data");
  faulty_.FailNextAfterCall(Operation::kCopyObject,
                            MakeError(ErrorCode::kPreconditionFailed, "412 to our own resend"));
  auto copied = store_.CopyObject(InPlaceModeCopy(fake_));
  ASSERT_TRUE(copied.ok()) << copied.error().ToString();
  EXPECT_EQ(Attempts(Operation::kCopyObject), 1);
}

TEST_F(RetryingObjectStoreTest, InPlaceCopyWhoseAnswerWasLostIsFoundDone) {
  // Metadata set in place, pinned to the old ETag: a resend fails its If-Match after an
  // applied copy; HEAD shows the metadata asked for, so the copy succeeded.
  fake_.PutForTest("k", "data");
  faulty_.FailNextAfterCall(Operation::kCopyObject, MakeError(ErrorCode::kInternalError, "500"));
  auto copied = store_.CopyObject(InPlaceModeCopy(fake_));
  ASSERT_TRUE(copied.ok()) << copied.error().ToString();
  EXPECT_EQ(fake_.InfoOf("k")->user_metadata.at("mode"), "33188");
  // Another client's change in between is not mistaken for ours.
  fake_.PutForTest("j", "data");
  const std::string j_etag = fake_.InfoOf("j")->etag;
  faulty_.FailNext(Operation::kCopyObject, MakeError(ErrorCode::kNetwork, "reset"));
  fake_.PutForTest("j", "other bytes");
  auto conflict = store_.CopyObject({.source_key = "j",
                                     .destination_key = "j",
                                     .metadata_directive = MetadataDirective::kReplace,
                                     .user_metadata = {{"mode", "33188"}},
                                     .source_if_match = j_etag});
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kPreconditionFailed) << conflict.error().ToString();
}

TEST_F(RetryingObjectStoreTest, GarbageRepliesAreRetriedForIdempotentRequests) {
  fake_.PutForTest("k", "v");
  faulty_.FailNextAfterCall(Operation::kListObjects,
                            MakeError(ErrorCode::kInvalidResponse, "not XML"), 2);
  auto page = store_.ListObjects({});
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  EXPECT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(Attempts(Operation::kListObjects), 3);
  EXPECT_EQ(clock_.inner_.sleeps().size(), 2u) << "the same backoff as any transient failure";
}

class RetryingCompleteTest : public RetryingObjectStoreTest {
 protected:
  // An upload of "m" with two parts sent; the Complete request for it.
  CompleteMultipartUploadRequest Prepared() {
    fake_.SetMinPartSize(1);
    auto upload = store_.CreateMultipartUpload({.key = "m"});
    EXPECT_TRUE(upload.ok());
    CompleteMultipartUploadRequest complete{.key = "m", .upload_id = upload.ok() ? *upload : ""};
    for (int n = 1; n <= 2; ++n) {
      const std::string body = "part" + std::to_string(n);
      auto etag = store_.UploadPart(
          {.key = "m", .upload_id = complete.upload_id, .part_number = n, .body = body});
      EXPECT_TRUE(etag.ok());
      complete.parts.push_back({.part_number = n, .etag = etag.ok() ? *etag : "", .size = 5});
    }
    return complete;
  }
};

TEST_F(RetryingCompleteTest, AnAppliedCompleteWhoseAnswerWasLostIsFoundOurs) {
  for (const Error& lost : {MakeError(ErrorCode::kInternalError, "500 after applying"),
                            MakeError(ErrorCode::kNetwork, "reset after applying"),
                            MakeError(ErrorCode::kTimeout, "stalled past the limit"),
                            MakeError(ErrorCode::kInvalidResponse, "200 with garbage")}) {
    faulty_.ResetAttempts();
    const auto complete = Prepared();
    faulty_.FailNextAfterCall(Operation::kCompleteMultipart, lost);
    auto done = store_.CompleteMultipartUpload(complete);
    ASSERT_TRUE(done.ok()) << lost.ToString() << ": " << done.error().ToString();
    EXPECT_EQ(done->etag, fake_.InfoOf("m")->etag) << lost.ToString();
    EXPECT_EQ(fake_.BodyOf("m"), "part1part2") << lost.ToString();
    EXPECT_EQ(Attempts(Operation::kCompleteMultipart), 1)
        << lost.ToString() << ": a Complete was sent to a completed upload";
    EXPECT_EQ(Attempts(Operation::kListParts), 1) << lost.ToString();
  }
}

TEST_F(RetryingCompleteTest, ACompleteThatDidNotApplyIsResentWhileTheUploadIsOpen) {
  const auto complete = Prepared();
  faulty_.FailNext(Operation::kCompleteMultipart, MakeError(ErrorCode::kInternalError, "500"));
  faulty_.FailNext(Operation::kCompleteMultipart, MakeError(ErrorCode::kInvalidResponse, "HTML"));
  auto done = store_.CompleteMultipartUpload(complete);
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(fake_.BodyOf("m"), "part1part2");
  EXPECT_EQ(Attempts(Operation::kCompleteMultipart), 3);
  EXPECT_EQ(Attempts(Operation::kListParts), 2) << "each resend follows a ListParts";
  EXPECT_TRUE(fake_.PendingUploads().empty());
}

TEST_F(RetryingCompleteTest, AVanishedUploadIsReportedGoneAndNeverClaimedOurs) {
  const auto complete = Prepared();
  fake_.PutForTest("m", "another client's object");
  ASSERT_TRUE(fake_.AbortMultipartUpload("m", complete.upload_id).ok());
  faulty_.FailNext(Operation::kCompleteMultipart, MakeError(ErrorCode::kNetwork, "reset"));
  auto done = store_.CompleteMultipartUpload(complete);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, ErrorCode::kNoSuchUpload) << done.error().ToString();
  EXPECT_EQ(fake_.BodyOf("m"), "another client's object");
  EXPECT_EQ(Attempts(Operation::kCompleteMultipart), 1);
}

TEST_F(RetryingCompleteTest, AnUnresolvableOutcomeStaysAFailure) {
  const auto complete = Prepared();
  faulty_.FailNextAfterCall(Operation::kCompleteMultipart, MakeError(ErrorCode::kNetwork, "reset"));
  faulty_.FailNext(Operation::kListParts, MakeError(ErrorCode::kAccessDenied, "no ListParts"));
  auto done = store_.CompleteMultipartUpload(complete);
  ASSERT_FALSE(done.ok()) << "success claimed without S3 saying so";
  EXPECT_EQ(done.error().code, ErrorCode::kNetwork);
}

TEST_F(RetryingObjectStoreTest, AnAppliedCreateWhoseAnswerWasLostUsesTheUploadItOpened) {
  for (const Error& lost : {MakeError(ErrorCode::kInternalError, "500 after applying"),
                            MakeError(ErrorCode::kNetwork, "reset after applying"),
                            MakeError(ErrorCode::kInvalidResponse, "200 with garbage")}) {
    faulty_.ResetAttempts();
    faulty_.FailNextAfterCall(Operation::kCreateMultipart, lost);
    auto upload = store_.CreateMultipartUpload({.key = "m"});
    ASSERT_TRUE(upload.ok()) << lost.ToString() << ": " << upload.error().ToString();
    const auto pending = fake_.PendingUploads();
    ASSERT_EQ(pending.size(), 1u) << lost.ToString() << ": an upload was left open";
    EXPECT_EQ(pending.front(), *upload) << lost.ToString();
    EXPECT_EQ(Attempts(Operation::kCreateMultipart), 1) << lost.ToString();
    EXPECT_EQ(Attempts(Operation::kListUploads), 1) << lost.ToString();
    ASSERT_TRUE(store_.AbortMultipartUpload("m", *upload).ok());
  }
}

TEST_F(RetryingObjectStoreTest, ACreateThatDidNotApplyIsSentAgain) {
  faulty_.FailNext(Operation::kCreateMultipart, MakeError(ErrorCode::kInternalError, "500"));
  auto upload = store_.CreateMultipartUpload({.key = "m"});
  ASSERT_TRUE(upload.ok()) << upload.error().ToString();
  EXPECT_EQ(Attempts(Operation::kCreateMultipart), 2);
  EXPECT_EQ(fake_.PendingUploads().size(), 1u);
}

TEST_F(RetryingObjectStoreTest, ALostCreateNeverTakesAnUploadThisStoreKnowsOrCannotTellApart) {
  // One upload of "m" opened through this store and two by another client: a lost Create
  // skips the known one and cannot tell which of the other two it opened, so takes neither.
  auto ours = store_.CreateMultipartUpload({.key = "m"});
  ASSERT_TRUE(ours.ok());
  auto theirs1 = fake_.CreateMultipartUpload({.key = "m"});
  auto theirs2 = fake_.CreateMultipartUpload({.key = "m"});
  ASSERT_TRUE(theirs1.ok() && theirs2.ok());
  faulty_.FailNext(Operation::kCreateMultipart, MakeError(ErrorCode::kNetwork, "reset"));
  auto upload = store_.CreateMultipartUpload({.key = "m"});
  ASSERT_TRUE(upload.ok()) << upload.error().ToString();
  EXPECT_NE(*upload, *ours) << "a second Create was given an upload already in use";
  EXPECT_NE(*upload, *theirs1) << "two unknown uploads: neither can be told to be ours";
  EXPECT_NE(*upload, *theirs2) << "two unknown uploads: neither can be told to be ours";
  EXPECT_EQ(Attempts(Operation::kCreateMultipart), 3);
  EXPECT_EQ(fake_.PendingUploads().size(), 4u);
}

TEST_F(RetryingObjectStoreTest, ResentAbortThatFindsTheUploadGoneSucceeds) {
  auto upload = store_.CreateMultipartUpload({.key = "m"});
  ASSERT_TRUE(upload.ok());
  faulty_.FailNextAfterCall(Operation::kAbortMultipart, MakeError(ErrorCode::kNetwork, "reset"));
  Status status = store_.AbortMultipartUpload("m", *upload);
  EXPECT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(Attempts(Operation::kAbortMultipart), 2);
  EXPECT_TRUE(fake_.PendingUploads().empty());
  // A first Abort of an unknown upload is still an error.
  EXPECT_FALSE(store_.AbortMultipartUpload("m", "no-such-upload").ok());
}

TEST_F(RetryingObjectStoreTest, TruncatedGetResumesWhereItStoppedAndDeliversEachByteOnce) {
  const std::string body = Pattern(300 * 1024);
  fake_.PutForTest("big", body);
  faulty_.TruncateNextGet(100'000);
  faulty_.TruncateNextGet(50'000);
  RecordingSink sink;
  auto got = store_.GetObject({.key = "big"}, sink);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(Attempts(Operation::kGetObject), 3);
  EXPECT_EQ(sink.begins, 1);
  EXPECT_EQ(sink.body.size(), body.size());
  EXPECT_TRUE(sink.body == body) << "resumed body differs from the object";
  EXPECT_EQ(got->body_offset, 0u);
  EXPECT_EQ(got->body_length, body.size());
  EXPECT_EQ(got->object.size, body.size());
}

TEST_F(RetryingObjectStoreTest, TruncatedRangedGetResumesWithinTheRange) {
  const std::string body = Pattern(300 * 1024);
  fake_.PutForTest("big", body);
  faulty_.TruncateNextGet(70'000);
  RecordingSink sink;
  auto got = store_.GetObject({.key = "big", .range = ByteRange{1000, 200'999}}, sink);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(sink.body == body.substr(1000, 200'000)) << "ranged resume returned wrong bytes";
  EXPECT_EQ(got->body_offset, 1000u);
  EXPECT_EQ(got->body_length, 200'000u);
  EXPECT_EQ(Attempts(Operation::kGetObject), 2);
}

TEST_F(RetryingObjectStoreTest, ResumeNeverMixesTwoVersionsOfAnObject) {
  fake_.PutForTest("big", Pattern(200 * 1024));
  faulty_.TruncateNextGet(64 * 1024);
  clock_.on_sleep = [&] { fake_.PutForTest("big", std::string(200 * 1024, 'X')); };
  RecordingSink sink;
  auto got = store_.GetObject({.key = "big"}, sink);
  ASSERT_FALSE(got.ok()) << "a resumed GET returned bytes of two object versions";
  EXPECT_EQ(got.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(sink.body.find('X'), std::string::npos);
}

TEST_F(RetryingObjectStoreTest, ASinkErrorIsNotRetried) {
  fake_.PutForTest("k", Pattern(100 * 1024));
  class FailingSink final : public ObjectSink {
   public:
    Status Begin(const GetObjectResponse&) override { return OkStatus(); }
    Status Append(std::string_view) override {
      return MakeError(ErrorCode::kCancelled, "reader went away");
    }
  } sink;
  auto got = store_.GetObject({.key = "k"}, sink);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(Attempts(Operation::kGetObject), 1);
}

}  // namespace
}  // namespace s3mount
