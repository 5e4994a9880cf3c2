// POSIX details ordinary tools notice, through a real s3mount mount on moto: each scenario runs
// the same system calls in a local directory (the reference) and on the mount, and compares
// what both report. Link counts: an open file's after unlink, a directory's subdirectories.
// Times: the mount root's mode and times (touch, cp -a and rsync -a into a fresh mount set
// them), a directory's as its entries change, a renamed file's ctime. Special files (FIFOs,
// devices) as mkfifo and mknod make them, stored the way s3fs stores them.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "tests/support/file_writes.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::CommandResult;
using testing::RandomBytes;
using testing::RunCommand;
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

// "mode=0NNN mtime=S.N atime=S.N" of `path`, or the errno that failed.
std::string ModeAndTimesOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  char mode[16];
  std::snprintf(mode, sizeof mode, "0%o", st.st_mode & 07777);
  return std::string("mode=") + mode + " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + " atime=" + std::to_string(st.st_atim.tv_sec) + "." +
         std::to_string(st.st_atim.tv_nsec);
}

TEST_F(MountPosixTest, TheRootsModeAndTimesCanBeSet) {
  ExpectSameOnBoth("the root's mode and times", [](const std::string& root) {
    std::string seen;
    const timespec times[2] = {{1500000000, 123456789}, {1600000000, 987654321}};
    if (utimensat(AT_FDCWD, root.c_str(), times, 0) != 0) {
      seen += std::string("utimensat: ") + std::strerror(errno) + " ";
    }
    if (chmod(root.c_str(), 0750) != 0) seen += std::string("chmod: ") + std::strerror(errno);
    seen += ModeAndTimesOf(root);
    if (chmod(root.c_str(), 0755) != 0) seen += std::string(" chmod back: ") + std::strerror(errno);
    return seen;
  });
  struct stat before {};
  ASSERT_EQ(stat(mount_->Path("").c_str(), &before), 0);
  const auto touched = RunCommand({.argv = {"touch", mount_->Path("")}});
  ASSERT_TRUE(touched.ok()) << touched.error().ToString();
  EXPECT_TRUE(touched->ok()) << "touch MNT: " << touched->Describe();
  struct stat after {};
  ASSERT_EQ(stat(mount_->Path("").c_str(), &after), 0);
  EXPECT_GT(after.st_mtim.tv_sec, before.st_mtim.tv_sec - 1) << "touch did not move the mtime";
  EXPECT_NE(after.st_mtim.tv_nsec + after.st_mtim.tv_sec * 1000000000LL,
            1600000000LL * 1000000000LL + 987654321)
      << "touch left the mtime set before";
}

TEST_F(MountPosixTest, CpArchiveAndRsyncFillTheMountRoot) {
  auto scratch = TempDir::Create("s3mount-posix-src");
  ASSERT_TRUE(scratch.ok());
  const std::string src = (*scratch)->path() + "/src";
  ASSERT_EQ(mkdir(src.c_str(), 0750), 0);
  ASSERT_EQ(mkdir((src + "/sub").c_str(), 0700), 0);
  {
    std::ofstream((src + "/a.txt").c_str()) << "a small file\n";
    std::ofstream((src + "/sub/b.bin").c_str(), std::ios::binary) << RandomBytes(1 << 20, 7);
  }
  ASSERT_EQ(symlink("a.txt", (src + "/link").c_str()), 0);
  const timespec old_times[2] = {{1400000000, 0}, {1400000000, 0}};
  for (const char* path : {"/a.txt", "/sub/b.bin", "/sub", ""}) {
    ASSERT_EQ(utimensat(AT_FDCWD, (src + path).c_str(), old_times, AT_SYMLINK_NOFOLLOW), 0);
  }
  const auto run = [](std::vector<std::string> argv) {
    auto result = RunCommand({.argv = std::move(argv), .timeout = std::chrono::seconds(120)});
    return result.ok() ? *result : CommandResult{.stderr_text = result.error().ToString()};
  };
  const CommandResult cp = run({"cp", "-a", src + "/.", mount_->Path("") + "/"});
  EXPECT_TRUE(cp.ok()) << "cp -a src/. MNT/: " << cp.Describe() << "\n" << mount_->LogTail();
  const CommandResult rsync = run({"rsync", "-a", src + "/", mount_->Path("") + "/"});
  EXPECT_TRUE(rsync.ok()) << "rsync -a src/ MNT/: " << rsync.Describe() << "\n"
                          << mount_->LogTail();
  const CommandResult again = run({"rsync", "-a", "--stats", src + "/", mount_->Path("") + "/"});
  EXPECT_TRUE(again.ok()) << again.Describe();
  EXPECT_NE(again.stdout_text.find("Number of regular files transferred: 0"), std::string::npos)
      << "a second rsync -a transferred files:\n"
      << again.stdout_text;
  // (Not the atime: reading src for the copies moved it.)
  const auto mode_and_mtime = [](const std::string& path) {
    const std::string seen = ModeAndTimesOf(path);
    return seen.substr(0, seen.find(" atime="));
  };
  EXPECT_EQ(mode_and_mtime(mount_->Path("")), mode_and_mtime(src)) << "the root is not src's";
  EXPECT_EQ(Body("sub/b.bin"), std::optional<std::string>(RandomBytes(1 << 20, 7)));
}

// "type=T perm=0NNN rdev=M:m" of `path` (lstat), or the errno that failed.
std::string NodeOf(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  char text[96];
  std::snprintf(text, sizeof text, "type=0%o perm=0%o rdev=%u:%u", st.st_mode & S_IFMT,
                st.st_mode & 07777, major(st.st_rdev), minor(st.st_rdev));
  return text;
}

TEST_F(MountPosixTest, FifosAndDeviceNodesAreMadeAndKeptAsS3fsStoresThem) {
  const auto make = [](const std::string& root) {
    std::string seen;
    if (mkfifo((root + "/fifo").c_str(), 0640) != 0)
      seen += std::string("mkfifo: ") + std::strerror(errno) + " ";
    if (mknod((root + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
      seen += std::string("mknod c: ") + std::strerror(errno) + " ";
    }
    if (mknod((root + "/loop").c_str(), S_IFBLK | 0660, makedev(7, 200)) != 0) {
      seen += std::string("mknod b: ") + std::strerror(errno) + " ";
    }
    return seen;
  };
  const auto nodes = [](const std::string& root) {
    return "fifo " + NodeOf(root + "/fifo") + ", null " + NodeOf(root + "/null") + ", loop " +
           NodeOf(root + "/loop");
  };
  ExpectSameOnBoth("special files", [&](const std::string& root) {
    const std::string made = make(root);  // before nodes(): operands are unsequenced
    return made + nodes(root);
  });
  // As s3fs stores them: an empty object, the type in the mode, the device in rdev.
  auto null = Head("null");
  ASSERT_TRUE(null.has_value());
  EXPECT_EQ(null->size, 0u);
  struct stat local_null {};
  ASSERT_EQ(lstat((local_->path() + "/null").c_str(), &local_null), 0);
  EXPECT_EQ(null->user_metadata["mode"], std::to_string(local_null.st_mode));  // umask applied
  EXPECT_EQ(null->user_metadata["rdev"], std::to_string(makedev(1, 3)));
  EXPECT_EQ(Head("fifo")->user_metadata["mode"], std::to_string(S_IFIFO | 0640));
  // And a new mount reads them back as they were.
  ExpectCleanUnmount(mount_);
  mount_ = Mount();
  ASSERT_NE(mount_, nullptr);
  EXPECT_EQ(nodes(mount_->Path("")), nodes(local_->path())) << "after a remount";
}

// Nanoseconds of `path`'s ctime, or -1.
int64_t CtimeOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
}

TEST_F(MountPosixTest, SetxattrAndRemovexattrMoveTheCtime) {
  ExpectSameOnBoth("ctime after xattr changes", [](const std::string& root) {
    const std::string path = root + "/tagged";
    if (WriteAndClose(path, "x").first != 0) return std::string("cannot write");
    std::string seen;
    for (const bool set : {true, false}) {
      const int64_t before = CtimeOf(path);
      usleep(20000);  // past the local file system's timestamp granularity
      const int rc = set ? setxattr(path.c_str(), "user.tag", "v", 1, 0)
                         : removexattr(path.c_str(), "user.tag");
      if (rc != 0) seen += std::string(set ? "setxattr: " : "removexattr: ") + std::strerror(errno);
      seen += std::string(set ? " set" : " removed") +
              (CtimeOf(path) > before ? ": ctime moved" : ": ctime stayed");
    }
    return seen;
  });
  // And S3 keeps it (not only the kernel's own update of its cached ctime).
  const auto stored_ctime = [&] {
    auto head = Head("tagged");
    return head.has_value() ? head->user_metadata["ctime"] : std::string("no object");
  };
  const std::string before = stored_ctime();
  usleep(20000);
  ASSERT_EQ(setxattr(mount_->Path("tagged").c_str(), "user.tag", "w", 1, 0), 0);
  const std::string after = stored_ctime();
  EXPECT_GT(std::stod(after), std::stod(before))
      << "x-amz-meta-ctime " << before << " then " << after;
}

// Nanoseconds of `path`'s mtime (lstat), or -1.
int64_t MtimeOf(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return -1;
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

// "mtime moved|stayed, ctime moved|stayed" of `path` across `change` (its error if it fails).
std::string TimesAcross(const std::string& path, const std::function<int()>& change) {
  const int64_t mtime = MtimeOf(path);
  const int64_t ctime = CtimeOf(path);
  usleep(20000);  // past the local file system's timestamp granularity
  if (change() != 0) return std::string("failed: ") + std::strerror(errno);
  return std::string(MtimeOf(path) > mtime ? "mtime moved" : "mtime stayed") +
         (CtimeOf(path) > ctime ? ", ctime moved" : ", ctime stayed");
}

TEST_F(MountPosixTest, CreatingRemovingAndRenamingEntriesMovesTheParentsTimes) {
  ExpectSameOnBoth("a directory's times", [](const std::string& root) {
    const std::string dir = root + "/parent";
    const std::string other = root + "/other";
    if (mkdir(dir.c_str(), 0755) != 0 || mkdir(other.c_str(), 0755) != 0)
      return std::string("mkdir");
    std::string seen;
    const auto step = [&](const std::string& what, const std::string& path,
                          const std::function<int()>& change) {
      seen += what + ": " + TimesAcross(path, change) + "\n";
    };
    step("create", dir, [&] { return WriteAndClose(dir + "/file", "x").first; });
    step("mkdir", dir, [&] { return mkdir((dir + "/sub").c_str(), 0755); });
    step("symlink", dir, [&] { return symlink("file", (dir + "/link").c_str()); });
    step("mkfifo", dir, [&] { return mkfifo((dir + "/fifo").c_str(), 0644); });
    step("rename within", dir,
         [&] { return rename((dir + "/file").c_str(), (dir + "/f2").c_str()); });
    step("rename out (source)", dir,
         [&] { return rename((dir + "/f2").c_str(), (other + "/f3").c_str()); });
    step("rename in (target)", dir,
         [&] { return rename((other + "/f3").c_str(), (dir + "/f4").c_str()); });
    step("unlink", dir, [&] { return unlink((dir + "/f4").c_str()); });
    step("rmdir", dir, [&] { return rmdir((dir + "/sub").c_str()); });
    step("a create through a dangling symlink", dir, [&] {
      const int fd = open((dir + "/link").c_str(), O_WRONLY | O_CREAT, 0644);
      const int written = fd >= 0 && write(fd, "more", 4) == 4 ? 0 : -1;
      if (fd >= 0) close(fd);
      return written;
    });
    // A renamed directory's ctime moves, its mtime stays.
    step("the renamed directory itself", dir, [&] {
      const int rc = rename(dir.c_str(), (root + "/renamed").c_str());
      if (rc == 0) rename((root + "/renamed").c_str(), dir.c_str());
      return rc;
    });
    return seen;
  });
}

TEST_F(MountPosixTest, RenameMovesTheFilesCtimeAndKeepsItsMtime) {
  ExpectSameOnBoth("a renamed file's times", [](const std::string& root) {
    const std::string from = root + "/before.txt";
    const std::string to = root + "/after.txt";
    if (WriteAndClose(from, "content").first != 0) return std::string("cannot write");
    const int64_t mtime = MtimeOf(from);
    const int64_t ctime = CtimeOf(from);
    usleep(20000);
    if (rename(from.c_str(), to.c_str()) != 0)
      return std::string("rename: ") + std::strerror(errno);
    return std::string(MtimeOf(to) == mtime ? "mtime kept" : "mtime changed") +
           (CtimeOf(to) > ctime ? ", ctime moved" : ", ctime stayed");
  });
  // S3 keeps it: a new mount sees the renamed file's ctime.
  const int64_t ctime = CtimeOf(mount_->Path("after.txt"));
  ExpectCleanUnmount(mount_);
  mount_ = Mount();
  ASSERT_NE(mount_, nullptr);
  EXPECT_EQ(CtimeOf(mount_->Path("after.txt")), ctime) << "the ctime did not reach S3";
}

// "nlink=N" of `path` (stat), or the errno that failed.
std::string LinkCountAt(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  return "nlink=" + std::to_string(st.st_nlink);
}

TEST_F(MountPosixTest, ADirectoryCountsItsSubdirectoriesOnceListed) {
  ExpectSameOnBoth("directory link counts", [](const std::string& root) {
    const std::string dir = root + "/counted";
    std::string seen;
    for (const char* sub : {"", "/one", "/two", "/one/inner"}) {
      if (mkdir((dir + sub).c_str(), 0755) != 0)
        seen += dir + sub + ": " + std::strerror(errno) + " ";
    }
    if (WriteAndClose(dir + "/file", "x").first != 0) seen += "cannot write ";
    // List them, as find and ls -R do before they stat.
    for (const char* sub : {"", "/one", "/two"}) {
      if (DIR* listing = opendir((dir + sub).c_str())) {
        while (readdir(listing) != nullptr) {
        }
        closedir(listing);
      }
    }
    seen += "counted " + LinkCountAt(dir) + ", one " + LinkCountAt(dir + "/one") + ", two " +
            LinkCountAt(dir + "/two");
    if (rmdir((dir + "/two").c_str()) != 0) seen += std::string(" rmdir: ") + std::strerror(errno);
    if (DIR* listing = opendir(dir.c_str())) {
      while (readdir(listing) != nullptr) {
      }
      closedir(listing);
    }
    seen += ", after an rmdir " + LinkCountAt(dir);
    return seen;
  });
  // Seen from a new mount, listed by find as a user would.
  ExpectCleanUnmount(mount_);
  mount_ = Mount();
  ASSERT_NE(mount_, nullptr);
  const auto found = RunCommand({.argv = {"find", mount_->Path("counted"), "-type", "d"}});
  ASSERT_TRUE(found.ok()) << found.error().ToString();
  EXPECT_TRUE(found->ok()) << found->Describe();
  EXPECT_EQ(LinkCountAt(mount_->Path("counted")), LinkCountAt(local_->path() + "/counted"))
      << "after a remount and find";
}

}  // namespace
}  // namespace s3mount
