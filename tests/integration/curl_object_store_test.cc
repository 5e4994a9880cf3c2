// Integration tests of CurlObjectStore against a real moto_server without signature checks:
// every operation, object sizes from 0 bytes to a 64 MiB multipart upload, and keys holding
// every character that needs care in a URL, a signature or XML.
#include "s3mount/s3/curl_object_store.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "s3mount/s3/object_sinks.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"

namespace s3mount {
namespace {

using testing::LocalClientOptions;
using testing::MakeTestClient;

std::string RandomBody(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  return data;
}

const std::vector<std::string>& SpecialKeys() {
  static const std::vector<std::string> keys = {
      "plain.txt",         "with space.txt",   "plus+sign",
      "equals=and&amp",    "dollar$at@colon:", "star*paren(s)",
      "comma,semi;quote'", "tilde~name",       "utf8-\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac",
      "double//slash",     "dir/./dot/../x",   "percent%20literal",
      "question?hash#",    "/leading-slash",   "bracket[1]{2}",
      "tab\tand\"dq\"<lt>"};
  return keys;
}

class CurlObjectStoreTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    testing::MotoTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = MakeTestClient(LocalClientOptions(server().endpoint(), bucket()),
                             {"test", "test", "", std::nullopt}, clock_);
    ASSERT_NE(client_.store, nullptr);
  }
  ObjectStore& store() { return *client_.store; }

  std::string Get(const std::string& key) {
    StringSink sink;
    auto got = store().GetObject({.key = key}, sink);
    EXPECT_TRUE(got.ok()) << key << ": " << got.error().ToString();
    return sink.Take();
  }
  void Put(const std::string& key, std::string_view body) {
    auto put = store().PutObject({.key = key, .body = body});
    ASSERT_TRUE(put.ok()) << key << ": " << put.error().ToString();
  }

  SystemClock clock_;
  testing::TestClient client_;
};

TEST_F(CurlObjectStoreTest, ObjectsOfZeroOneAndFiveMibPlusOneBytesRoundTrip) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{5 * 1024 * 1024 + 1}}) {
    const std::string key = "size-" + std::to_string(size);
    const std::string body = RandomBody(size, size);
    Put(key, body);
    auto head = store().HeadObject({.key = key});
    ASSERT_TRUE(head.ok()) << head.error().ToString();
    EXPECT_EQ(head->size, size);
    EXPECT_FALSE(head->etag.empty());
    const std::string back = Get(key);
    EXPECT_EQ(back.size(), size);
    EXPECT_TRUE(back == body) << "object of " << size << " bytes came back different";
  }
}

TEST_F(CurlObjectStoreTest, KeysWithSpecialCharactersWorkInEveryOperation) {
  for (const std::string& key : SpecialKeys()) {
    SCOPED_TRACE("key '" + key + "'");
    Put(key, "body of " + key);
    auto head = store().HeadObject({.key = key});
    ASSERT_TRUE(head.ok()) << head.error().ToString();
    EXPECT_EQ(Get(key), "body of " + key);
    auto listed = store().ListObjects({.prefix = key});
    ASSERT_TRUE(listed.ok()) << listed.error().ToString();
    ASSERT_FALSE(listed->objects.empty());
    EXPECT_EQ(listed->objects.front().key, key);
    // Multipart on the same key: create, a part copied from the key itself, list, complete.
    auto upload = store().CreateMultipartUpload({.key = key + ".mp"});
    ASSERT_TRUE(upload.ok()) << upload.error().ToString();
    auto part = store().UploadPartCopy(
        {.key = key + ".mp", .upload_id = *upload, .part_number = 1, .source_key = key});
    ASSERT_TRUE(part.ok()) << part.error().ToString();
    auto parts = store().ListParts({.key = key + ".mp", .upload_id = *upload});
    ASSERT_TRUE(parts.ok()) << parts.error().ToString();
    EXPECT_EQ(parts->parts.size(), 1u);
    ASSERT_TRUE(store()
                    .CompleteMultipartUpload(
                        {.key = key + ".mp", .upload_id = *upload, .parts = {{1, *part}}})
                    .ok());
    EXPECT_EQ(Get(key + ".mp"), "body of " + key);
    auto aborted = store().CreateMultipartUpload({.key = key + ".abort"});
    ASSERT_TRUE(aborted.ok());
    ASSERT_TRUE(
        store()
            .UploadPart(
                {.key = key + ".abort", .upload_id = *aborted, .part_number = 1, .body = "x"})
            .ok());
    EXPECT_TRUE(store().AbortMultipartUpload(key + ".abort", *aborted).ok());
    auto copied = store().CopyObject({.source_key = key, .destination_key = key + ".copy"});
    ASSERT_TRUE(copied.ok()) << copied.error().ToString();
    EXPECT_EQ(Get(key + ".copy"), "body of " + key);
    ASSERT_TRUE(store().DeleteObject(key).ok());
    auto gone = store().HeadObject({.key = key});
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  }
  std::vector<std::string> copies;
  for (const auto& key : SpecialKeys()) {
    copies.push_back(key + ".copy");
    copies.push_back(key + ".mp");
  }
  auto deleted = store().DeleteObjects(copies);
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_TRUE(deleted->failures.empty());
  auto rest = store().ListObjects({});
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->objects.empty()) << rest->objects.front().key;
}

TEST_F(CurlObjectStoreTest, RangedAndConditionalGets) {
  const std::string body = RandomBody(1000, 7);
  Put("r", body);
  StringSink sink;
  auto got = store().GetObject({.key = "r", .range = ByteRange{10, 19}}, sink);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(sink.data(), body.substr(10, 10));
  EXPECT_EQ(got->body_offset, 10u);
  EXPECT_EQ(got->body_length, 10u);
  EXPECT_EQ(got->object.size, 1000u);

  got = store().GetObject({.key = "r", .range = ByteRange{995, std::nullopt}}, sink);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(sink.data(), body.substr(995));

  got = store().GetObject({.key = "r", .range = ByteRange{5000, std::nullopt}}, sink);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kInvalidRange);

  const std::string etag = store().HeadObject({.key = "r"})->etag;
  got = store().GetObject({.key = "r", .if_match = "\"0123\""}, sink);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kPreconditionFailed);
  got = store().GetObject({.key = "r", .if_none_match = etag}, sink);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kNotModified);
  got = store().GetObject({.key = "r", .if_match = etag}, sink);
  EXPECT_TRUE(got.ok());

  auto missing = store().GetObject({.key = "missing"}, sink);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().s3_code, "NoSuchKey");
}

TEST_F(CurlObjectStoreTest, PutMetadataContentTypeAndIfNoneMatch) {
  const UserMetadata metadata = {{"mode", "33188"}, {"uid", "1000"}, {"mtime", "1700000000.5"}};
  auto put = store().PutObject(
      {.key = "m", .body = "x", .content_type = "text/plain", .user_metadata = metadata});
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  auto head = store().HeadObject({.key = "m"});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->user_metadata, metadata);
  EXPECT_EQ(head->etag, put->etag);

  auto again = store().PutObject({.key = "m", .body = "y", .if_none_match_any = true});
  ASSERT_FALSE(again.ok()) << "If-None-Match: * overwrote an existing object";
  EXPECT_EQ(again.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(Get("m"), "x");
  auto fresh = store().PutObject({.key = "new", .body = "z", .if_none_match_any = true});
  EXPECT_TRUE(fresh.ok()) << fresh.error().ToString();
}

TEST_F(CurlObjectStoreTest, CopyKeepsOrReplacesMetadata) {
  ASSERT_TRUE(store()
                  .PutObject({.key = "src",
                              .body = "data",
                              .content_type = "text/plain",
                              .user_metadata = {{"mode", "33188"}}})
                  .ok());
  auto kept = store().CopyObject({.source_key = "src", .destination_key = "kept"});
  ASSERT_TRUE(kept.ok()) << kept.error().ToString();
  EXPECT_FALSE(kept->etag.empty());
  EXPECT_EQ(store().HeadObject({.key = "kept"})->user_metadata.at("mode"), "33188");

  auto replaced = store().CopyObject({.source_key = "src",
                                      .destination_key = "src",
                                      .metadata_directive = MetadataDirective::kReplace,
                                      .content_type = "application/json",
                                      .user_metadata = {{"mode", "33261"}}});
  ASSERT_TRUE(replaced.ok()) << replaced.error().ToString();
  auto head = store().HeadObject({.key = "src"});
  EXPECT_EQ(head->user_metadata.at("mode"), "33261");
  EXPECT_EQ(head->content_type, "application/json");
  EXPECT_EQ(Get("src"), "data");
}

TEST_F(CurlObjectStoreTest, ListingWithDelimiterPaginationAndStartAfter) {
  for (const char* key : {"a/1", "a/2", "a/b/3", "a b/4", "a+b", "b", "c/d/e", "\xc3\xa9"}) {
    Put(key, key);
  }
  auto top = store().ListObjects({.delimiter = "/"});
  ASSERT_TRUE(top.ok()) << top.error().ToString();
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"a b/", "a/", "c/"}));
  std::vector<std::string> keys;
  for (const auto& o : top->objects) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a+b", "b", "\xc3\xa9"}));

  auto in_a = store().ListObjects({.prefix = "a/", .delimiter = "/"});
  ASSERT_TRUE(in_a.ok());
  EXPECT_EQ(in_a->common_prefixes, std::vector<std::string>{"a/b/"});
  ASSERT_EQ(in_a->objects.size(), 2u);
  EXPECT_EQ(in_a->objects[0].size, 3u);

  std::vector<std::string> paged;
  ListObjectsRequest request{.max_keys = 3};
  int pages = 0;
  do {
    auto page = store().ListObjects(request);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    ++pages;
    for (const auto& o : page->objects) paged.push_back(o.key);
    request.continuation_token = page->is_truncated ? page->next_continuation_token : "";
  } while (!request.continuation_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(paged, (std::vector<std::string>{"a b/4", "a+b", "a/1", "a/2", "a/b/3", "b", "c/d/e",
                                             "\xc3\xa9"}));

  auto after = store().ListObjects({.start_after = "a/b/3"});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->objects.size(), 3u);
  EXPECT_EQ(after->objects[0].key, "b");
}

TEST_F(CurlObjectStoreTest, DeleteObjectsBeyondOneBatch) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1100; ++i) keys.push_back("many/" + std::to_string(i));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < keys.size(); i += 4) {
        EXPECT_TRUE(store().PutObject({.key = keys[i], .body = "x"}).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  auto deleted = store().DeleteObjects(keys);
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_TRUE(deleted->failures.empty());
  auto left = store().ListObjects({.prefix = "many/"});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->objects.empty()) << left->objects.size() << " keys survived";
}

TEST_F(CurlObjectStoreTest, MultipartUploadOf64MibRoundTrips) {
  constexpr size_t kPart = 16 * 1024 * 1024;
  const std::string body = RandomBody(4 * kPart, 64);
  auto upload = store().CreateMultipartUpload(
      {.key = "big", .content_type = "application/octet-stream", .user_metadata = {{"k", "v"}}});
  ASSERT_TRUE(upload.ok()) << upload.error().ToString();
  std::vector<CompletedPart> parts(4);
  std::vector<std::thread> uploaders;
  for (int i = 0; i < 4; ++i) {
    uploaders.emplace_back([&, i] {
      auto etag = store().UploadPart({.key = "big",
                                      .upload_id = *upload,
                                      .part_number = i + 1,
                                      .body = std::string_view(body).substr(i * kPart, kPart)});
      ASSERT_TRUE(etag.ok()) << etag.error().ToString();
      parts[i] = {.part_number = i + 1, .etag = *etag};
    });
  }
  for (auto& u : uploaders) u.join();
  auto listed = store().ListParts({.key = "big", .upload_id = *upload, .max_parts = 3});
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  ASSERT_EQ(listed->parts.size(), 3u);
  EXPECT_TRUE(listed->is_truncated);
  EXPECT_EQ(listed->parts[1].size, kPart);
  auto rest = store().ListParts(
      {.key = "big", .upload_id = *upload, .part_number_marker = listed->next_part_number_marker});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->parts.size(), 1u);
  EXPECT_EQ(rest->parts[0].part_number, 4);

  auto done = store().CompleteMultipartUpload({.key = "big", .upload_id = *upload, .parts = parts});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_TRUE(done->etag.ends_with("-4\"")) << done->etag;
  const std::string back = Get("big");
  EXPECT_EQ(back.size(), body.size());
  EXPECT_TRUE(back == body) << "64 MiB multipart object came back different";
  EXPECT_EQ(store().HeadObject({.key = "big"})->user_metadata.at("k"), "v");
}

TEST_F(CurlObjectStoreTest, UploadPartCopyAndAbort) {
  constexpr size_t kSize = 6 * 1024 * 1024;
  const std::string body = RandomBody(kSize, 3);
  Put("source", body);
  auto upload = store().CreateMultipartUpload({.key = "assembled"});
  ASSERT_TRUE(upload.ok());
  const size_t split = 5 * 1024 * 1024;
  auto first = store().UploadPartCopy({.key = "assembled",
                                       .upload_id = *upload,
                                       .part_number = 1,
                                       .source_key = "source",
                                       .source_range = ByteRange{0, split - 1}});
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  auto second = store().UploadPartCopy({.key = "assembled",
                                        .upload_id = *upload,
                                        .part_number = 2,
                                        .source_key = "source",
                                        .source_range = ByteRange{split, kSize - 1}});
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  auto done = store().CompleteMultipartUpload(
      {.key = "assembled", .upload_id = *upload, .parts = {{1, *first}, {2, *second}}});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_TRUE(Get("assembled") == body) << "UploadPartCopy assembled the wrong bytes";

  auto abandoned = store().CreateMultipartUpload({.key = "abandoned"});
  ASSERT_TRUE(abandoned.ok());
  ASSERT_TRUE(
      store()
          .UploadPart({.key = "abandoned", .upload_id = *abandoned, .part_number = 1, .body = "x"})
          .ok());
  ASSERT_TRUE(store().AbortMultipartUpload("abandoned", *abandoned).ok());
  auto parts = store().ListParts({.key = "abandoned", .upload_id = *abandoned});
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().code, ErrorCode::kNoSuchUpload);
}

TEST_F(CurlObjectStoreTest, HeadBucketReportsRegionAndMissingBucket) {
  auto info = store().HeadBucket();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->region, "us-east-1");
  auto other = MakeTestClient(LocalClientOptions(server().endpoint(), "no-such-bucket-here"),
                              {"test", "test", "", std::nullopt}, clock_);
  auto missing = other.store->HeadBucket();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto listing = other.store->ListObjects({});
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code, ErrorCode::kNoSuchBucket);
}

}  // namespace
}  // namespace s3mount
