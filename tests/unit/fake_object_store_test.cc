// Tests for FakeObjectStore: that it keeps S3's rules (conditions, ranges, copy directives)
// and counts requests. Listing: fake_object_store_list_test.cc; multipart:
// fake_object_store_multipart_test.cc.
#include "tests/fakes/fake_object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/s3/object_sinks.h"
#include "tests/unit/fake_object_store_fixture.h"

namespace s3mount {
namespace {

using ::s3mount::testing::FakeObjectStore;
using ::s3mount::testing::FakeObjectStoreTest;
using ::s3mount::testing::kEmptyMd5;
using ::s3mount::testing::kHelloMd5;
using ::s3mount::testing::OperationCounts;
using ::s3mount::testing::RecordingSink;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// --- HEAD, PUT basics -------------------------------------------------------------------------

TEST_F(FakeObjectStoreTest, PutThenHeadReturnsMetadata) {
  clock_.Advance(std::chrono::milliseconds(1500));
  PutObjectRequest put;
  put.key = "dir/hello.txt";
  put.body = "hello";
  put.content_type = "text/plain";
  put.user_metadata = {{"mode", "33188"}, {"uid", "1000"}};
  auto put_result = store_.PutObject(put);
  ASSERT_TRUE(put_result.ok()) << put_result.error().ToString();
  EXPECT_EQ(put_result->etag, kHelloMd5);

  auto head = store_.HeadObject({.key = "dir/hello.txt", .if_match = std::nullopt});
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(head->key, "dir/hello.txt");
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->etag, kHelloMd5);
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->user_metadata, put.user_metadata);
  // Last-Modified has whole seconds only: 1.5 s after the start reads as 1 s after it.
  EXPECT_EQ(head->last_modified, WallTime(std::chrono::seconds(1'700'000'001)));
}

TEST_F(FakeObjectStoreTest, PutWithoutContentTypeGetsS3Default) {
  ASSERT_TRUE(Put("k", "").ok());
  EXPECT_EQ(store_.InfoOf("k")->content_type, "binary/octet-stream");
  EXPECT_EQ(store_.InfoOf("k")->etag, kEmptyMd5);
}

TEST_F(FakeObjectStoreTest, HeadMissingKeyIsNotFound) {
  auto head = store_.HeadObject({.key = "missing", .if_match = std::nullopt});
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(head.error().http_status, 404);
}

TEST_F(FakeObjectStoreTest, HeadIfMatch) {
  store_.PutForTest("k", "hello");
  EXPECT_TRUE(store_.HeadObject({.key = "k", .if_match = kHelloMd5}).ok());
  auto mismatch = store_.HeadObject({.key = "k", .if_match = "\"other\""});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, ErrorCode::kPreconditionFailed);
}

TEST_F(FakeObjectStoreTest, RejectsEmptyAndOverlongKeys) {
  EXPECT_EQ(Put("", "x").ok(), false);
  auto head = store_.HeadObject({.key = "", .if_match = std::nullopt});
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, ErrorCode::kInvalidArgument);
  PutObjectRequest put;
  put.key = std::string(1025, 'k');
  auto too_long = store_.PutObject(put);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().s3_code, "KeyTooLongError");
  put.key = std::string(1024, 'k');
  EXPECT_TRUE(store_.PutObject(put).ok());
}

// --- GET --------------------------------------------------------------------------------------

TEST_F(FakeObjectStoreTest, GetDeliversBeginThenChunks) {
  store_.PutForTest("k", "0123456789", {{"a", "b"}}, "text/plain");
  RecordingSink sink;
  auto response = store_.GetObject({.key = "k"}, sink);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(sink.begins, 1);
  EXPECT_THAT(sink.chunks, ElementsAre("0123", "4567", "89"));
  EXPECT_EQ(response->body_offset, 0u);
  EXPECT_EQ(response->body_length, 10u);
  EXPECT_EQ(response->object.size, 10u);
  EXPECT_EQ(response->object.content_type, "text/plain");
  EXPECT_EQ(response->object.user_metadata.at("a"), "b");
  ASSERT_TRUE(sink.begun_with.has_value());
  EXPECT_EQ(sink.begun_with->body_length, 10u);
}

TEST_F(FakeObjectStoreTest, GetChunkSizeIsConfigurable) {
  store_.PutForTest("k", std::string(200'000, 'x'));
  store_.SetGetChunkSize(size_t{64} << 10);
  RecordingSink sink;
  ASSERT_TRUE(store_.GetObject({.key = "k"}, sink).ok());
  ASSERT_EQ(sink.chunks.size(), 4u);
  EXPECT_EQ(sink.chunks[0].size(), 65536u);
  EXPECT_EQ(sink.chunks[3].size(), 200'000u - 3 * 65536u);
}

TEST_F(FakeObjectStoreTest, GetMissingKeyIsNoSuchKey) {
  auto body = Get("missing");
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(body.error().s3_code, "NoSuchKey");
}

struct RangeCase {
  uint64_t first;
  std::optional<uint64_t> last;
  std::string expected_body;  // empty: expect kInvalidRange
  uint64_t expected_offset;
};

TEST_F(FakeObjectStoreTest, GetRanges) {
  store_.PutForTest("k", "0123456789");
  const std::vector<RangeCase> cases = {
      {2, 5, "2345", 2},           {0, 0, "0", 0},          {9, 9, "9", 9},
      {7, std::nullopt, "789", 7}, {8, 100, "89", 8},       {10, 12, "", 0},
      {10, std::nullopt, "", 0},   {5, 3, "0123456789", 0},  // last < first: S3 ignores the Range
                                                             // header
  };
  for (const RangeCase& c : cases) {
    SCOPED_TRACE("bytes=" + std::to_string(c.first) + "-" +
                 (c.last ? std::to_string(*c.last) : ""));
    RecordingSink sink;
    auto response = store_.GetObject({.key = "k", .range = ByteRange{c.first, c.last}}, sink);
    if (c.expected_body.empty()) {
      ASSERT_FALSE(response.ok());
      EXPECT_EQ(response.error().code, ErrorCode::kInvalidRange);
      EXPECT_EQ(sink.begins, 0);
      continue;
    }
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    EXPECT_EQ(sink.Body(), c.expected_body);
    EXPECT_EQ(response->body_offset, c.expected_offset);
    EXPECT_EQ(response->body_length, c.expected_body.size());
    EXPECT_EQ(response->object.size, 10u);
  }
}

TEST_F(FakeObjectStoreTest, EmptyObjectRangeIsInvalidButPlainGetWorks) {
  store_.PutForTest("empty", "");
  auto ranged = Get("empty", ByteRange{0, std::nullopt});
  ASSERT_FALSE(ranged.ok());
  EXPECT_EQ(ranged.error().code, ErrorCode::kInvalidRange);
  RecordingSink sink;
  auto plain = store_.GetObject({.key = "empty"}, sink);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(sink.begins, 1);
  EXPECT_THAT(sink.chunks, IsEmpty());
  EXPECT_EQ(plain->body_length, 0u);
}

TEST_F(FakeObjectStoreTest, GetIfMatch) {
  std::string etag = store_.PutForTest("k", "hello");
  StringSink sink;
  EXPECT_TRUE(store_.GetObject({.key = "k", .if_match = etag}, sink).ok());
  EXPECT_TRUE(store_.GetObject({.key = "k", .if_match = etag.substr(1, 32)}, sink).ok())
      << "an unquoted ETag matches too";
  EXPECT_TRUE(store_.GetObject({.key = "k", .if_match = "*"}, sink).ok());
  RecordingSink recording;
  auto mismatch = store_.GetObject({.key = "k", .if_match = "\"nope\""}, recording);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(mismatch.error().http_status, 412);
  EXPECT_EQ(recording.begins, 0);
  // The precondition is evaluated before the range.
  auto both = store_.GetObject(
      {.key = "k", .range = ByteRange{99, std::nullopt}, .if_match = "\"nope\""}, recording);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code, ErrorCode::kPreconditionFailed);
}

TEST_F(FakeObjectStoreTest, GetIfNoneMatch) {
  std::string etag = store_.PutForTest("k", "hello");
  RecordingSink sink;
  auto same = store_.GetObject({.key = "k", .if_none_match = etag}, sink);
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().code, ErrorCode::kNotModified);
  EXPECT_EQ(sink.begins, 0);
  auto other = store_.GetObject({.key = "k", .if_none_match = "\"other\""}, sink);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(sink.Body(), "hello");
}

TEST_F(FakeObjectStoreTest, SinkErrorsAbortTheGet) {
  store_.PutForTest("k", "0123456789");
  RecordingSink on_append;
  on_append.fail_on_chunk = 2;
  auto appended = store_.GetObject({.key = "k"}, on_append);
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().message, "sink is full");
  EXPECT_EQ(on_append.chunks.size(), 2u) << "no chunk after the failing one";

  RecordingSink on_begin;
  on_begin.fail_begin = true;
  auto begun = store_.GetObject({.key = "k"}, on_begin);
  ASSERT_FALSE(begun.ok());
  EXPECT_EQ(begun.error().message, "begin refused");
  EXPECT_THAT(on_begin.chunks, IsEmpty());
}

// A sink that overwrites the object mid-GET: the GET keeps streaming the version it started
// with, and the store's lock is not held while the sink runs (or this would deadlock).
class OverwritingSink final : public ObjectSink {
 public:
  explicit OverwritingSink(FakeObjectStore& store) : store_(store) {}
  Status Begin(const GetObjectResponse&) override { return OkStatus(); }
  Status Append(std::string_view bytes) override {
    if (body_.empty()) store_.PutForTest("k", "new version");
    body_ += bytes;
    return OkStatus();
  }
  std::string body_;

 private:
  FakeObjectStore& store_;
};

TEST_F(FakeObjectStoreTest, GetStreamsTheVersionItStartedWith) {
  store_.PutForTest("k", "old version body");
  OverwritingSink sink(store_);
  ASSERT_TRUE(store_.GetObject({.key = "k"}, sink).ok());
  EXPECT_EQ(sink.body_, "old version body");
  EXPECT_EQ(store_.BodyOf("k"), "new version");
}

// --- PUT conditions, COPY, DELETE -----------------------------------------------------------

TEST_F(FakeObjectStoreTest, PutConditions) {
  PutObjectRequest put;
  put.key = "k";
  put.body = "one";
  put.if_none_match_any = true;
  auto created = store_.PutObject(put);
  ASSERT_TRUE(created.ok()) << "If-None-Match: * on a new key succeeds";
  auto again = store_.PutObject(put);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(store_.BodyOf("k"), "one");

  put.if_none_match_any = false;
  put.body = "two";
  put.if_match = "\"stale\"";
  auto stale = store_.PutObject(put);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);
  put.if_match = created->etag;
  auto replaced = store_.PutObject(put);
  ASSERT_TRUE(replaced.ok());
  EXPECT_NE(replaced->etag, created->etag);
  EXPECT_EQ(store_.BodyOf("k"), "two");

  put.key = "missing";
  auto missing = store_.PutObject(put);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_.ObjectCount(), 1u);
}

TEST_F(FakeObjectStoreTest, CopyKeepsOrReplacesMetadata) {
  const std::string etag = store_.PutForTest("src", "hello", {{"mode", "1"}}, "text/plain");
  clock_.Advance(std::chrono::seconds(10));
  CopyObjectRequest copy;
  copy.source_key = "src";
  copy.destination_key = "kept";
  copy.content_type = "ignored/with-copy";
  copy.user_metadata = {{"ignored", "yes"}};
  auto kept = store_.CopyObject(copy);
  ASSERT_TRUE(kept.ok()) << kept.error().ToString();
  EXPECT_EQ(kept->etag, etag) << "a copy of a simple object has the same MD5 ETag";
  EXPECT_EQ(kept->last_modified, clock_.Now());
  EXPECT_EQ(store_.InfoOf("kept")->content_type, "text/plain");
  EXPECT_EQ(store_.InfoOf("kept")->user_metadata, (UserMetadata{{"mode", "1"}}));
  EXPECT_EQ(store_.BodyOf("kept"), "hello");

  copy.destination_key = "replaced";
  copy.metadata_directive = MetadataDirective::kReplace;
  ASSERT_TRUE(store_.CopyObject(copy).ok());
  EXPECT_EQ(store_.InfoOf("replaced")->content_type, "ignored/with-copy");
  EXPECT_EQ(store_.InfoOf("replaced")->user_metadata, (UserMetadata{{"ignored", "yes"}}));
}

TEST_F(FakeObjectStoreTest, CopyOntoItselfNeedsReplace) {
  store_.PutForTest("k", "hello", {{"mode", "1"}});
  CopyObjectRequest copy;
  copy.source_key = "k";
  copy.destination_key = "k";
  auto refused = store_.CopyObject(copy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(refused.error().s3_code, "InvalidRequest");
  copy.metadata_directive = MetadataDirective::kReplace;
  copy.user_metadata = {{"mode", "2"}};
  ASSERT_TRUE(store_.CopyObject(copy).ok());
  EXPECT_EQ(store_.InfoOf("k")->user_metadata.at("mode"), "2");
  EXPECT_EQ(store_.BodyOf("k"), "hello");
}

TEST_F(FakeObjectStoreTest, CopyErrors) {
  CopyObjectRequest copy;
  copy.source_key = "missing";
  copy.destination_key = "dst";
  auto missing = store_.CopyObject(copy);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  const std::string etag = store_.PutForTest("src", "hello");
  copy.source_key = "src";
  copy.source_if_match = "\"other\"";
  auto stale = store_.CopyObject(copy);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_FALSE(store_.BodyOf("dst").has_value());
  copy.source_if_match = etag;
  EXPECT_TRUE(store_.CopyObject(copy).ok());
}

TEST_F(FakeObjectStoreTest, DeleteIsIdempotent) {
  store_.PutForTest("k", "x");
  EXPECT_TRUE(store_.DeleteObject("k").ok());
  EXPECT_FALSE(store_.BodyOf("k").has_value());
  EXPECT_TRUE(store_.DeleteObject("k").ok()) << "deleting a missing key succeeds";
}

TEST_F(FakeObjectStoreTest, DeleteObjectsCountsBatchesOfAThousand) {
  std::vector<std::string> keys;
  keys.reserve(2500);
  for (int i = 0; i < 2500; ++i) keys.push_back("k" + std::to_string(i));
  for (int i = 0; i < 2500; i += 2) store_.PutForTest(keys[i], "x");  // half exist
  store_.PutForTest("survivor", "x");
  auto response = store_.DeleteObjects(keys);
  ASSERT_TRUE(response.ok());
  EXPECT_THAT(response->failures, IsEmpty());
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"survivor"});
  EXPECT_EQ(store_.counts().delete_objects, 3);
  ASSERT_TRUE(store_.DeleteObjects({}).ok());
  EXPECT_EQ(store_.counts().delete_objects, 3) << "an empty list sends no request";
  ASSERT_TRUE(store_.DeleteObjects(std::vector<std::string>(1000, "x")).ok());
  EXPECT_EQ(store_.counts().delete_objects, 4);
}

// --- Bucket, counters, concurrency ----------------------------------------------------------

TEST_F(FakeObjectStoreTest, HeadBucketReportsConfiguredRegion) {
  EXPECT_EQ(store_.HeadBucket()->region, "us-east-1");
  store_.SetRegion("eu-west-3");
  EXPECT_EQ(store_.HeadBucket()->region, "eu-west-3");
}

TEST_F(FakeObjectStoreTest, CountsEveryRequestIncludingFailures) {
  store_.PutForTest("k", "hello");  // helpers are not counted
  (void)store_.BodyOf("k");
  EXPECT_EQ(store_.counts(), OperationCounts{});
  StringSink sink;
  (void)store_.HeadBucket();
  (void)store_.HeadObject({.key = "k"});
  (void)store_.HeadObject({.key = "missing"});
  (void)store_.GetObject({.key = "k"}, sink);
  (void)store_.ListObjects({});
  (void)store_.PutObject({.key = "p"});
  (void)store_.CopyObject({.source_key = "k", .destination_key = "c"});
  (void)store_.DeleteObject("c");
  (void)store_.DeleteObjects({"p"});
  auto id = store_.CreateMultipartUpload({.key = "m"});
  ASSERT_TRUE(id.ok());
  (void)store_.UploadPart({.key = "m", .upload_id = *id, .part_number = 1, .body = "x"});
  (void)store_.UploadPartCopy({.key = "m", .upload_id = *id, .part_number = 2, .source_key = "k"});
  (void)store_.ListParts({.key = "m", .upload_id = *id});
  (void)store_.ListMultipartUploads({});
  (void)store_.CompleteMultipartUpload({.key = "m", .upload_id = *id});  // fails: no parts
  (void)store_.AbortMultipartUpload("m", *id);
  OperationCounts expected;
  for (testing::Operation op : testing::kAllOperations) expected.At(op) = 1;
  expected.head_object = 2;
  EXPECT_EQ(store_.counts(), expected);
  EXPECT_EQ(store_.counts().Total(), 16);
  store_.ResetCounts();
  EXPECT_EQ(store_.counts(), OperationCounts{});
}

TEST_F(FakeObjectStoreTest, ConcurrentClientsSeeConsistentState) {
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_TRUE(Put(key, key).ok());
        EXPECT_EQ(*Get(key), key);
        EXPECT_TRUE(store_.ListObjects({.prefix = "t", .delimiter = "/"}).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store_.ObjectCount(), 200u);
  EXPECT_EQ(store_.counts().put_object, 200);
  EXPECT_EQ(store_.counts().list_objects, 200);
}

}  // namespace
}  // namespace s3mount
