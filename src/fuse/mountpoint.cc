// PrepareMountpoint: existence, emptiness, already-mounted and dead-mount recovery.
#include "fuse/mountpoint.h"

#include <dirent.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace s3mount {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

// Whether /proc/self/mountinfo lists `path` as a mount point (octal escapes decoded).
bool IsMountPoint(const std::string& path) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    std::string decoded;
    for (size_t i = 0; i < mount_point.size(); ++i) {
      if (mount_point[i] == '\\' && i + 3 < mount_point.size()) {
        decoded.push_back(static_cast<char>(std::stoi(mount_point.substr(i + 1, 3), nullptr, 8)));
        i += 3;
      } else {
        decoded.push_back(mount_point[i]);
      }
    }
    if (decoded == path) return true;
  }
  return false;
}

Status Detach(const std::string& path) {
  const char* argv[] = {"fusermount3", "-u", "-z", path.c_str(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "fusermount3", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot run fusermount3 to detach '" + path + "'");
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "mountpoint '" + path + "' is a dead mount and fusermount3 -u -z failed");
  }
  return OkStatus();
}

}  // namespace

Status PrepareMountpoint(const std::string& path) {
  struct stat st = {};
  if (stat(path.c_str(), &st) != 0 && errno == ENOTCONN) {
    std::cerr << "s3mount: mountpoint '" << path
              << "' was left by a filesystem that died (transport endpoint is not connected); "
                 "detaching it\n";
    S3M_RETURN_IF_ERROR(Detach(path));
  }
  if (stat(path.c_str(), &st) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "mountpoint '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, "mountpoint '" + path + "' is not a directory");
  }
  if (IsMountPoint(path)) {
    return MakeError(ErrorCode::kInvalidArgument, "mountpoint '" + path + "' is already mounted");
  }
  std::unique_ptr<DIR, DirCloser> dir(opendir(path.c_str()));
  if (!dir) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "mountpoint '" + path + "': " + std::strerror(errno));
  }
  while (const dirent* entry = readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") {
      return MakeError(ErrorCode::kInvalidArgument, "mountpoint '" + path + "' is not empty");
    }
  }
  return OkStatus();
}

}  // namespace s3mount
