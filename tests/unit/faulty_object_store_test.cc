// Tests for FaultyObjectStore: scripted failures before and after the inner call, every-nth
// failures, cut connections on GET, latency on the injected clock, and attempt counting.
#include "tests/fakes/faulty_object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/s3/object_sinks.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"

namespace s3mount {
namespace {

using ::s3mount::testing::FakeClock;
using ::s3mount::testing::FakeObjectStore;
using ::s3mount::testing::FaultyObjectStore;
using ::s3mount::testing::Operation;
using ::s3mount::testing::OperationCounts;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

Error SlowDown() {
  Error error = MakeError(ErrorCode::kSlowDown, "Please reduce your request rate.");
  error.s3_code = "SlowDown";
  error.http_status = 503;
  return error;
}

class FaultyObjectStoreTest : public ::testing::Test {
 protected:
  FaultyObjectStoreTest()
      : fake_(clock_, FakeObjectStore::Options{.get_chunk_size = 4}), faulty_(fake_, clock_) {}

  Result<std::string> Get(const std::string& key) {
    StringSink sink;
    auto response = faulty_.GetObject({.key = key}, sink);
    S3M_RETURN_IF_ERROR(response);
    return sink.Take();
  }

  Status Put(const std::string& key, std::string_view body) {
    auto response = faulty_.PutObject({.key = key, .body = body});
    S3M_RETURN_IF_ERROR(response);
    return OkStatus();
  }

  FakeClock clock_;
  FakeObjectStore fake_;
  FaultyObjectStore faulty_;
};

TEST_F(FaultyObjectStoreTest, ForwardsEverythingWithoutAScript) {
  ASSERT_TRUE(Put("k", "hello").ok());
  EXPECT_EQ(*Get("k"), "hello");
  auto missing = Get("missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().s3_code, "NoSuchKey") << "inner errors pass through unchanged";
  EXPECT_EQ(faulty_.attempts().put_object, 1);
  EXPECT_EQ(faulty_.attempts().get_object, 2);
  EXPECT_EQ(faulty_.attempts(), fake_.counts());
  EXPECT_THAT(clock_.sleeps(), IsEmpty());
}

TEST_F(FaultyObjectStoreTest, FailNextFailsBeforeReachingTheStore) {
  faulty_.FailNext(Operation::kPutObject, SlowDown(), 2);
  for (int i = 0; i < 2; ++i) {
    Status status = Put("k", "hello");
    ASSERT_FALSE(status.ok()) << "attempt " << i;
    EXPECT_EQ(status.error().code, ErrorCode::kSlowDown);
    EXPECT_EQ(status.error().http_status, 503);
  }
  EXPECT_EQ(fake_.counts().put_object, 0) << "the inner store was never called";
  EXPECT_FALSE(fake_.BodyOf("k").has_value());
  EXPECT_TRUE(Put("k", "hello").ok()) << "the third attempt goes through";
  EXPECT_EQ(faulty_.attempts().put_object, 3);
  EXPECT_EQ(fake_.counts().put_object, 1);
}

TEST_F(FaultyObjectStoreTest, ScriptedFailuresAreUsedInOrderAndPerOperation) {
  fake_.PutForTest("k", "hello");
  faulty_.FailNext(Operation::kGetObject, MakeError(ErrorCode::kTimeout, "first"));
  faulty_.FailNext(Operation::kGetObject, MakeError(ErrorCode::kNetwork, "second"));
  EXPECT_TRUE(faulty_.HeadObject({.key = "k"}).ok()) << "HEAD is not scripted";
  EXPECT_EQ(Get("k").error().message, "first");
  EXPECT_EQ(Get("k").error().message, "second");
  EXPECT_EQ(*Get("k"), "hello");
}

TEST_F(FaultyObjectStoreTest, FailNextAfterCallLosesTheReply) {
  faulty_.FailNextAfterCall(Operation::kPutObject, MakeError(ErrorCode::kTimeout, "lost"));
  Status status = Put("k", "hello");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "lost");
  EXPECT_EQ(fake_.BodyOf("k"), "hello") << "the PUT happened although its reply was lost";
  EXPECT_EQ(fake_.counts().put_object, 1);
}

TEST_F(FaultyObjectStoreTest, FailEveryNth) {
  fake_.PutForTest("k", "hello");
  faulty_.FailEveryNth(Operation::kGetObject, 3, MakeError(ErrorCode::kInternalError, "500"));
  std::vector<bool> outcomes;
  outcomes.reserve(7);
  for (int i = 0; i < 7; ++i) outcomes.push_back(Get("k").ok());
  EXPECT_THAT(outcomes, ElementsAre(true, true, false, true, true, false, true));
  EXPECT_EQ(fake_.counts().get_object, 5);
  faulty_.FailEveryNth(Operation::kGetObject, 0, Error{});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Get("k").ok()) << "n = 0 removes the rule";
}

TEST_F(FaultyObjectStoreTest, TruncateNextGetCutsTheBody) {
  fake_.PutForTest("k", "0123456789");
  faulty_.TruncateNextGet(5);  // the fake sends chunks of 4: the cut falls mid-chunk
  StringSink sink;
  auto cut = faulty_.GetObject({.key = "k"}, sink);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, ErrorCode::kTruncatedBody);
  EXPECT_EQ(sink.data(), "01234") << "exactly after_bytes reached the sink";
  EXPECT_EQ(*Get("k"), "0123456789") << "only the next GET is cut";
}

TEST_F(FaultyObjectStoreTest, TruncationEdgeCases) {
  fake_.PutForTest("k", "0123456789");
  faulty_.TruncateNextGet(0);
  faulty_.TruncateNextGet(10);
  StringSink sink;
  auto nothing = faulty_.GetObject({.key = "k"}, sink);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, ErrorCode::kTruncatedBody);
  EXPECT_EQ(sink.data(), "");
  EXPECT_EQ(*Get("k"), "0123456789") << "a body no longer than after_bytes is not cut";
  faulty_.TruncateNextGet(3);
  GetObjectRequest ranged{.key = "k", .range = ByteRange{6, std::nullopt}};
  auto partial = faulty_.GetObject(ranged, sink);
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(sink.data(), "678") << "after_bytes counts from the start of the body sent";
}

TEST_F(FaultyObjectStoreTest, LatencySleepsOnTheClock) {
  const MonoTime start = clock_.Monotonic();
  faulty_.SetLatency(Operation::kHeadObject, 50ms);
  faulty_.FailNext(Operation::kHeadObject, SlowDown());
  EXPECT_FALSE(faulty_.HeadObject({.key = "k"}).ok());  // failed calls are slow too
  EXPECT_FALSE(faulty_.HeadObject({.key = "k"}).ok());
  EXPECT_TRUE(faulty_.HeadBucket().ok());
  EXPECT_THAT(clock_.sleeps(), ElementsAre(50ms, 50ms)) << "HeadBucket has no latency";
  EXPECT_EQ(clock_.Monotonic() - start, 100ms);
  faulty_.SetLatency(Operation::kHeadObject, 0ms);
  EXPECT_FALSE(faulty_.HeadObject({.key = "k"}).ok());
  EXPECT_EQ(clock_.sleeps().size(), 2u) << "zero latency removes it";
}

TEST_F(FaultyObjectStoreTest, ClearFaultsForgetsTheScript) {
  fake_.PutForTest("k", "0123456789");
  faulty_.FailNext(Operation::kGetObject, SlowDown(), 5);
  faulty_.FailEveryNth(Operation::kListObjects, 1, SlowDown());
  faulty_.TruncateNextGet(1);
  faulty_.SetLatency(Operation::kGetObject, 1s);
  faulty_.ClearFaults();
  EXPECT_EQ(*Get("k"), "0123456789");
  EXPECT_TRUE(faulty_.ListObjects({}).ok());
  EXPECT_THAT(clock_.sleeps(), IsEmpty());
}

TEST_F(FaultyObjectStoreTest, CountsAttemptsOfEveryOperation) {
  for (Operation op : testing::kAllOperations) faulty_.FailNext(op, SlowDown());
  StringSink sink;
  (void)faulty_.HeadBucket();
  (void)faulty_.HeadObject({.key = "k"});
  (void)faulty_.GetObject({.key = "k"}, sink);
  (void)faulty_.ListObjects({});
  (void)faulty_.PutObject({.key = "k"});
  (void)faulty_.CopyObject({.source_key = "k", .destination_key = "c"});
  (void)faulty_.DeleteObject("k");
  (void)faulty_.DeleteObjects(std::vector<std::string>(2500, "k"));  // one call
  (void)faulty_.CreateMultipartUpload({.key = "k"});
  (void)faulty_.UploadPart({.key = "k", .upload_id = "u", .part_number = 1});
  (void)faulty_.UploadPartCopy({.key = "k", .upload_id = "u", .part_number = 1});
  (void)faulty_.CompleteMultipartUpload({.key = "k", .upload_id = "u"});
  (void)faulty_.AbortMultipartUpload("k", "u");
  (void)faulty_.ListParts({.key = "k", .upload_id = "u"});
  (void)faulty_.ListMultipartUploads({});
  OperationCounts expected;
  for (Operation op : testing::kAllOperations) expected.At(op) = 1;
  EXPECT_EQ(faulty_.attempts(), expected);
  EXPECT_EQ(fake_.counts(), OperationCounts{}) << "every call failed before the fake";
  faulty_.ResetAttempts();
  EXPECT_EQ(faulty_.attempts(), OperationCounts{});
}

TEST_F(FaultyObjectStoreTest, ScriptIsConsumedExactlyOnceAcrossThreads) {
  faulty_.FailNext(Operation::kPutObject, SlowDown(), 50);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t, &failures] {
      for (int i = 0; i < 25; ++i) {
        if (!Put("t" + std::to_string(t) + "-" + std::to_string(i), "x").ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 50);
  EXPECT_EQ(fake_.ObjectCount(), 50u);
  EXPECT_EQ(faulty_.attempts().put_object, 100);
}

}  // namespace
}  // namespace s3mount
