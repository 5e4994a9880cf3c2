// Tests of OpenFile on the fake store, on its own: when a flush stores the file, the file
// counts as dirty until the caller has recorded what was stored. Lookups and listings take a
// file created here and not in S3 yet from the file itself while it is dirty, and from the
// caches once it is clean; a file that looked clean before the caches knew it showed missing
// (found by the reference-model test with write-back, seed 243 repeated: a queued upload of a
// new file raced a lookup).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fs/block_fetcher.h"
#include "fs/memory_budget.h"
#include "fs/object_uploader.h"
#include "fs/open_file.h"
#include "fs/staging.h"
#include "s3mount/cache/block_cache.h"
#include "s3mount/common/thread_pool.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

class OpenFileReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = testing::TempDir::Create("s3mount-open-file-report");
    ASSERT_TRUE(root.ok()) << root.error().ToString();
    root_ = std::move(root).value();
    auto area = StagingArea::Create(root_->File("staging"), uint64_t{1} << 30);
    ASSERT_TRUE(area.ok()) << area.error().ToString();
    staging_ = std::move(area).value();
  }

  OpenFileServices Services() {
    return OpenFileServices{.store = store_,
                            .upload_pool = pool_,
                            .memory = memory_,
                            .uploader = uploader_,
                            .staging = *staging_,
                            .fetcher = fetcher_};
  }

  testing::FakeClock clock_;
  testing::FakeObjectStore store_{clock_};
  ThreadPool pool_{2};
  MemoryBudget memory_{uint64_t{64} << 20};
  ObjectUploader uploader_{store_, pool_, memory_, UploaderOptions{}};
  BlockCache blocks_{BlockCacheOptions{}};
  BufferPool buffers_{size_t{8} << 20};
  BlockFetcher fetcher_{store_, blocks_, pool_, buffers_, uint64_t{1} << 20};
  std::unique_ptr<testing::TempDir> root_;
  std::unique_ptr<StagingArea> staging_;
};

TEST_F(OpenFileReportTest, ANewFileStaysDirtyUntilTheCallerRecordedWhatWasStored) {
  OpenFile file(Services(), OpenFileInit{.path = "new", .key = "new"});
  ASSERT_TRUE(file.Write(0, "data", clock_.Now()).ok());
  bool dirty_while_recording = false;
  bool in_store_while_recording = false;
  auto flushed = file.Flush(clock_.Now(), [&](const std::string& path, const ObjectInfo& object) {
    EXPECT_EQ(path, "new");
    EXPECT_EQ(object.size, 4u);
    dirty_while_recording = file.dirty();
    in_store_while_recording = file.in_store();
  });
  ASSERT_TRUE(flushed.ok()) << flushed.error().ToString();
  ASSERT_TRUE(flushed->has_value()) << "the flush stored the file";
  EXPECT_TRUE(in_store_while_recording);
  EXPECT_TRUE(dirty_while_recording)
      << "the file looked clean while its caller was still recording the stored version: a "
         "lookup then found neither the file nor the caches' entry";
  EXPECT_FALSE(file.dirty()) << "reported: clean";
  EXPECT_EQ(store_.BodyOf("new"), "data");
}

}  // namespace
}  // namespace s3mount
