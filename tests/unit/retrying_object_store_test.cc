// Tests for RetryingObjectStore on the fake store with scripted faults and a fake clock:
// how many attempts each failure costs, how long it sleeps, what is never retried, and
// resumption of a GET whose body was cut.
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

TEST_F(RetryingObjectStoreTest, ConditionalPutIsNotResentAfterAnAmbiguousFailure) {
  // Resending would find the key it just created and report a false conflict.
  faulty_.FailNextAfterCall(Operation::kPutObject, MakeError(ErrorCode::kTimeout, "stalled"));
  auto put = store_.PutObject({.key = "k", .body = "data", .if_none_match_any = true});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(Attempts(Operation::kPutObject), 1);
  // But a 503 proves nothing happened, so even a conditional PUT goes again.
  faulty_.FailNext(Operation::kPutObject, MakeError(ErrorCode::kSlowDown, "slow"));
  auto second = store_.PutObject({.key = "k2", .body = "data", .if_none_match_any = true});
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(Attempts(Operation::kPutObject), 3);
}

TEST_F(RetryingObjectStoreTest, CompleteMultipartIsOnlyRetriedOnProvenNoOps) {
  fake_.SetMinPartSize(1);
  auto upload = store_.CreateMultipartUpload({.key = "m"});
  ASSERT_TRUE(upload.ok());
  auto etag = store_.UploadPart({.key = "m", .upload_id = *upload, .part_number = 1, .body = "p"});
  ASSERT_TRUE(etag.ok());
  CompleteMultipartUploadRequest complete{
      .key = "m", .upload_id = *upload, .parts = {{.part_number = 1, .etag = *etag}}};
  faulty_.FailNext(Operation::kCompleteMultipart, MakeError(ErrorCode::kInternalError, "500"));
  EXPECT_FALSE(store_.CompleteMultipartUpload(complete).ok());
  EXPECT_EQ(Attempts(Operation::kCompleteMultipart), 1);
  faulty_.FailNext(Operation::kCompleteMultipart, MakeError(ErrorCode::kServiceUnavailable, ""));
  EXPECT_TRUE(store_.CompleteMultipartUpload(complete).ok());
  EXPECT_EQ(Attempts(Operation::kCompleteMultipart), 3);
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
