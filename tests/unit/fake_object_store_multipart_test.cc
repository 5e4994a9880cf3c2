// Tests for FakeObjectStore's multipart uploads: validation of parts, the multipart ETag,
// abort, UploadPartCopy ranges and ListParts paging.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/s3/object_sinks.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/unit/fake_object_store_fixture.h"

namespace s3mount {
namespace {

using ::s3mount::testing::FakeObjectStore;
using ::s3mount::testing::FakeObjectStoreTest;
using ::testing::IsEmpty;

// --- Multipart --------------------------------------------------------------------------------

class FakeObjectStoreMultipartTest : public FakeObjectStoreTest {
 protected:
  std::string Create(const std::string& key) {
    auto id = store_.CreateMultipartUpload(
        {.key = key, .content_type = "text/csv", .user_metadata = {{"mode", "33188"}}});
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : "";
  }
  Result<std::string> Part(const std::string& id, int number, std::string_view body,
                           const std::string& key = "big") {
    return store_.UploadPart({.key = key, .upload_id = id, .part_number = number, .body = body});
  }
  Result<PutObjectResponse> Complete(const std::string& id, std::vector<CompletedPart> parts) {
    return store_.CompleteMultipartUpload(
        {.key = "big", .upload_id = id, .parts = std::move(parts)});
  }
  static void ExpectInvalidPart(const Result<PutObjectResponse>& result, const char* s3_code) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidPart);
    EXPECT_EQ(result.error().s3_code, s3_code);
  }
};

TEST_F(FakeObjectStoreMultipartTest, CompleteAssemblesPartsWithMultipartEtag) {
  const std::string id = Create("big");
  EXPECT_EQ(store_.PendingUploads(), std::vector<std::string>{id});
  EXPECT_EQ(store_.PendingUploadKeys(), std::vector<std::string>{"big"});
  auto second = Part(id, 2, "bbb");  // parts may arrive in any order
  auto first = Part(id, 1, "aaaaa");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, "\"594f803b380a41396ed63dca39503542\"");  // MD5("aaaaa")
  EXPECT_FALSE(store_.BodyOf("big").has_value()) << "invisible until completed";
  auto done = Complete(id, {{1, *first}, {2, *second}});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  // MD5(MD5("aaaaa") || MD5("bbb")), then "-<part count>".
  EXPECT_EQ(done->etag, "\"72d27afac8e2fbd3662861b9d607a02c-2\"");
  EXPECT_EQ(store_.BodyOf("big"), "aaaaabbb");
  EXPECT_EQ(store_.InfoOf("big")->etag, done->etag);
  EXPECT_EQ(store_.InfoOf("big")->content_type, "text/csv");
  EXPECT_EQ(store_.InfoOf("big")->user_metadata.at("mode"), "33188");
  EXPECT_THAT(store_.PendingUploads(), IsEmpty());
  EXPECT_EQ(Part(id, 3, "late").error().code, ErrorCode::kNoSuchUpload);
}

TEST_F(FakeObjectStoreMultipartTest, UploadPartValidatesNumberAndUpload) {
  const std::string id = Create("big");
  for (int bad : {0, -1, 10001}) {
    auto part = Part(id, bad, "x");
    ASSERT_FALSE(part.ok()) << bad;
    EXPECT_EQ(part.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(Part(id, 10000, "x").ok());
  EXPECT_EQ(Part("no-such-id", 1, "x").error().code, ErrorCode::kNoSuchUpload);
  EXPECT_EQ(Part(id, 1, "x", "other-key").error().code, ErrorCode::kNoSuchUpload);
}

TEST_F(FakeObjectStoreMultipartTest, CompleteValidatesOrderEtagsAndSizes) {
  const std::string id = Create("big");
  const std::string e1 = *Part(id, 1, "11111");
  const std::string e2 = *Part(id, 2, "2222");  // below the minimum of 5 bytes
  const std::string e3 = *Part(id, 3, "3");
  ExpectInvalidPart(Complete(id, {{2, e2}, {1, e1}}), "InvalidPartOrder");
  ExpectInvalidPart(Complete(id, {{1, e1}, {1, e1}}), "InvalidPartOrder");
  ExpectInvalidPart(Complete(id, {{1, e1}, {2, "\"wrong\""}}), "InvalidPart");
  ExpectInvalidPart(Complete(id, {{1, e1}, {4, e3}}), "InvalidPart");
  ExpectInvalidPart(Complete(id, {{1, e1}, {2, e2}, {3, e3}}), "EntityTooSmall");
  auto empty = Complete(id, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(store_.PendingUploads().size(), 1u) << "a failed complete keeps the upload";
  // A subset of the parts is fine; only the last may be small; unquoted ETags match.
  auto done = Complete(id, {{1, e1.substr(1, 32)}, {3, e3}});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(store_.BodyOf("big"), "111113");
  EXPECT_TRUE(done->etag.ends_with("-2\"")) << done->etag;
}

TEST_F(FakeObjectStoreMultipartTest, DefaultMinimumPartSizeIsFiveMebibytes) {
  FakeObjectStore store(clock_);
  auto id = store.CreateMultipartUpload({.key = "big"});
  ASSERT_TRUE(id.ok());
  const std::string almost((size_t{5} << 20) - 1, 'x');
  const std::string enough(size_t{5} << 20, 'y');
  auto e1 = store.UploadPart({.key = "big", .upload_id = *id, .part_number = 1, .body = almost});
  auto e2 = store.UploadPart({.key = "big", .upload_id = *id, .part_number = 2, .body = "z"});
  ASSERT_TRUE(e1.ok() && e2.ok());
  auto small = store.CompleteMultipartUpload(
      {.key = "big", .upload_id = *id, .parts = {{1, *e1}, {2, *e2}}});
  ExpectInvalidPart(small, "EntityTooSmall");
  e1 = store.UploadPart({.key = "big", .upload_id = *id, .part_number = 1, .body = enough});
  ASSERT_TRUE(e1.ok());
  EXPECT_TRUE(
      store.CompleteMultipartUpload({.key = "big", .upload_id = *id, .parts = {{1, *e1}, {2, *e2}}})
          .ok())
      << "a re-uploaded part replaces the old one";
}

TEST_F(FakeObjectStoreMultipartTest, AbortDiscardsTheUpload) {
  const std::string id = Create("big");
  ASSERT_TRUE(Part(id, 1, "x").ok());
  EXPECT_TRUE(store_.AbortMultipartUpload("big", id).ok());
  EXPECT_THAT(store_.PendingUploads(), IsEmpty());
  EXPECT_EQ(Part(id, 2, "x").error().code, ErrorCode::kNoSuchUpload);
  Status again = store_.AbortMultipartUpload("big", id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNoSuchUpload);
  EXPECT_EQ(store_.ObjectCount(), 0u);
}

TEST_F(FakeObjectStoreMultipartTest, UploadPartCopyWithRanges) {
  const std::string source_etag = store_.PutForTest("src", "0123456789");
  const std::string id = Create("big");
  UploadPartCopyRequest copy{.key = "big",
                             .upload_id = id,
                             .part_number = 1,
                             .source_key = "src",
                             .source_range = ByteRange{2, 6}};
  auto e1 = store_.UploadPartCopy(copy);
  ASSERT_TRUE(e1.ok()) << e1.error().ToString();
  copy.part_number = 2;
  copy.source_range.reset();
  copy.source_if_match = source_etag;
  auto e2 = store_.UploadPartCopy(copy);
  ASSERT_TRUE(e2.ok()) << e2.error().ToString();
  ASSERT_TRUE(Complete(id, {{1, *e1}, {2, *e2}}).ok());
  EXPECT_EQ(store_.BodyOf("big"), "234560123456789");

  const std::string id2 = Create("big");
  copy.upload_id = id2;
  copy.source_if_match = "\"other\"";
  EXPECT_EQ(store_.UploadPartCopy(copy).error().code, ErrorCode::kPreconditionFailed);
  copy.source_if_match.reset();
  copy.source_range = ByteRange{5, 10};
  EXPECT_EQ(store_.UploadPartCopy(copy).error().code, ErrorCode::kInvalidRange);
  copy.source_key = "missing";
  EXPECT_EQ(store_.UploadPartCopy(copy).error().code, ErrorCode::kNotFound);
  copy.part_number = 0;
  EXPECT_EQ(store_.UploadPartCopy(copy).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(FakeObjectStoreMultipartTest, ListPartsPages) {
  const std::string id = Create("big");
  for (int number : {5, 1, 3, 2}) ASSERT_TRUE(Part(id, number, std::string(number, 'p')).ok());
  auto first = store_.ListParts({.key = "big", .upload_id = id, .max_parts = 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->parts.size(), 2u);
  EXPECT_EQ(first->parts[0].part_number, 1);
  EXPECT_EQ(first->parts[1].part_number, 2);
  EXPECT_EQ(first->parts[1].size, 2u);
  EXPECT_EQ(first->parts[1].etag, *Part(id, 2, "pp"));
  EXPECT_TRUE(first->is_truncated);
  EXPECT_EQ(first->next_part_number_marker, 2);
  auto rest =
      store_.ListParts({.key = "big", .upload_id = id, .part_number_marker = 2, .max_parts = 2});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->parts.size(), 2u);
  EXPECT_EQ(rest->parts[0].part_number, 3);
  EXPECT_EQ(rest->parts[1].part_number, 5);
  EXPECT_FALSE(rest->is_truncated);
  EXPECT_EQ(store_.ListParts({.key = "big", .upload_id = "nope"}).error().code,
            ErrorCode::kNoSuchUpload);
}

TEST_F(FakeObjectStoreMultipartTest, ListMultipartUploadsByPrefixInKeyThenCreationOrder) {
  auto b1 = store_.CreateMultipartUpload({.key = "dir/b"});
  auto a = store_.CreateMultipartUpload({.key = "dir/a"});
  auto b2 = store_.CreateMultipartUpload({.key = "dir/b"});
  auto other = store_.CreateMultipartUpload({.key = "other"});
  ASSERT_TRUE(b1.ok() && a.ok() && b2.ok() && other.ok());
  auto page = store_.ListMultipartUploads({.prefix = "dir/"});
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  std::vector<std::string> ids;
  for (const OpenUpload& upload : page->uploads) ids.push_back(upload.upload_id);
  EXPECT_EQ(ids, (std::vector<std::string>{*a, *b1, *b2}));
  EXPECT_FALSE(page->is_truncated);
  auto after = store_.ListMultipartUploads(
      {.prefix = "dir/", .key_marker = "dir/b", .upload_id_marker = *b1});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->uploads.size(), 1u);
  EXPECT_EQ(after->uploads[0].upload_id, *b2);
  ASSERT_TRUE(store_.AbortMultipartUpload("dir/a", *a).ok());
  EXPECT_EQ(store_.ListMultipartUploads({.prefix = "dir/a"})->uploads.size(), 0u);
}

}  // namespace
}  // namespace s3mount
