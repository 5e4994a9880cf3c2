// Tests of PathResolver::HeadListed for a directory a listing named: the answer rests on what
// S3 says when the HEAD is sent, not on the (possibly older) listing. Found by the
// reference-model test (write-back, freshness by events, seed 134 under load): a readdirplus
// queued the HEAD of a directory whose only object (its marker) another client then deleted;
// the HEAD ran after the change event, found no marker, still answered "a directory without a
// marker", and the cache kept that answer as newer than the event, so the directory showed on.
#include <gtest/gtest.h>

#include <string>

#include "fs/path_resolver.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/filesystem.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"

namespace s3mount {
namespace {

class PathResolverListedTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  testing::FakeObjectStore store_{clock_};
  MetadataCache metadata_{MetadataCacheOptions{}};
  ThreadPool pool_{2};
  KeyMapper keys_{""};
  PathResolver resolver_{store_, clock_, pool_, metadata_, keys_, true};
};

TEST_F(PathResolverListedTest, AListedDirectoryWithNothingLeftInS3IsMissing) {
  auto headed = resolver_.HeadListed("gone", PathKind::kDirectory);
  ASSERT_TRUE(headed.ok()) << headed.error().ToString();
  EXPECT_EQ(headed->kind, PathKind::kMissing)
      << "no marker and nothing below 'gone/': the directory the listing named is gone";
  auto cached = metadata_.Lookup("gone", clock_.Monotonic());
  EXPECT_FALSE(cached.has_value() && cached->kind == PathKind::kDirectory)
      << "the cache took the listing's directory as a fact from after the HEAD was sent";
}

TEST_F(PathResolverListedTest, AListedDirectoryWithoutAMarkerIsThereWhileSomethingIsBelow) {
  store_.PutForTest("implicit/file", "x");
  auto headed = resolver_.HeadListed("implicit", PathKind::kDirectory);
  ASSERT_TRUE(headed.ok()) << headed.error().ToString();
  EXPECT_EQ(headed->kind, PathKind::kDirectory);
  EXPECT_FALSE(headed->marker_present);
}

TEST_F(PathResolverListedTest, AListedDirectoryWithItsMarkerIsThere) {
  store_.PutForTest("marked/", "");
  auto headed = resolver_.HeadListed("marked", PathKind::kDirectory);
  ASSERT_TRUE(headed.ok()) << headed.error().ToString();
  EXPECT_EQ(headed->kind, PathKind::kDirectory);
  EXPECT_TRUE(headed->marker_present);
}

}  // namespace
}  // namespace s3mount
