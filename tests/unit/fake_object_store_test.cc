// Tests for FakeObjectStore: that it keeps S3's rules (conditions, ranges, listing order,
// delimiters and paging, copy directives, multipart validation and ETags) and counts requests.
#include "tests/fakes/fake_object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/s3/object_sinks.h"
#include "tests/fakes/fake_clock.h"

namespace s3mount {
namespace {

using ::s3mount::testing::FakeClock;
using ::s3mount::testing::FakeObjectStore;
using ::s3mount::testing::OperationCounts;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kHelloMd5[] = "\"5d41402abc4b2a76b9719d911017c592\"";
constexpr char kEmptyMd5[] = "\"d41d8cd98f00b204e9800998ecf8427e\"";

// Records how the store drove it; can be told to fail at a given call.
class RecordingSink final : public ObjectSink {
 public:
  Status Begin(const GetObjectResponse& response) override {
    ++begins;
    begun_with = response;
    if (fail_begin) return MakeError(ErrorCode::kCancelled, "begin refused");
    return OkStatus();
  }
  Status Append(std::string_view bytes) override {
    EXPECT_EQ(begins, 1) << "Append before Begin";
    chunks.emplace_back(bytes);
    if (fail_on_chunk && chunks.size() == *fail_on_chunk) {
      return MakeError(ErrorCode::kCancelled, "sink is full");
    }
    return OkStatus();
  }
  std::string Body() const {
    std::string out;
    for (const auto& chunk : chunks) out += chunk;
    return out;
  }

  int begins = 0;
  std::optional<GetObjectResponse> begun_with;
  std::vector<std::string> chunks;
  bool fail_begin = false;
  std::optional<size_t> fail_on_chunk;
};

class FakeObjectStoreTest : public ::testing::Test {
 protected:
  FakeObjectStoreTest()
      : store_(clock_, FakeObjectStore::Options{.get_chunk_size = 4, .min_part_size = 5}) {}

  // GETs `key` (optionally a range) and returns the body, or the error.
  Result<std::string> Get(const std::string& key, std::optional<ByteRange> range = {}) {
    GetObjectRequest request;
    request.key = key;
    request.range = range;
    StringSink sink;
    auto response = store_.GetObject(request, sink);
    S3M_RETURN_IF_ERROR(response);
    return sink.Take();
  }

  Status Put(const std::string& key, std::string_view body) {
    PutObjectRequest request;
    request.key = key;
    request.body = body;
    auto response = store_.PutObject(request);
    S3M_RETURN_IF_ERROR(response);
    return OkStatus();
  }

  FakeClock clock_;
  FakeObjectStore store_;
};

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

// --- ListObjectsV2 ----------------------------------------------------------------------------

// Keys that shadow each other in every way S3 allows, plus UTF-8, in S3's (byte) order:
// ' ' (0x20) < '+' (0x2B) < '/' (0x2F) < 'b' < 'z' < 0xC3 ('é') < 0xE6 ('日').
const std::vector<std::string>& TreeKeys() {
  static const std::vector<std::string> keys = {
      "a",  "a b", "a+b",        "a/", "a/b",      "a/b/c",
      "ab", "b/z", "b/\xC3\xA9", "z",  "\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC/x"};
  return keys;
}

// The page's keys and common prefixes (marked "P:") merged in S3's order. Each list must
// already be sorted on its own.
std::vector<std::string> Entries(const ListObjectsPage& page) {
  std::vector<std::string> entries;
  for (const auto& object : page.objects) entries.push_back(object.key);
  EXPECT_TRUE(std::is_sorted(entries.begin(), entries.end())) << "objects out of order";
  EXPECT_TRUE(std::is_sorted(page.common_prefixes.begin(), page.common_prefixes.end()))
      << "common prefixes out of order";
  for (const auto& prefix : page.common_prefixes) entries.push_back("P:" + prefix);
  std::sort(entries.begin(), entries.end(), [](const std::string& a, const std::string& b) {
    auto strip = [](const std::string& s) { return s.starts_with("P:") ? s.substr(2) : s; };
    return strip(a) < strip(b);
  });
  return entries;
}

class FakeObjectStoreListTest : public FakeObjectStoreTest {
 protected:
  void SetUp() override {
    for (const auto& key : TreeKeys()) store_.PutForTest(key, "body of " + key);
  }

  ListObjectsPage ListOnce(std::string prefix, std::string delimiter, int max_keys = 1000) {
    ListObjectsRequest request;
    request.prefix = std::move(prefix);
    request.delimiter = std::move(delimiter);
    request.max_keys = max_keys;
    auto page = store_.ListObjects(request);
    EXPECT_TRUE(page.ok()) << page.error().ToString();
    return page.ok() ? *page : ListObjectsPage{};
  }

  // Lists every page; checks the paging invariants and returns the entries in order.
  std::vector<std::string> ListAll(ListObjectsRequest request, int* pages = nullptr) {
    std::vector<std::string> all;
    int count = 0;
    for (;;) {
      auto page = store_.ListObjects(request);
      EXPECT_TRUE(page.ok()) << page.error().ToString();
      if (!page.ok() || ++count > 100) break;
      const auto entries = Entries(*page);
      EXPECT_LE(entries.size(), static_cast<size_t>(request.max_keys));
      all.insert(all.end(), entries.begin(), entries.end());
      if (!page->is_truncated) {
        EXPECT_TRUE(page->next_continuation_token.empty());
        break;
      }
      EXPECT_EQ(entries.size(), static_cast<size_t>(request.max_keys));
      EXPECT_FALSE(page->next_continuation_token.empty());
      request.continuation_token = page->next_continuation_token;
    }
    if (pages) *pages = count;
    return all;
  }
};

TEST_F(FakeObjectStoreListTest, ListsEverythingInByteOrder) {
  ListObjectsPage page = ListOnce("", "");
  std::vector<std::string> keys;
  for (const auto& object : page.objects) keys.push_back(object.key);
  EXPECT_EQ(keys, TreeKeys());
  EXPECT_THAT(page.common_prefixes, IsEmpty());
  EXPECT_FALSE(page.is_truncated);
  const ObjectInfo& first = page.objects.front();
  EXPECT_EQ(first.size, std::string("body of a").size());
  EXPECT_EQ(first.etag, store_.InfoOf("a")->etag);
  EXPECT_EQ(first.storage_class, "STANDARD");
  EXPECT_EQ(first.last_modified, store_.InfoOf("a")->last_modified);
  EXPECT_TRUE(first.content_type.empty()) << "LIST does not report content types";
}

TEST_F(FakeObjectStoreListTest, DelimiterGroupsIntoCommonPrefixes) {
  EXPECT_THAT(Entries(ListOnce("", "/")), ElementsAre("a", "a b", "a+b", "P:a/", "ab", "P:b/", "z",
                                                      "\xC3\xA9", "P:\xE6\x97\xA5\xE6\x9C\xAC/"));
  EXPECT_THAT(Entries(ListOnce("a", "/")), ElementsAre("a", "a b", "a+b", "P:a/", "ab"));
  EXPECT_THAT(Entries(ListOnce("a/", "/")), ElementsAre("a/", "a/b", "P:a/b/"));
  EXPECT_THAT(Entries(ListOnce("a/b", "/")), ElementsAre("a/b", "P:a/b/"));
  EXPECT_THAT(Entries(ListOnce("a/b/", "/")), ElementsAre("a/b/c"));
  EXPECT_THAT(Entries(ListOnce("b/", "/")), ElementsAre("b/z", "b/\xC3\xA9"));
  EXPECT_THAT(Entries(ListOnce("\xE6\x97\xA5", "/")), ElementsAre("P:\xE6\x97\xA5\xE6\x9C\xAC/"));
  EXPECT_THAT(Entries(ListOnce("nothing", "/")), IsEmpty());
  // Without a delimiter a prefix is a plain string prefix.
  EXPECT_THAT(Entries(ListOnce("a/", "")), ElementsAre("a/", "a/b", "a/b/c"));
  // Delimiters may be longer than one byte.
  EXPECT_THAT(Entries(ListOnce("", "/b")),
              ElementsAre("a", "a b", "a+b", "a/", "P:a/b", "ab", "b/z", "b/\xC3\xA9", "z",
                          "\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC/x"));
}

TEST_F(FakeObjectStoreListTest, PagesConcatenateToTheSingleListing) {
  for (const std::string delimiter : {"", "/"}) {
    for (const std::string prefix : {"", "a", "a/"}) {
      const auto whole = Entries(ListOnce(prefix, delimiter));
      for (int max_keys = 1; max_keys <= 6; ++max_keys) {
        SCOPED_TRACE(::testing::Message() << "prefix '" << prefix << "' delimiter '" << delimiter
                                          << "' max-keys " << max_keys);
        ListObjectsRequest request;
        request.prefix = prefix;
        request.delimiter = delimiter;
        request.max_keys = max_keys;
        int pages = 0;
        EXPECT_EQ(ListAll(request, &pages), whole);
        const int expected_pages =
            std::max<int>(1, static_cast<int>((whole.size() + max_keys - 1) / max_keys));
        EXPECT_EQ(pages, expected_pages);
      }
    }
  }
}

TEST_F(FakeObjectStoreListTest, CommonPrefixCountsOnceTowardMaxKeys) {
  ListObjectsRequest request;
  request.delimiter = "/";
  request.max_keys = 2;
  auto first = store_.ListObjects(request);
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(Entries(*first), ElementsAre("a", "a b"));
  request.continuation_token = first->next_continuation_token;
  auto second = store_.ListObjects(request);
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(Entries(*second), ElementsAre("a+b", "P:a/"));
  request.continuation_token = second->next_continuation_token;
  auto third = store_.ListObjects(request);
  ASSERT_TRUE(third.ok());
  EXPECT_THAT(Entries(*third), ElementsAre("ab", "P:b/")) << "a/ is not repeated";
}

TEST_F(FakeObjectStoreListTest, StartAfter) {
  ListObjectsRequest request;
  request.start_after = "a+b";
  EXPECT_THAT(ListAll(request), ElementsAre("a/", "a/b", "a/b/c", "ab", "b/z", "b/\xC3\xA9", "z",
                                            "\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC/x"));
  request.start_after = "zzz";  // need not exist
  EXPECT_THAT(ListAll(request), ElementsAre("\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC/x"));
  // Keys are filtered first, then grouped: "a/b/c" follows "a/b" and rolls up into "a/".
  request.start_after = "a/b";
  request.delimiter = "/";
  request.prefix = "a";
  EXPECT_THAT(ListAll(request), ElementsAre("P:a/", "ab"));
  // A continuation token wins over start-after.
  request = {};
  request.max_keys = 3;
  auto first = store_.ListObjects(request);
  ASSERT_TRUE(first.ok());
  request.continuation_token = first->next_continuation_token;
  request.start_after = "z";
  auto second = store_.ListObjects(request);
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(Entries(*second), ElementsAre("a/", "a/b", "a/b/c"));
}

TEST_F(FakeObjectStoreListTest, ContinuationSurvivesChangesBetweenPages) {
  ListObjectsRequest request;
  request.max_keys = 2;
  auto first = store_.ListObjects(request);
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(Entries(*first), ElementsAre("a", "a b"));
  // Remove the last key listed and the next one, add one in between.
  ASSERT_TRUE(store_.DeleteObject("a b").ok());
  ASSERT_TRUE(store_.DeleteObject("a+b").ok());
  store_.PutForTest("a,", "new");  // ',' (0x2C) sorts between '+' and '/'
  store_.PutForTest("0", "before the token: not listed");
  request.continuation_token = first->next_continuation_token;
  EXPECT_THAT(ListAll(request), ElementsAre("a,", "a/", "a/b", "a/b/c", "ab", "b/z", "b/\xC3\xA9",
                                            "z", "\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC/x"));
}

TEST_F(FakeObjectStoreListTest, RejectsForgedContinuationTokens) {
  ListObjectsRequest request;
  request.continuation_token = "not-a-token";
  auto page = store_.ListObjects(request);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(FakeObjectStoreListTest, MaxKeysLimits) {
  auto zero = ListOnce("", "", 0);
  EXPECT_THAT(Entries(zero), IsEmpty());
  EXPECT_FALSE(zero.is_truncated);
  ListObjectsRequest negative;
  negative.max_keys = -1;
  auto rejected = store_.ListObjects(negative);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, ErrorCode::kInvalidArgument);

  for (int i = 0; i < 1100; ++i) store_.PutForTest("many/" + std::to_string(i), "");
  auto clipped = ListOnce("many/", "", 5000);
  EXPECT_EQ(clipped.objects.size(), 1000u) << "max-keys above 1000 is clipped to 1000";
  EXPECT_TRUE(clipped.is_truncated);
  ListObjectsRequest rest;
  rest.prefix = "many/";
  rest.continuation_token = clipped.next_continuation_token;
  auto last = store_.ListObjects(rest);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->objects.size(), 100u);
  EXPECT_FALSE(last->is_truncated);
}

TEST_F(FakeObjectStoreTest, ListEndsAfterAPrefixWithNoSuccessor) {
  // The common prefix "\xFF" has no successor string; the listing must still end.
  store_.PutForTest(
      "\xFF"
      "a",
      "");
  store_.PutForTest(
      "\xFF"
      "b",
      "");
  ListObjectsRequest request;
  request.delimiter = "\xFF";
  request.max_keys = 1;
  auto page = store_.ListObjects(request);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->common_prefixes, ElementsAre("\xFF"));
  EXPECT_FALSE(page->is_truncated);
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
  (void)store_.CompleteMultipartUpload({.key = "m", .upload_id = *id});  // fails: no parts
  (void)store_.AbortMultipartUpload("m", *id);
  OperationCounts expected;
  for (testing::Operation op : testing::kAllOperations) expected.At(op) = 1;
  expected.head_object = 2;
  EXPECT_EQ(store_.counts(), expected);
  EXPECT_EQ(store_.counts().Total(), 15);
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
