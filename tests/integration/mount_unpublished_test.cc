// Integration tests that a file being written through a real mount is never visible in S3
// before its close: writers that run the write buffer short (six at once with
// write_buffer=16M, as a user saw one of them listed at 24 MiB mid-write), a writer that seeks
// back, and a reader of bytes already streamed. Each checks the bucket through a plain S3
// client while the files are open, then that every close left the whole file and no
// multipart upload behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/common/unique_fd.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::RandomBytes;
using testing::SameBytes;

constexpr size_t kMiB = size_t{1} << 20;

class MountUnpublishedTest : public testing::MountClientTest {
 protected:
  // Keys of the multipart uploads moto holds in progress.
  std::vector<std::string> OpenUploads() {
    auto uploads = server().MultipartUploads(bucket());
    EXPECT_TRUE(uploads.ok()) << uploads.error().ToString();
    return uploads.ok() ? *uploads : std::vector<std::string>{};
  }
};

bool WriteAll(int fd, const std::string& data, size_t chunk) {
  for (size_t at = 0; at < data.size(); at += chunk) {
    const size_t n = std::min(chunk, data.size() - at);
    if (pwrite(fd, data.data() + at, n, static_cast<off_t>(at)) != static_cast<ssize_t>(n)) {
      return false;
    }
  }
  return true;
}

TEST_F(MountUnpublishedTest, WritersShortOfWriteBufferPublishNothingBeforeClose) {
  auto mount = Mount({"write_buffer=16M"});
  ASSERT_NE(mount, nullptr);
  constexpr int kWriters = 6;
  const size_t size = 24 * kMiB;  // three 8 MiB parts each: six writers need 144 MiB
  std::vector<std::string> contents;
  std::vector<UniqueFd> files;
  for (int i = 0; i < kWriters; ++i) {
    contents.push_back(RandomBytes(size, 100 + i));
    const std::string path = mount->Path("w" + std::to_string(i));
    files.emplace_back(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    ASSERT_TRUE(files.back().valid()) << path << ": " << strerror(errno);
  }
  std::vector<std::thread> writers;
  std::vector<int> failed(kWriters, 0);
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back(
        [&, i] { failed[i] = WriteAll(files[i].get(), contents[i], kMiB) ? 0 : errno; });
  }
  for (auto& writer : writers) writer.join();
  for (int i = 0; i < kWriters; ++i) ASSERT_EQ(failed[i], 0) << "writer " << i << " failed";
  EXPECT_EQ(CountUnder("w"), 0u) << "a file still open was visible in S3";
  for (int i = 0; i < kWriters; ++i) {
    ASSERT_EQ(close(files[i].Release()), 0) << "close of w" << i << ": " << strerror(errno);
  }
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_TRUE(SameBytes(Body("w" + std::to_string(i)).value_or(""), contents[i]))
        << "w" << i << " is not whole in S3 after its close";
  }
  EXPECT_TRUE(OpenUploads().empty()) << "multipart uploads were left open";
}

TEST_F(MountUnpublishedTest, AWriterThatSeeksBackAndReadsBackPublishesNothingBeforeClose) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  std::string data = RandomBytes(20 * kMiB, 7);
  const std::string path = mount->Path("patched.bin");
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644));
  ASSERT_TRUE(fd.valid()) << strerror(errno);
  ASSERT_TRUE(WriteAll(fd.get(), data, kMiB)) << strerror(errno);
  std::string back(4096, '\0');
  ASSERT_EQ(pread(fd.get(), back.data(), back.size(), 1 << 20), 4096) << strerror(errno);
  EXPECT_EQ(back, data.substr(1 << 20, 4096)) << "read back of streamed bytes";
  ASSERT_EQ(pwrite(fd.get(), "HEADER", 6, 0), 6) << strerror(errno);  // as zip and muxers do
  data.replace(0, 6, "HEADER");
  EXPECT_FALSE(Head("patched.bin").has_value()) << "the file was published before its close";
  ASSERT_EQ(close(fd.Release()), 0) << strerror(errno);
  EXPECT_TRUE(SameBytes(Body("patched.bin").value_or(""), data));
  EXPECT_TRUE(OpenUploads().empty()) << "the abandoned stream's upload was left open";
}

}  // namespace
}  // namespace s3mount
