// POSIX details ordinary tools notice, through a real s3mount mount on moto: each scenario runs
// the same system calls in a local directory (the reference) and on the mount, and compares
// what both report. Link counts: an open file's after unlink.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "tests/support/file_writes.h"
#include "tests/support/mount_client_fixture.h"

namespace s3mount {
namespace {

using testing::S3mountProcess;
using testing::TempDir;
using testing::WriteAndClose;

class MountPosixTest : public testing::MountClientTest {
 protected:
  void SetUp() override {
    MountClientTest::SetUp();
    if (HasFatalFailure()) return;
    auto local = TempDir::Create("s3mount-posix-local");
    ASSERT_TRUE(local.ok()) << local.error().ToString();
    local_ = std::move(local).value();
    mount_ = Mount();
    ASSERT_NE(mount_, nullptr);
  }
  void TearDown() override {
    ExpectCleanUnmount(mount_);
    MountClientTest::TearDown();
  }

  // Runs `scenario` with the local directory's root, then with the mount's; each returns
  // what it observed as text, and the two must be equal.
  void ExpectSameOnBoth(const std::string& what,
                        const std::function<std::string(const std::string& root)>& scenario) {
    const std::string local = scenario(local_->path());
    const std::string mounted = scenario(mount_->Path(""));
    EXPECT_EQ(mounted, local) << what << ": the mount differs from a local directory\n"
                              << mount_->LogTail();
  }

  std::unique_ptr<TempDir> local_;
  std::unique_ptr<S3mountProcess> mount_;
};

// "nlink=N" of fstat(fd), or the errno that failed.
std::string LinkCountOf(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return std::string("fstat: ") + std::strerror(errno);
  return "nlink=" + std::to_string(st.st_nlink);
}

TEST_F(MountPosixTest, AnOpenFileHasNoLinksAfterUnlinkAndStaysReadable) {
  for (const int flags : {O_RDONLY, O_RDWR}) {
    ExpectSameOnBoth(flags == O_RDONLY ? "read-only" : "read-write", [&](const std::string& root) {
      const std::string path = root + "/unlinked";
      if (WriteAndClose(path, "still here").first != 0) return std::string("cannot write");
      const int fd = open(path.c_str(), flags);
      if (fd < 0) return std::string("open: ") + std::strerror(errno);
      std::string seen = "before " + LinkCountOf(fd);
      if (unlink(path.c_str()) != 0) seen += std::string(" unlink: ") + std::strerror(errno);
      seen += " after " + LinkCountOf(fd);
      char buffer[32] = {};
      const ssize_t n = pread(fd, buffer, sizeof buffer, 0);
      seen += " read " + (n < 0 ? std::string(std::strerror(errno)) : std::string(buffer, n));
      close(fd);
      return seen;
    });
  }
}

}  // namespace
}  // namespace s3mount
