// S3fsProcess: start, wait for, and always tear down a real s3fs-fuse mount.
#include "tests/support/s3fs_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "tests/support/s3mount_process.h"

namespace s3mount::testing {
namespace {

// Writes "KEY:SECRET\n" to a new file that is 0600 from the start (s3fs refuses others).
Status WritePasswdFile(const std::string& path, const MotoServer& server) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot create " + path + ": " + std::strerror(errno));
  }
  const std::string line = server.access_key_id() + ":" + server.secret_access_key() + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed || ::chmod(path.c_str(), 0600) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot write " + path);
  }
  return OkStatus();
}

// A fresh empty directory /tmp/s3fs-mnt-XXXXXX (or under $TMPDIR).
Result<std::string> MakeMountpoint() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/s3fs-mnt-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return pattern;
}

std::vector<std::string> S3fsArgv(const MotoServer& server, const std::string& bucket,
                                  const std::string& mountpoint, const TempDir& dir,
                                  const std::vector<std::string>& extra_options) {
  std::vector<std::string> argv = {
      std::string(S3fsProcess::kBinary), bucket, mountpoint, "-f",
      // The flags bench/perf_suite.py uses (there against s3rver) (region goes in endpoint=).
      "-o", "url=" + server.endpoint(), "-o", "use_path_request_style", "-o",
      "passwd_file=" + dir.File("passwd"), "-o", "endpoint=" + std::string(server.region()),
      // xattrs are only stored with use_xattr.
      "-o", "use_xattr",
      // No stat/symlink cache in s3fs (size 0 stores nothing), and the kernel's entry,
      // attribute and negative caches off, so changes made through another client show.
      "-o", "max_stat_cache_size=0", "-o", "stat_cache_expire=1", "-o", "attr_timeout=0", "-o",
      "entry_timeout=0", "-o", "negative_timeout=0",
      // s3fs's temporary upload files stay in our own directory.
      "-o", "tmpdir=" + dir.path(), "-o", "dbglevel=warn"};
  for (const auto& option : extra_options) {
    argv.emplace_back("-o");
    argv.push_back(option);
  }
  return argv;
}

// A stat and a readdir of the mount's root both succeed.
bool RootIsUsable(const std::string& mountpoint) {
  struct stat root = {};
  if (::stat(mountpoint.c_str(), &root) != 0) return false;
  DIR* dir = ::opendir(mountpoint.c_str());
  if (dir == nullptr) return false;
  errno = 0;
  while (::readdir(dir) != nullptr) {
  }
  const bool listed = errno == 0;
  ::closedir(dir);
  return listed;
}

}  // namespace

Result<std::unique_ptr<S3fsProcess>> S3fsProcess::Mount(
    const MotoServer& server, const std::string& bucket,
    const std::vector<std::string>& extra_options) {
  if (::access(std::string(kBinary).c_str(), X_OK) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(kBinary) + " is not installed (apt package s3fs)");
  }
  auto dir = TempDir::Create("s3fs-work");
  S3M_RETURN_IF_ERROR(dir);
  S3M_RETURN_IF_ERROR(WritePasswdFile((*dir)->File("passwd"), server));
  auto mountpoint = MakeMountpoint();
  S3M_RETURN_IF_ERROR(mountpoint);
  SubprocessOptions spawn;
  spawn.argv = S3fsArgv(server, bucket, *mountpoint, **dir, extra_options);
  // Same keys in the environment, in case s3fs looks there before the passwd file.
  spawn.env = {{"AWS_ACCESS_KEY_ID", server.access_key_id()},
               {"AWS_SECRET_ACCESS_KEY", server.secret_access_key()}};
  spawn.log_path = (*dir)->File("s3fs.log");
  auto process = Subprocess::Start(spawn);
  if (!process.ok()) {
    ::rmdir(mountpoint->c_str());
    return process.error();
  }
  // From here on the destructor cleans up, whatever happens.
  std::unique_ptr<S3fsProcess> mount(
      new S3fsProcess(std::move(dir).value(), *mountpoint, std::move(process).value()));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!IsMounted(mount->mountpoint_)) {
    if (!mount->process_->Running() || std::chrono::steady_clock::now() > deadline) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "s3fs did not mount " + bucket + "; its output:\n" + mount->StopForLog());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // s3fs checks the bucket only once mounted (in FUSE init, which the kernel completes before
  // any other request) and then leaves its loop if that failed: one lookup and one listing of
  // the root must work.
  if (!RootIsUsable(mount->mountpoint_) || !mount->process_->Running()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "s3fs mount of " + bucket + " is not usable; its output:\n" + mount->StopForLog());
  }
  return mount;
}

std::string S3fsProcess::StopForLog() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (process_->Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  process_->Stop();
  return LogTail();
}

std::string S3fsProcess::Path(std::string_view relative) const {
  return mountpoint_ + "/" + std::string(relative);
}

Result<int> S3fsProcess::Unmount() {
  unmounted_ = true;
  return UnmountAndWait(mountpoint_, *process_);
}

S3fsProcess::~S3fsProcess() {
  if (!unmounted_ && IsMounted(mountpoint_)) {
    auto unmount = RunCommand({.argv = {"fusermount3", "-u", mountpoint_}});
    if (!unmount.ok() || !unmount->ok()) {
      (void)RunCommand({.argv = {"fusermount3", "-u", "-z", mountpoint_}});
    }
  }
  process_->Stop();
  ::rmdir(mountpoint_.c_str());
}

}  // namespace s3mount::testing
