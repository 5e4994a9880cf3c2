// MountClientTest: a MotoTest fixture for tests that mount the test bucket with s3mount and
// check through a plain S3 client what reached S3: Mount() starts s3mount on the bucket (its
// cache directory a fresh temporary one), Body/Head/CountUnder ask S3 directly.
//
//   class MountWriteTest : public testing::MountClientTest {};
//   TEST_F(MountWriteTest, X) { auto mount = Mount(); ... EXPECT_EQ(Body("k"), "data"); }
//
// Thread-safety: as GoogleTest fixtures (the test's thread).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/s3/object_sinks.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {

class MountClientTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = MakeTestClient(LocalClientOptions(server().endpoint(), bucket()),
                             {"test", "test", "", std::nullopt}, clock_);
    ASSERT_NE(client_.store, nullptr);
    auto cache = TempDir::Create("s3mount-cache");
    ASSERT_TRUE(cache.ok());
    cache_ = std::move(cache).value();
  }
  std::unique_ptr<S3mountProcess> Mount(std::vector<std::string> options = {}) {
    options.push_back("cache_dir=" + cache_->path());
    auto mount = S3mountProcess::Mount(server(), {.source = bucket(), .options = options});
    EXPECT_TRUE(mount.ok()) << mount.error().ToString();
    return mount.ok() ? std::move(mount).value() : nullptr;
  }
  // Unmounts `mount` (when there is one) and expects s3mount to exit 0; for TearDown.
  static void ExpectCleanUnmount(const std::unique_ptr<S3mountProcess>& mount) {
    if (!mount) return;
    auto exit_code = mount->Unmount();
    EXPECT_TRUE(exit_code.ok() && *exit_code == 0) << mount->LogTail();
  }
  std::optional<std::string> Body(const std::string& key) {
    StringSink sink;
    auto got = client_.store->GetObject({.key = key}, sink);
    if (!got.ok()) return std::nullopt;
    return sink.Take();
  }
  std::optional<ObjectInfo> Head(const std::string& key) {
    auto head = client_.store->HeadObject({.key = key});
    return head.ok() ? std::optional<ObjectInfo>(*head) : std::nullopt;
  }
  // Objects whose keys start with `prefix` (every page).
  size_t CountUnder(const std::string& prefix) {
    size_t count = 0;
    ListObjectsRequest request{.prefix = prefix};
    for (;;) {
      auto page = client_.store->ListObjects(request);
      EXPECT_TRUE(page.ok()) << page.error().ToString();
      if (!page.ok()) return count;
      count += page->objects.size();
      if (!page->is_truncated) return count;
      request.continuation_token = page->next_continuation_token;
    }
  }

  SystemClock clock_;
  TestClient client_;
  std::unique_ptr<TempDir> cache_;
};

}  // namespace s3mount::testing
