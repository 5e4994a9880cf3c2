// Randomized operation sequences on a real s3mount mount over moto_server, checked against a
// local directory: the same seeded sequence of plain system calls (open/create, pwrite at
// random offsets with holes, append, pread, ftruncate, truncate, rename of files and
// directories, unlink while a descriptor is open, mkdir/rmdir, chmod, utimensat, fsync,
// close, lstat/fstat) runs on both sides, and every call's result (return value and errno,
// the bytes a read returned, the type/mode/size a stat returned) must be the same. Every
// kCheckpointEvery operations all descriptors are closed, both trees are compared
// (tree_compare, directory mtimes ignored), the mount is unmounted and mounted again on the
// same bucket, and the trees are compared once more.
//
// Knobs (environment):
//   S3MOUNT_RANDOM_SEED=N     the seed (default 20261122)
//   S3MOUNT_RANDOM_OPS=N      how many operations (default 300)
//   S3MOUNT_RANDOM_VERBOSE=1  print every operation and its two results to stderr
//
// Replaying a failure: the failure message names the seed, the operation index and the last
// 20 operations. Run the same seed with S3MOUNT_RANDOM_OPS set to index + 1 and
// S3MOUNT_RANDOM_VERBOSE=1 to see the whole sequence up to the failing call, e.g.
//   S3MOUNT_RANDOM_SEED=20261122 S3MOUNT_RANDOM_OPS=137 S3MOUNT_RANDOM_VERBOSE=1
//     build/integration_tests --gtest_filter='RandomOpsTest.*'    (one command line)
// The sequence depends only on the seed and on the local side's results (the working set is
// read from the local directory), so it is the same on every run while the local side is.
// File mtimes are compared only for files whose last change was a utimensat to a time in
// 2001-2009 (the times this test sets); other files carry "now", which differs by design.
#include "tests/integration/random_ops.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <iostream>

#include "tests/support/moto_fixture.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/tree_compare.h"

namespace s3mount {
namespace {

using random_ops::EnvNumber;
using random_ops::kCheckpointEvery;
using random_ops::kDefaultOps;
using random_ops::kDefaultSeed;
using random_ops::kPinnedFrom;
using random_ops::kPinnedTo;
using random_ops::RandomOps;
using testing::S3mountProcess;

bool PinnedMtime(const std::string& /*path*/, const testing::TreeEntry& local) {
  return local.mtime.tv_sec >= kPinnedFrom && local.mtime.tv_sec < kPinnedTo;
}

class RandomOpsTest : public testing::MotoTest {
 protected:
  std::unique_ptr<S3mountProcess> Mount() {
    auto mount = S3mountProcess::Mount(server(), {.source = bucket()});
    EXPECT_TRUE(mount.ok()) << mount.error().ToString();
    return mount.ok() ? std::move(mount).value() : nullptr;
  }

  // Closes everything, compares, remounts, compares again. False (with a failure) if not.
  bool Checkpoint(RandomOps& ops, const std::string& local_root) {
    if (!ops.CloseAll()) {
      ADD_FAILURE() << ops.failure();
      return false;
    }
    const testing::TreeCompareOptions options = {.ignore_directory_mtimes = true,
                                                 .compare_mtime_if = PinnedMtime};
    auto diffs = testing::CompareDirectories(local_root, mount_->mountpoint(), options);
    if (!diffs.empty()) {
      ADD_FAILURE() << ops.Report("trees differ at the checkpoint before the remount\n" +
                                  testing::FormatDifferences(diffs, "local", "mount"));
      return false;
    }
    auto unmounted = mount_->Unmount();
    if (!unmounted.ok() || *unmounted != 0) {
      ADD_FAILURE() << ops.Report("unmount failed: " + (unmounted.ok()
                                                            ? std::to_string(*unmounted)
                                                            : unmounted.error().ToString()));
      return false;
    }
    mount_ = Mount();
    if (mount_ == nullptr) return false;
    ops.set_mount_root(mount_->mountpoint());
    diffs = testing::CompareDirectories(local_root, mount_->mountpoint(), options);
    if (!diffs.empty()) {
      ADD_FAILURE() << ops.Report("trees differ after the remount (what S3 holds)\n" +
                                  testing::FormatDifferences(diffs, "local", "mount"));
      return false;
    }
    return true;
  }

  std::unique_ptr<S3mountProcess> mount_;
};

TEST_F(RandomOpsTest, SameResultsAsALocalDirectory) {
  const uint64_t seed = EnvNumber("S3MOUNT_RANDOM_SEED", kDefaultSeed);
  const int count = static_cast<int>(EnvNumber("S3MOUNT_RANDOM_OPS", kDefaultOps));
  auto local = testing::TempDir::Create("s3mount-random");
  ASSERT_TRUE(local.ok()) << local.error().ToString();
  const std::string local_root = (*local)->File("root");
  ASSERT_EQ(mkdir(local_root.c_str(), 0755), 0);
  mount_ = Mount();
  ASSERT_NE(mount_, nullptr);
  std::cerr << "random operations: seed " << seed << ", " << count << " operations\n";
  {
    RandomOps ops(seed, local_root, mount_->mountpoint());
    for (int index = 0; index < count; ++index) {
      ASSERT_TRUE(ops.Step(index)) << ops.failure() << "s3mount log tail:\n" << mount_->LogTail();
      if ((index + 1) % kCheckpointEvery == 0 || index + 1 == count) {
        ASSERT_TRUE(Checkpoint(ops, local_root))
            << "at the checkpoint after operation #" << index
            << (mount_ ? "\ns3mount log tail:\n" + mount_->LogTail() : std::string());
      }
    }
  }
  auto unmounted = mount_->Unmount();
  EXPECT_TRUE(unmounted.ok()) << unmounted.error().ToString();
}

}  // namespace
}  // namespace s3mount
