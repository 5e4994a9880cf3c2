// Tests for FakeObjectStore's ListObjectsV2: byte order, delimiters and common prefixes,
// paging and continuation tokens, start-after and max-keys.
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

using ::s3mount::testing::FakeObjectStoreTest;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

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

}  // namespace
}  // namespace s3mount
