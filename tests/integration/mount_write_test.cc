// Integration tests of writes on a real FUSE mount of the built s3mount over moto_server:
// every operation through plain system calls, each checked both through the mount and
// through the S3 API (object bytes, s3fs `x-amz-meta-*` headers, `dir/` markers, content
// types), plus failures injected between s3mount and the server by the fault proxy: a failed
// upload fails close() and keeps the data, a transient one is retried and the file arrives
// whole.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "s3mount/s3/object_sinks.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/file_writes.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::RandomBytes;
using testing::ReadFile;
using testing::SameBytes;

using testing::Fault;
using testing::FaultProxy;
using testing::S3mountProcess;
using testing::WriteAndClose;

class MountWriteTest : public testing::MountClientTest {};

TEST_F(MountWriteTest, CreatedFileIsInS3WithS3fsMetadataWhenCloseReturns) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(WriteAndClose(mount->Path("notes.txt"), "hello\n").first, 0);
  EXPECT_EQ(Body("notes.txt"), "hello\n") << "the bytes must be in S3 when close returns";
  auto head = Head("notes.txt");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->content_type, "text/plain") << "Content-Type from /etc/mime.types";
  EXPECT_EQ(head->user_metadata["mode"], "33188") << "0100644, umask 022";
  EXPECT_EQ(head->user_metadata["uid"], std::to_string(getuid()));
  EXPECT_EQ(head->user_metadata["gid"], std::to_string(getgid()));
  struct stat st = {};
  ASSERT_EQ(stat(mount->Path("notes.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 6);
  EXPECT_EQ(ReadFile(mount->Path("notes.txt")), "hello\n");
  // Appending and overwriting through the shell.
  ASSERT_EQ(WriteAndClose(mount->Path("notes.txt"), "more\n", O_WRONLY | O_APPEND).first, 0);
  EXPECT_EQ(Body("notes.txt"), "hello\nmore\n");
  EXPECT_EQ(ReadFile(mount->Path("notes.txt")), "hello\nmore\n");
  ASSERT_EQ(WriteAndClose(mount->Path("notes.txt"), "new").first, 0);
  EXPECT_EQ(Body("notes.txt"), "new");
  EXPECT_EQ(ReadFile(mount->Path("notes.txt")), "new");
}

TEST_F(MountWriteTest, ANewFileReachesS3AtItsCloseAndIsVisibleHereBefore) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  const std::string path = mount->Path("pending.txt");
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0640);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  EXPECT_FALSE(Head("pending.txt").has_value()) << "create must not PUT the object";
  struct stat st = {};
  ASSERT_EQ(stat(path.c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_size, 3);
  EXPECT_EQ(st.st_mode, S_IFREG | 0640u);
  EXPECT_EQ(st.st_uid, getuid());
  bool listed = false;
  for (const auto& entry : std::filesystem::directory_iterator(mount->Path(""))) {
    listed = listed || entry.path().filename() == "pending.txt";
  }
  EXPECT_TRUE(listed) << "readdir must show the file before it is in S3";
  EXPECT_FALSE(Head("pending.txt").has_value());
  ASSERT_EQ(close(fd), 0) << std::strerror(errno);
  EXPECT_EQ(Body("pending.txt"), "abc") << "the bytes must be in S3 when close returns";
  auto head = Head("pending.txt");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->user_metadata["mode"], std::to_string(S_IFREG | 0640u));
  EXPECT_EQ(head->user_metadata["uid"], std::to_string(getuid()));
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 3);
}

TEST_F(MountWriteTest, LargeSequentialAndRandomWritesArriveByteForByte) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  std::string data = RandomBytes(40 << 20, 7);
  ASSERT_EQ(WriteAndClose(mount->Path("big.bin"), data).first, 0);
  auto body = Body("big.bin");
  ASSERT_TRUE(body.has_value());
  EXPECT_TRUE(SameBytes(*body, data)) << "streamed multipart upload";
  // Patch a few bytes in the middle (staging file + server-side copies) and append.
  const int fd = open(mount->Path("big.bin").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "PATCHED", 7, 17 << 20), 7);
  ASSERT_EQ(pwrite(fd, "END", 3, static_cast<off_t>(data.size())), 3);
  char check[7];
  ASSERT_EQ(pread(fd, check, 7, 17 << 20), 7);
  EXPECT_EQ(std::string(check, 7), "PATCHED") << "a read after a write sees the write";
  ASSERT_EQ(close(fd), 0);
  data.replace(17 << 20, 7, "PATCHED");
  data += "END";
  body = Body("big.bin");
  ASSERT_TRUE(body.has_value());
  EXPECT_TRUE(SameBytes(*body, data));
  EXPECT_TRUE(SameBytes(ReadFile(mount->Path("big.bin")), data));
  // Truncate down and up by path.
  ASSERT_EQ(truncate(mount->Path("big.bin").c_str(), 1000), 0);
  ASSERT_EQ(truncate(mount->Path("big.bin").c_str(), 1500), 0);
  EXPECT_EQ(Body("big.bin"), data.substr(0, 1000) + std::string(500, '\0'));
}

TEST_F(MountWriteTest, DirectoriesMarkersRenameAndRefusals) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(mkdir(mount->Path("d").c_str(), 0750), 0);
  auto marker = Head("d/");
  ASSERT_TRUE(marker.has_value()) << "mkdir writes the d/ marker";
  EXPECT_EQ(marker->content_type, "application/x-directory");
  EXPECT_EQ(marker->user_metadata["mode"], std::to_string(040750));
  ASSERT_EQ(WriteAndClose(mount->Path("d/a"), "A").first, 0);
  ASSERT_EQ(mkdir(mount->Path("d/sub").c_str(), 0755), 0);
  ASSERT_EQ(WriteAndClose(mount->Path("d/sub/b"), "B").first, 0);
  errno = 0;
  EXPECT_EQ(rmdir(mount->Path("d").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  errno = 0;
  EXPECT_EQ(link(mount->Path("d/a").c_str(), mount->Path("d/hard").c_str()), -1);
  EXPECT_EQ(errno, EPERM) << "hard links are refused clearly";
  ASSERT_EQ(rename(mount->Path("d").c_str(), mount->Path("e").c_str()), 0);
  EXPECT_FALSE(Head("d/").has_value());
  EXPECT_FALSE(Head("d/a").has_value());
  EXPECT_EQ(Body("e/a"), "A");
  EXPECT_EQ(Body("e/sub/b"), "B");
  EXPECT_TRUE(Head("e/").has_value());
  EXPECT_EQ(ReadFile(mount->Path("e/sub/b")), "B");
  EXPECT_NE(access(mount->Path("d").c_str(), F_OK), 0);
  // RENAME_NOREPLACE refuses an existing target; a plain rename replaces it.
  ASSERT_EQ(WriteAndClose(mount->Path("e/c"), "C").first, 0);
  errno = 0;
  EXPECT_EQ(syscall(SYS_renameat2, AT_FDCWD, mount->Path("e/a").c_str(), AT_FDCWD,
                    mount->Path("e/c").c_str(), RENAME_NOREPLACE),
            -1);
  EXPECT_EQ(errno, EEXIST);
  ASSERT_EQ(rename(mount->Path("e/a").c_str(), mount->Path("e/c").c_str()), 0);
  EXPECT_EQ(Body("e/c"), "A");
  EXPECT_FALSE(Head("e/a").has_value());
  ASSERT_EQ(unlink(mount->Path("e/c").c_str()), 0);
  ASSERT_EQ(unlink(mount->Path("e/sub/b").c_str()), 0);
  ASSERT_EQ(rmdir(mount->Path("e/sub").c_str()), 0);
  ASSERT_EQ(rmdir(mount->Path("e").c_str()), 0);
  auto left = client_.store->ListObjects({});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->objects.empty())
      << "everything removed, first left: " << (left->objects.empty() ? "" : left->objects[0].key);
}

TEST_F(MountWriteTest, RmRecursiveRemovesATreeOfObjectsWithoutMarkers) {
  for (const char* key : {"tree/a", "tree/b", "tree/sub/c", "tree/sub/deeper/d"}) {
    ASSERT_TRUE(client_.store->PutObject({.key = key, .body = "x"}).ok());
  }
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  auto rm = testing::RunCommand({.argv = {"rm", "-r", mount->Path("tree")}});
  ASSERT_TRUE(rm.ok());
  EXPECT_TRUE(rm->ok()) << rm->Describe();
  auto left = client_.store->ListObjects({});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->objects.empty());
  EXPECT_NE(access(mount->Path("tree").c_str(), F_OK), 0);
}

TEST_F(MountWriteTest, AttributesSymlinksSpecialFilesAndXattrsAreStoredAsS3fsDoes) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  const std::string file = mount->Path("f.bin");
  ASSERT_EQ(WriteAndClose(file, "data").first, 0);
  ASSERT_EQ(chmod(file.c_str(), 0640), 0);
  ASSERT_EQ(chown(file.c_str(), 1234, 5678), 0);
  const timespec times[2] = {{1500000000, 0}, {1600000000, 123456789}};
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  ASSERT_EQ(setxattr(file.c_str(), "user.color", "red", 3, 0), 0);
  auto head = Head("f.bin");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->user_metadata["mode"], "33184");
  EXPECT_EQ(head->user_metadata["uid"], "1234");
  EXPECT_EQ(head->user_metadata["gid"], "5678");
  EXPECT_EQ(head->user_metadata["mtime"], "1600000000.123456789");
  EXPECT_EQ(head->user_metadata["xattr"], "%7B%22user.color%22%3A%22cmVk%22%7D");
  EXPECT_EQ(Body("f.bin"), "data") << "metadata changes never touch the bytes";
  struct stat st = {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0640);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  char value[16] = {};
  EXPECT_EQ(getxattr(file.c_str(), "user.color", value, sizeof(value)), 3);
  ASSERT_EQ(removexattr(file.c_str(), "user.color"), 0);
  EXPECT_FALSE(Head("f.bin")->user_metadata.contains("xattr"));

  ASSERT_EQ(symlink("../some/target", mount->Path("link").c_str()), 0);
  EXPECT_EQ(Body("link"), "../some/target");
  EXPECT_EQ(Head("link")->user_metadata["mode"], std::to_string(0120777));
  char target[64] = {};
  EXPECT_EQ(readlink(mount->Path("link").c_str(), target, sizeof(target)), 14);
  ASSERT_EQ(mkfifo(mount->Path("fifo").c_str(), 0644), 0);
  EXPECT_EQ(Head("fifo")->user_metadata["mode"], std::to_string(010644));
  ASSERT_EQ(mknod(mount->Path("sock").c_str(), S_IFSOCK | 0755, 0), 0);
  EXPECT_EQ(Head("sock")->user_metadata["mode"], std::to_string(0140755));
  ASSERT_EQ(lstat(mount->Path("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // Devices too, as s3fs's mknod stores them: the number in rdev.
  ASSERT_EQ(mknod(mount->Path("dev").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0)
      << std::strerror(errno);
  EXPECT_EQ(Head("dev")->user_metadata["mode"], std::to_string(S_IFCHR | 0600));
  EXPECT_EQ(Head("dev")->user_metadata["rdev"], std::to_string(makedev(1, 3)));
}

TEST_F(MountWriteTest, ExclusiveCreateIsHonestAcrossClients) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  const std::string path = mount->Path("lock");
  EXPECT_NE(access(path.c_str(), F_OK), 0);  // the mount now caches "lock" as missing
  ASSERT_TRUE(client_.store->PutObject({.key = "lock", .body = "theirs"}).ok());
  errno = 0;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd >= 0) close(fd);
  EXPECT_EQ(fd, -1) << "O_EXCL must not clobber another client's object";
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(Body("lock"), "theirs");
}

TEST_F(MountWriteTest, OpenHandlesSurviveUnlinkAndRename) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(WriteAndClose(mount->Path("tmp"), "abcdef").first, 0);
  const int fd = open(mount->Path("tmp").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(unlink(mount->Path("tmp").c_str()), 0);
  EXPECT_FALSE(Head("tmp").has_value());
  ASSERT_EQ(pwrite(fd, "XY", 2, 6), 2);
  char buffer[16] = {};
  EXPECT_EQ(pread(fd, buffer, sizeof(buffer), 0), 8);
  EXPECT_EQ(std::string(buffer, 8), "abcdefXY");
  EXPECT_EQ(close(fd), 0);
  EXPECT_FALSE(Head("tmp").has_value()) << "an unlinked file is never uploaded";

  const int draft = open(mount->Path("draft").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(draft, 0);
  ASSERT_EQ(write(draft, "v1", 2), 2);
  ASSERT_EQ(rename(mount->Path("draft").c_str(), mount->Path("final").c_str()), 0);
  ASSERT_EQ(write(draft, "+v2", 3), 3);
  ASSERT_EQ(close(draft), 0);
  EXPECT_EQ(Body("final"), "v1+v2");
  EXPECT_FALSE(Head("draft").has_value());
  EXPECT_EQ(ReadFile(mount->Path("final")), "v1+v2");
}

TEST_F(MountWriteTest, StagingFilesArePrivateAndGoneOnceUploaded) {
  auto mount = Mount();
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(WriteAndClose(mount->Path("f"), "0123456789").first, 0);
  const int fd = open(mount->Path("f").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "x", 1, 5), 1);  // out of order: staged
  // Every directory in the cache directory is private: staging areas and the write journal
  // (which holds the staged file's record while it is open) alike.
  const auto staged_files = [&] {
    size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(cache_->path())) {
      struct stat st = {};
      EXPECT_EQ(stat(entry.path().c_str(), &st), 0);
      if (S_ISDIR(st.st_mode)) {
        EXPECT_EQ(st.st_mode & 0777, 0700u) << entry.path() << " must be private";
      } else if (entry.path().string().find("/journal/") == std::string::npos) {
        ++files;
      }
    }
    return files;
  };
  EXPECT_EQ(staged_files(), 1u);
  ASSERT_EQ(close(fd), 0);
  EXPECT_EQ(Body("f"), "01234x6789");
  EXPECT_EQ(staged_files(), 0u) << "uploaded staging files are removed";
}

class MountWriteFaultTest : public MountWriteTest {
 protected:
  void SetUp() override {
    MountWriteTest::SetUp();
    if (HasFatalFailure()) return;
    auto proxy = FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(proxy).value();
  }
  std::unique_ptr<S3mountProcess> MountThroughProxy() {
    return Mount({"endpoint=" + proxy_->endpoint()});
  }
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(MountWriteFaultTest, TransientFailuresAreRetriedAndTheFileArrivesWhole) {
  auto mount = MountThroughProxy();
  ASSERT_NE(mount, nullptr);
  const std::string data = RandomBytes(20 << 20, 11);
  proxy_->AddFault(Fault::Return503SlowDown().OnMethod("PUT").Times(2));
  proxy_->AddFault(Fault::ResetMidBody(0).OnMethod("POST").Times(1));
  ASSERT_EQ(WriteAndClose(mount->Path("flaky.bin"), data).first, 0);
  auto body = Body("flaky.bin");
  ASSERT_TRUE(body.has_value());
  EXPECT_TRUE(SameBytes(*body, data));
}

TEST_F(MountWriteFaultTest, FailedUploadFailsCloseAndKeepsTheData) {
  auto mount = MountThroughProxy();
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(WriteAndClose(mount->Path("doc"), "original").first, 0);
  const int fd = open(mount->Path("doc").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "EDIT", 4, 2), 4);
  proxy_->AddFault(Fault::ReturnStatus(403, "AccessDenied", "denied").OnMethod("PUT").Times(100));
  errno = 0;
  EXPECT_EQ(fsync(fd), -1) << "fsync must report the failed upload";
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(close(fd), -1) << "close must report the failed upload";
  EXPECT_EQ(Body("doc"), "original") << "the object is untouched";
  // The edit is kept in a staging file, and the log says where.
  std::string kept;
  for (const auto& dir : std::filesystem::recursive_directory_iterator(cache_->path())) {
    // The cache directory also holds the write journal (records, lock files): the edit's bytes
    // are in the staging file, named after the file.
    const std::string name = dir.path().filename().string();
    if (dir.is_regular_file() && name.starts_with("staged-") && name.ends_with("-doc")) {
      kept = dir.path();
    }
  }
  ASSERT_FALSE(kept.empty()) << "the unsent data must stay on disk";
  EXPECT_EQ(ReadFile(kept).substr(2, 4), "EDIT");
  EXPECT_NE(mount->LogTail().find(kept), std::string::npos) << mount->LogTail();
}

}  // namespace
}  // namespace s3mount
