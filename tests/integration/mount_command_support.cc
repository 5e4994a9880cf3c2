// Helpers of the `s3mount` command tests (see mount_command_support.h).
#include "tests/integration/mount_command_support.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/support/s3mount_process.h"
#include "tests/support/test_data.h"

namespace s3mount::testing {

CommandResult RunTool(std::vector<std::string> argv, EnvOverrides env,
                      std::chrono::milliseconds timeout) {
  auto result = RunCommand({.argv = std::move(argv), .env = std::move(env), .timeout = timeout});
  if (result.ok()) return *result;
  ADD_FAILURE() << "command did not complete: " << result.error().ToString();
  CommandResult failed;
  failed.stderr_text = result.error().ToString();
  return failed;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool ProcessAlive(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

std::vector<pid_t> S3mountPidsFor(const std::string& mountpoint) {
  std::vector<pid_t> pids;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::vector<std::string> args;
    std::istringstream split(cmdline);
    for (std::string arg; std::getline(split, arg, '\0');) args.push_back(arg);
    if (args.empty() || std::filesystem::path(args[0]).filename() != "s3mount") continue;
    bool names_mountpoint = false;
    for (size_t i = 1; i < args.size(); ++i) names_mountpoint |= args[i] == mountpoint;
    const pid_t pid = std::stoi(name);
    if (names_mountpoint && ProcessAlive(pid)) pids.push_back(pid);
  }
  return pids;
}

MountpointDir::MountpointDir() {
  auto dir = TempDir::Create("s3mount-cmd");
  if (!dir.ok()) {
    ADD_FAILURE() << dir.error().ToString();
    return;
  }
  dir_ = std::move(dir).value();
  path_ = dir_->File("mnt");
  if (mkdir(path_.c_str(), 0755) != 0 || chmod(dir_->path().c_str(), 0755) != 0) {
    ADD_FAILURE() << "cannot create " << path_;
  }
}

MountpointDir::~MountpointDir() {
  if (dir_ == nullptr) return;
  for (int i = 0; i < 3 && IsMounted(path_); ++i) {
    (void)RunCommand({.argv = {"fusermount3", "-u", "-z", path_}});
  }
  for (pid_t pid : S3mountPidsFor(path_)) kill(pid, SIGKILL);
  rmdir(path_.c_str());
}

}  // namespace s3mount::testing
