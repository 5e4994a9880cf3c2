// Integration tests of -o writeback on a real FUSE mount of the built s3mount over
// moto_server: many files created and a tree removed with plain system calls return while
// their requests may still be queued, the mount shows the result at once, and after the
// unmount (the process exits once its queue is drained) S3 has every file and none of the
// removed ones. Without the option, each close still returns only once S3 has the file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "s3mount/s3/object_sinks.h"
#include "tests/support/file_writes.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::ReadFile;

int WriteAndClose(const std::string& path, const std::string& data) {
  return testing::WriteAndClose(path, data).first;
}

class MountWriteBackTest : public testing::MountClientTest {};

TEST_F(MountWriteBackTest, ManyFilesAndARemovedTreeAreInS3AfterTheUnmount) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(client_.store->PutObject({.key = "old/f" + std::to_string(i), .body = "x"}).ok());
  }
  auto mount = Mount({"writeback"});
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(mkdir(mount->Path("new").c_str(), 0755), 0) << std::strerror(errno);
  constexpr int kFiles = 200;
  for (int i = 0; i < kFiles; ++i) {
    const std::string name = "new/f" + std::to_string(i);
    ASSERT_EQ(WriteAndClose(mount->Path(name), "file " + std::to_string(i)), 0) << name;
  }
  // The mount shows them at once, whatever S3 has yet.
  for (int i = 0; i < kFiles; i += 37) {
    const std::string name = "new/f" + std::to_string(i);
    EXPECT_EQ(ReadFile(mount->Path(name)), "file " + std::to_string(i)) << name;
  }
  size_t listed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(mount->Path("new"))) {
    listed += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(listed, static_cast<size_t>(kFiles));
  // rm -r: the unlinks return at once, the final rmdir waits for their DELETEs.
  std::error_code error;
  EXPECT_EQ(std::filesystem::remove_all(mount->Path("old"), error), 51u) << error.message();
  EXPECT_EQ(CountUnder("old/"), 0u) << "rmdir returned before the queued DELETEs ran";
  auto exit_code = mount->Unmount();
  ASSERT_TRUE(exit_code.ok()) << exit_code.error().ToString();
  EXPECT_EQ(*exit_code, 0) << mount->LogTail();
  EXPECT_EQ(CountUnder("new/"), static_cast<size_t>(kFiles) + 1) << "200 files and the marker";
  for (int i = 0; i < kFiles; ++i) {
    const std::string key = "new/f" + std::to_string(i);
    EXPECT_EQ(Body(key), "file " + std::to_string(i)) << key;
  }
  EXPECT_NE(mount->LogTail().find("done, 0 failed"), std::string::npos) << mount->LogTail();
}

TEST_F(MountWriteBackTest, WithoutTheOptionEachCloseReturnsOnceS3HasTheFile) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  for (int i = 0; i < 20; ++i) {
    const std::string name = "sync" + std::to_string(i);
    ASSERT_EQ(WriteAndClose(mount->Path(name), name), 0);
    EXPECT_EQ(Body(name), name) << "close returned before S3 had '" << name << "'";
  }
}

TEST_F(MountWriteBackTest, FsyncWithWriteBackReturnsOnceS3HasTheFile) {
  auto mount = Mount({"writeback"});
  ASSERT_NE(mount, nullptr);
  const int fd = open(mount->Path("durable").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  ASSERT_EQ(fsync(fd), 0) << std::strerror(errno);
  EXPECT_EQ(Body("durable"), "abc") << "fsync returned before S3 had the file";
  ASSERT_EQ(close(fd), 0);
}

}  // namespace
}  // namespace s3mount
