// Crash tests (docs/SEMANTICS.md, "Crashes"): a real s3mount daemon over moto_server is killed
// with SIGKILL while files are being written, its dead mount removed with fusermount3 -u, and
// the bucket mounted again on the same cache directory. The new mount recovers the write
// journal before it serves: every file whose close returned is whole in S3 (with -o writeback
// too, where the upload had not run), no file still being written appears in S3 (not even
// cut short), the dead mount's multipart uploads are aborted, and the staged data of files
// that were never closed is kept and listed by `s3mount journal list`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "tests/support/fault_proxy.h"
#include "tests/support/file_writes.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::FaultProxy;
using testing::OpenAndWrite;
using testing::S3mountProcess;

int WriteAndClose(const std::string& path, const std::string& data) {
  return testing::WriteAndClose(path, data).first;
}

class MountCrashTest : public testing::MountClientTest {
 protected:
  std::unique_ptr<S3mountProcess> MountVia(const std::string& endpoint,
                                           std::vector<std::string> options = {}) {
    options.push_back("cache_dir=" + cache_->path());
    auto mount = S3mountProcess::Mount(
        server(), {.source = bucket(), .options = options, .endpoint = endpoint});
    EXPECT_TRUE(mount.ok()) << mount.error().ToString();
    if (!mount.ok()) return nullptr;
    // The first request is served once recovery has run: wait for it.
    struct stat st {};
    EXPECT_EQ(stat((*mount)->mountpoint().c_str(), &st), 0) << std::strerror(errno);
    return std::move(mount).value();
  }

  std::string JournalList() {
    auto listed = testing::RunCommand(
        {.argv = {S3mountProcess::Binary(), "journal", "list", "--cache-dir", cache_->path()}});
    EXPECT_TRUE(listed.ok() && listed->ok()) << (listed.ok() ? listed->Describe() : "");
    return listed.ok() ? listed->stdout_text : "";
  }

  // The keys in the bucket with their sizes.
  std::map<std::string, uint64_t> Objects() {
    std::map<std::string, uint64_t> out;
    auto page = client_.store->ListObjects({.prefix = ""});
    EXPECT_TRUE(page.ok());
    if (page.ok()) {
      for (const auto& object : page->objects) out[object.key] = object.size;
    }
    return out;
  }
};

TEST_F(MountCrashTest, WithoutWriteBackClosedFilesStayAndAnUnclosedStreamLeavesNothingInS3) {
  std::unique_ptr<testing::Subprocess> writer;
  {
    auto mount = MountVia(server().endpoint());
    ASSERT_NE(mount, nullptr);
    for (int i = 0; i < 5; ++i) {
      const std::string name = "closed-" + std::to_string(i);
      ASSERT_EQ(WriteAndClose(mount->Path(name), "closed " + std::to_string(i)), 0) << name;
    }
    // 20 MiB streamed by another process (every close of a descriptor flushes, also one a
    // child of this test would inherit): parts of 8 MiB are in a multipart upload, the rest
    // in memory and in the local copy; never closed before the daemon dies.
    const std::string path = mount->Path("streaming.bin");
    auto started = testing::Subprocess::Start(
        {.argv = {"python3", "-c",
                  "import os,sys,time\n"
                  "fd=os.open(sys.argv[1],os.O_WRONLY|os.O_CREAT|os.O_TRUNC,0o644)\n"
                  "[os.write(fd,os.urandom(1<<20)) for i in range(20)]\n"
                  "time.sleep(600)\n",
                  path},
         .log_path = cache_->File("writer.log")});
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    writer = std::move(started).value();
    struct stat st {};
    for (int i = 0; i < 600 && (stat(path.c_str(), &st) != 0 || st.st_size < (20 << 20)); ++i) {
      usleep(100000);  // a guard against a writer that never gets there, not a timing check
    }
    ASSERT_EQ(st.st_size, 20 << 20) << "the writer did not write 20 MiB";
    auto uploads = server().MultipartUploads(bucket());
    ASSERT_TRUE(uploads.ok());
    EXPECT_EQ(uploads->size(), 1u) << "the stream had not started its multipart upload";
    ASSERT_TRUE(mount->Kill().ok());
  }
  writer->Stop();  // its close fails: the daemon is gone; nothing is uploaded by it
  auto again = MountVia(server().endpoint());
  ASSERT_NE(again, nullptr);
  for (int i = 0; i < 5; ++i) {
    const std::string name = "closed-" + std::to_string(i);
    EXPECT_EQ(Body(name).value_or("(missing)"), "closed " + std::to_string(i)) << name;
  }
  EXPECT_FALSE(Head("streaming.bin").has_value()) << "a file that was never closed appeared in S3";
  auto uploads = server().MultipartUploads(bucket());
  ASSERT_TRUE(uploads.ok());
  EXPECT_TRUE(uploads->empty()) << "the dead mount's multipart upload was not aborted";
  const std::string listed = JournalList();
  EXPECT_NE(listed.find("key:    streaming.bin"), std::string::npos)
      << "the staged data of the unclosed file is not listed:\n"
      << listed;
  EXPECT_NE(listed.find("kind:   staged"), std::string::npos) << listed;
  ASSERT_TRUE(again->Unmount().ok());
}

TEST_F(MountCrashTest, WithWriteBackEveryAcknowledgedCloseReachesS3AfterKill9) {
  auto proxy = FaultProxy::Start("127.0.0.1", server().port());
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
  // Every PUT (objects and parts) waits at the proxy: the closes return (write-back) while
  // no upload can finish, and the daemon dies with all of them queued or in flight.
  (*proxy)->AddFault(testing::Fault::Hold().OnMethod("PUT").Times(100000));
  ASSERT_EQ(client_.store->PutObject({.key = "existing.txt", .body = "old content"}).ok(), true);
  const std::string big = testing::RandomBytes(size_t{20} << 20, 11);
  const std::string unclosed = testing::RandomBytes(size_t{3} << 20, 13);
  int open_fd = -1;
  {
    auto mount = MountVia((*proxy)->endpoint(), {"writeback"});
    ASSERT_NE(mount, nullptr);
    for (int i = 0; i < 20; ++i) {
      const std::string name = "wb-" + std::to_string(i);
      ASSERT_EQ(WriteAndClose(mount->Path(name), "write-back " + std::to_string(i)), 0) << name;
    }
    ASSERT_EQ(WriteAndClose(mount->Path("big.bin"), big), 0);
    ASSERT_EQ(WriteAndClose(mount->Path("existing.txt"), "new content"), 0);
    open_fd = OpenAndWrite(mount->Path("unclosed.bin"), unclosed);
    ASSERT_GE(open_fd, 0) << std::strerror(errno);
    ASSERT_GE((*proxy)->gate().WaitUntilHolding(1, std::chrono::seconds(30)), 1u);
    EXPECT_FALSE(Head("wb-0").has_value()) << "the proxy let an upload through";
    ASSERT_TRUE(mount->Kill().ok());
  }
  close(open_fd);
  (*proxy)->ClearFaults();  // held requests of the dead daemon stay held: they never land
  const std::string before = JournalList();
  EXPECT_NE(before.find("not recovered yet"), std::string::npos) << before;
  auto again = MountVia((*proxy)->endpoint(), {"writeback"});
  ASSERT_NE(again, nullptr);
  for (int i = 0; i < 20; ++i) {
    const std::string name = "wb-" + std::to_string(i);
    EXPECT_EQ(Body(name).value_or("(missing)"), "write-back " + std::to_string(i)) << name;
  }
  const std::optional<std::string> big_body = Body("big.bin");
  EXPECT_TRUE(big_body.has_value() && *big_body == big) << "big.bin is not whole in S3";
  EXPECT_EQ(Body("existing.txt").value_or("(missing)"), "new content");
  EXPECT_FALSE(Head("unclosed.bin").has_value()) << "a file never closed appeared in S3";
  const std::map<std::string, uint64_t> objects = Objects();
  EXPECT_EQ(objects.size(), 22u) << "an unexpected (partial?) object is in the bucket";
  auto uploads = server().MultipartUploads(bucket());
  ASSERT_TRUE(uploads.ok());
  EXPECT_TRUE(uploads->empty()) << "the dead mount's multipart upload was not aborted";
  // Recovered files show through the new mount too.
  EXPECT_EQ(testing::ReadFile(again->Path("wb-3")), "write-back 3");
  const std::string listed = JournalList();
  EXPECT_NE(listed.find("key:    unclosed.bin"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("wb-"), std::string::npos) << "an uploaded file is still listed:\n"
                                                   << listed;
  ASSERT_TRUE(again->Unmount().ok());
  auto cleared = testing::RunCommand(
      {.argv = {S3mountProcess::Binary(), "journal", "clear", "--cache-dir", cache_->path()}});
  ASSERT_TRUE(cleared.ok() && cleared->ok());
  EXPECT_NE(JournalList().find("nothing kept"), std::string::npos);
}

TEST_F(MountCrashTest, RecoveryKeepsAClosedFileWhenAnotherClientChangedItsObject) {
  auto proxy = FaultProxy::Start("127.0.0.1", server().port());
  ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
  ASSERT_TRUE(client_.store->PutObject({.key = "contested.txt", .body = "version 1"}).ok());
  (*proxy)->AddFault(testing::Fault::Hold().OnMethod("PUT").Times(100000));
  {
    auto mount = MountVia((*proxy)->endpoint(), {"writeback"});
    ASSERT_NE(mount, nullptr);
    ASSERT_EQ(WriteAndClose(mount->Path("contested.txt"), "ours, never uploaded"), 0);
    ASSERT_GE((*proxy)->gate().WaitUntilHolding(1, std::chrono::seconds(30)), 1u);
    ASSERT_TRUE(mount->Kill().ok());
  }
  (*proxy)->ClearFaults();
  ASSERT_TRUE(client_.store->PutObject({.key = "contested.txt", .body = "another client"}).ok());
  auto again = MountVia((*proxy)->endpoint(), {"writeback"});
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Body("contested.txt").value_or(""), "another client")
      << "recovery overwrote another client's change";
  const std::string listed = JournalList();
  EXPECT_NE(listed.find("key:    contested.txt"), std::string::npos) << listed;
  EXPECT_NE(listed.find("S3 changed since"), std::string::npos) << listed;
  ASSERT_TRUE(again->Unmount().ok());
}

}  // namespace
}  // namespace s3mount
