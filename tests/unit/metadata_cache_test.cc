// Tests for MetadataCache: TTLs with explicit `now` values (positive and negative), newer
// answers winning over older ones, LIST results not erasing HEAD results, MarkChanged and
// its bounded bookkeeping, prefix invalidation, LRU eviction and concurrent use.
#include "s3mount/cache/metadata_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr MonoTime kT0{seconds(1000)};

PathEntry File(const std::string& key, const std::string& etag, MonoTime fetched_at,
               bool from_head) {
  PathEntry entry;
  entry.kind = PathKind::kFile;
  entry.object.key = key;
  entry.object.etag = etag;
  entry.object.size = 42;
  if (from_head) entry.object.user_metadata["mode"] = "33188";
  entry.has_user_metadata = from_head;
  entry.fetched_at = fetched_at;
  return entry;
}

PathEntry Head(const std::string& key, const std::string& etag, MonoTime fetched_at) {
  return File(key, etag, fetched_at, /*from_head=*/true);
}

PathEntry List(const std::string& key, const std::string& etag, MonoTime fetched_at) {
  return File(key, etag, fetched_at, /*from_head=*/false);
}

PathEntry Missing(MonoTime fetched_at) {
  PathEntry entry;
  entry.kind = PathKind::kMissing;
  entry.fetched_at = fetched_at;
  return entry;
}

PathEntry Directory(MonoTime fetched_at) {
  PathEntry entry;
  entry.kind = PathKind::kDirectory;
  entry.fetched_at = fetched_at;
  return entry;
}

MetadataCacheOptions Options(size_t max_entries = 100) {
  MetadataCacheOptions options;
  options.max_entries = max_entries;
  options.positive_ttl = seconds(60);
  options.negative_ttl = seconds(5);
  return options;
}

TEST(MetadataCacheTest, LookupReturnsWhatWasInserted) {
  MetadataCache cache(Options());
  EXPECT_FALSE(cache.Lookup("a", kT0).has_value()) << "empty cache must miss";
  EXPECT_TRUE(cache.Insert("dir/file", Head("dir/file", "\"e1\"", kT0)));
  auto hit = cache.Lookup("dir/file", kT0);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->kind, PathKind::kFile);
  EXPECT_EQ(hit->object.key, "dir/file");
  EXPECT_EQ(hit->object.etag, "\"e1\"");
  EXPECT_EQ(hit->object.user_metadata.at("mode"), "33188");
  EXPECT_TRUE(hit->has_user_metadata);
  EXPECT_EQ(hit->fetched_at, kT0);
  EXPECT_FALSE(cache.Lookup("dir", kT0).has_value()) << "no entry for the parent";
  EXPECT_EQ(cache.size(), 1U);
}

TEST(MetadataCacheTest, PositiveTtlIsMeasuredFromFetchedAt) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("f", Head("f", "\"e\"", kT0)));
  ASSERT_TRUE(cache.Insert("d", Directory(kT0)));
  EXPECT_TRUE(cache.Lookup("f", kT0 - seconds(1)).has_value()) << "now before fetched_at";
  EXPECT_TRUE(cache.Lookup("f", kT0 + seconds(60) - nanoseconds(1)).has_value());
  EXPECT_FALSE(cache.Lookup("f", kT0 + seconds(60)).has_value()) << "expired at exactly ttl";
  EXPECT_TRUE(cache.Lookup("d", kT0 + seconds(30)).has_value());
  EXPECT_FALSE(cache.Lookup("d", kT0 + seconds(61)).has_value());
}

TEST(MetadataCacheTest, NegativeEntriesUseNegativeTtl) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("gone", Missing(kT0)));
  auto hit = cache.Lookup("gone", kT0 + seconds(4));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->kind, PathKind::kMissing);
  EXPECT_FALSE(cache.Lookup("gone", kT0 + seconds(5)).has_value())
      << "a missing path must expire after negative_ttl, not positive_ttl";
  ASSERT_TRUE(cache.Insert("dir", Directory(kT0)));
  EXPECT_TRUE(cache.Lookup("dir", kT0 + seconds(5)).has_value()) << "directories use positive_ttl";
}

TEST(MetadataCacheTest, NewerEntryIsNeverReplacedByOlder) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("f", Head("f", "\"new\"", kT0 + seconds(10))));
  EXPECT_FALSE(cache.Insert("f", Head("f", "\"old\"", kT0 + seconds(5))));
  EXPECT_FALSE(cache.Insert("f", Missing(kT0 + seconds(9))))
      << "an older 404 must not hide a newer file";
  auto hit = cache.Lookup("f", kT0 + seconds(11));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->kind, PathKind::kFile);
  EXPECT_EQ(hit->object.etag, "\"new\"");

  EXPECT_TRUE(cache.Insert("f", Missing(kT0 + seconds(20)))) << "a newer 404 wins";
  hit = cache.Lookup("f", kT0 + seconds(21));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->kind, PathKind::kMissing);

  EXPECT_TRUE(cache.Insert("f", Head("f", "\"same-time\"", kT0 + seconds(20))))
      << "an answer sent at the same time as the cached one replaces it";
  EXPECT_EQ(cache.Lookup("f", kT0 + seconds(21))->object.etag, "\"same-time\"");
}

TEST(MetadataCacheTest, ListDoesNotEraseHeadForSameEtag) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("f", Head("f", "\"e1\"", kT0)));
  EXPECT_FALSE(cache.Insert("f", List("f", "\"e1\"", kT0 + seconds(1))))
      << "a later LIST of the same object must not drop the user metadata";
  auto hit = cache.Lookup("f", kT0 + seconds(2));
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->has_user_metadata);
  EXPECT_EQ(hit->object.user_metadata.count("mode"), 1U);
  EXPECT_EQ(hit->fetched_at, kT0);

  EXPECT_TRUE(cache.Insert("f", List("f", "\"e2\"", kT0 + seconds(3))))
      << "a LIST showing a new ETag means the object changed";
  hit = cache.Lookup("f", kT0 + seconds(4));
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->has_user_metadata);
  EXPECT_EQ(hit->object.etag, "\"e2\"");

  EXPECT_TRUE(cache.Insert("f", Head("f", "\"e2\"", kT0 + seconds(5))))
      << "a HEAD always upgrades a LIST entry";
  EXPECT_TRUE(cache.Lookup("f", kT0 + seconds(6))->has_user_metadata);
}

TEST(MetadataCacheTest, ListReplacesExpiredHeadForSameEtag) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("f", Head("f", "\"e1\"", kT0)));
  EXPECT_TRUE(cache.Insert("f", List("f", "\"e1\"", kT0 + seconds(60))))
      << "the HEAD answer had expired when the LIST was sent";
  auto hit = cache.Lookup("f", kT0 + seconds(61));
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->has_user_metadata);
  EXPECT_EQ(hit->fetched_at, kT0 + seconds(60));
}

TEST(MetadataCacheTest, MarkChangedDropsOlderAnswers) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("f", Head("f", "\"e1\"", kT0)));
  ASSERT_TRUE(cache.Insert("other", Head("other", "\"o\"", kT0)));
  cache.MarkChanged("f", kT0 + seconds(1));
  EXPECT_FALSE(cache.Lookup("f", kT0 + seconds(2)).has_value())
      << "an entry fetched before the change must go";
  EXPECT_TRUE(cache.Lookup("other", kT0 + seconds(2)).has_value()) << "other paths stay";

  // A HEAD sent before the local write but answered after it.
  EXPECT_FALSE(cache.Insert("f", Head("f", "\"e1\"", kT0 + milliseconds(500))));
  EXPECT_FALSE(cache.Insert("f", Missing(kT0)));
  EXPECT_FALSE(cache.Lookup("f", kT0 + seconds(2)).has_value());
  // Sent at or after the change: fine.
  EXPECT_TRUE(cache.Insert("f", Head("f", "\"e2\"", kT0 + seconds(1))));
  EXPECT_EQ(cache.Lookup("f", kT0 + seconds(2))->object.etag, "\"e2\"");
  // Other paths are not affected by f's mark.
  EXPECT_TRUE(cache.Insert("g", Head("g", "\"g\"", kT0)));
}

TEST(MetadataCacheTest, MarkAllChangedForgetsEverythingAndDropsOlderAnswers) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("f", Head("f", "\"e1\"", kT0)));
  ASSERT_TRUE(cache.Insert("g", Missing(kT0)));
  cache.MarkChanged("h", kT0 + seconds(2));  // a mark newer than the flush stays
  cache.MarkAllChanged(kT0 + seconds(1));
  EXPECT_EQ(cache.size(), 0u);
  // HEADs sent before the flush but answered after it describe what may have changed.
  EXPECT_FALSE(cache.Insert("f", Head("f", "\"e1\"", kT0 + milliseconds(500))));
  EXPECT_FALSE(cache.Insert("new", Missing(kT0)));
  EXPECT_TRUE(cache.Insert("f", Head("f", "\"e2\"", kT0 + seconds(1))));
  EXPECT_FALSE(cache.Insert("h", Head("h", "\"h\"", kT0 + seconds(1))));
  EXPECT_EQ(cache.change_mark_count(), 1u);
}

TEST(MetadataCacheTest, MarkChangedKeepsEntriesFetchedAfterTheChange) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("f", Head("f", "\"e2\"", kT0 + seconds(5))));
  cache.MarkChanged("f", kT0 + seconds(3));
  EXPECT_TRUE(cache.Lookup("f", kT0 + seconds(6)).has_value());
  // An older mark never lowers a newer one.
  cache.MarkChanged("f", kT0 + seconds(10));
  cache.MarkChanged("f", kT0 + seconds(1));
  EXPECT_FALSE(cache.Insert("f", Head("f", "\"e3\"", kT0 + seconds(9))));
  EXPECT_EQ(cache.change_mark_count(), 1U);
}

TEST(MetadataCacheTest, ChangeMarksStayBoundedAndStaySafe) {
  MetadataCacheOptions options = Options();
  options.max_change_marks = 3;
  MetadataCache cache(options);
  for (int i = 1; i <= 10; ++i) {
    cache.MarkChanged("p" + std::to_string(i), kT0 + seconds(i));
    EXPECT_LE(cache.change_mark_count(), 3U);
  }
  // p1's mark was folded into the watermark: old answers for it are still refused.
  EXPECT_FALSE(cache.Insert("p1", Head("p1", "\"x\"", kT0)));
  // The newest marks are kept exactly.
  EXPECT_FALSE(cache.Insert("p10", Head("p10", "\"x\"", kT0 + seconds(9))));
  EXPECT_TRUE(cache.Insert("p10", Head("p10", "\"x\"", kT0 + seconds(10))));
  // The watermark is p7's time: an unrelated path fetched before it is refused (safe
  // over-approximation), one fetched after it is stored.
  EXPECT_FALSE(cache.Insert("q", Head("q", "\"q\"", kT0 + seconds(6))));
  EXPECT_TRUE(cache.Insert("q", Head("q", "\"q\"", kT0 + seconds(7))));
  EXPECT_TRUE(cache.Insert("p8", Head("p8", "\"x\"", kT0 + seconds(8))));
}

TEST(MetadataCacheTest, InvalidateForgetsOnePath) {
  MetadataCache cache(Options());
  ASSERT_TRUE(cache.Insert("a", Head("a", "\"a\"", kT0)));
  ASSERT_TRUE(cache.Insert("a/b", Head("a/b", "\"b\"", kT0)));
  cache.Invalidate("a");
  EXPECT_FALSE(cache.Lookup("a", kT0).has_value());
  EXPECT_TRUE(cache.Lookup("a/b", kT0).has_value());
  EXPECT_EQ(cache.size(), 1U);
  cache.Invalidate("never-there");
  EXPECT_EQ(cache.size(), 1U);
  // Invalidate is not a change mark: an older answer may come back.
  EXPECT_TRUE(cache.Insert("a", Head("a", "\"a\"", kT0 - seconds(1))));
}

TEST(MetadataCacheTest, InvalidatePrefixStopsAtPathBoundaries) {
  MetadataCache cache(Options());
  const std::vector<std::string> paths = {"di",      "dir",    "dir/a", "dir/sub/b",
                                          "dir/sub", "dir2/x", "dir2",  "dir.txt",
                                          "dir-x/y", "dira",   "e"};
  for (const std::string& path : paths) ASSERT_TRUE(cache.Insert(path, Directory(kT0)));
  cache.InvalidatePrefix("dir");
  for (const char* gone : {"dir", "dir/a", "dir/sub/b", "dir/sub"}) {
    EXPECT_FALSE(cache.Lookup(gone, kT0).has_value()) << gone << " should be forgotten";
  }
  for (const char* kept : {"di", "dir2/x", "dir2", "dir.txt", "dir-x/y", "dira", "e"}) {
    EXPECT_TRUE(cache.Lookup(kept, kT0).has_value()) << kept << " must survive";
  }
  EXPECT_EQ(cache.size(), 7U);
  cache.InvalidatePrefix("");
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_FALSE(cache.Lookup("e", kT0).has_value());
  ASSERT_TRUE(cache.Insert("e", Directory(kT0))) << "usable after clearing";
  EXPECT_EQ(cache.size(), 1U);
}

TEST(MetadataCacheTest, EvictsLeastRecentlyUsedBeyondMaxEntries) {
  MetadataCache cache(Options(/*max_entries=*/3));
  ASSERT_TRUE(cache.Insert("a", Missing(kT0)));
  ASSERT_TRUE(cache.Insert("b", Missing(kT0)));
  ASSERT_TRUE(cache.Insert("c", Missing(kT0)));
  ASSERT_TRUE(cache.Lookup("a", kT0).has_value());  // a is now the most recent
  ASSERT_TRUE(cache.Insert("d", Missing(kT0)));
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_FALSE(cache.Lookup("b", kT0).has_value()) << "b was least recently used";
  EXPECT_TRUE(cache.Lookup("a", kT0).has_value());
  EXPECT_TRUE(cache.Lookup("c", kT0).has_value());
  EXPECT_TRUE(cache.Lookup("d", kT0).has_value());
  // Replacing an entry counts as use and does not grow the cache.
  ASSERT_TRUE(cache.Insert("a", Missing(kT0 + seconds(1))));
  ASSERT_TRUE(cache.Insert("e", Missing(kT0)));
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_FALSE(cache.Lookup("c", kT0).has_value()) << "c was least recently used";
  EXPECT_TRUE(cache.Lookup("a", kT0 + seconds(1)).has_value());
}

TEST(MetadataCacheTest, ZeroMaxEntriesStoresNothing) {
  MetadataCache cache(Options(/*max_entries=*/0));
  EXPECT_FALSE(cache.Insert("a", Missing(kT0)));
  EXPECT_EQ(cache.size(), 0U);
}

TEST(MetadataCacheTest, ConcurrentUseStaysConsistent) {
  MetadataCache cache(Options(/*max_entries=*/50));
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, &hits, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string path = "d" + std::to_string(i % 7) + "/f" + std::to_string(i % 97);
        const MonoTime at = kT0 + milliseconds(i);
        switch ((i + t) % 5) {
          case 0:
          case 1:
            cache.Insert(path, Head(path, "\"e\"", at));
            break;
          case 2:
            if (cache.Lookup(path, at).has_value()) hits.fetch_add(1);
            break;
          case 3:
            cache.MarkChanged(path, at);
            break;
          default:
            cache.InvalidatePrefix("d" + std::to_string(i % 7));
            break;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(cache.size(), 50U);
  EXPECT_LE(cache.change_mark_count(), Options().max_change_marks);
}

}  // namespace
}  // namespace s3mount
