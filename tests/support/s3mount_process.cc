// S3mountProcess: start, wait for, and always tear down a real FUSE mount.
#include "tests/support/s3mount_process.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX global

namespace s3mount::testing {

bool IsMounted(const std::string& path) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    // Field 5 is the mount point (spaces escaped as \040; our temp paths have none).
    size_t start = 0;
    for (int field = 0; field < 4; ++field) start = line.find(' ', start) + 1;
    const size_t end = line.find(' ', start);
    if (line.substr(start, end - start) == path) return true;
  }
  return false;
}

std::vector<std::string> EnvCommandUnsettingAws(const EnvOverrides& keep) {
  std::vector<std::string> argv = {"env"};
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    const std::string name(variable.substr(0, variable.find('=')));
    if (!name.starts_with("AWS_")) continue;
    bool kept = false;
    for (const auto& [kept_name, value] : keep) kept = kept || kept_name == name;
    if (!kept) argv.insert(argv.end(), {"-u", name});
  }
  return argv;
}

std::string S3mountProcess::Binary() { return std::string(S3MOUNT_BINARY_DIR) + "/s3mount"; }

std::string S3mountProcess::PathWithBinary() {
  const char* path = std::getenv("PATH");
  return std::string(S3MOUNT_BINARY_DIR) + ":" + (path ? path : "/usr/bin:/bin");
}

Result<std::unique_ptr<S3mountProcess>> S3mountProcess::Mount(const MotoServer& server,
                                                              const S3mountOptions& options) {
  auto dir = TempDir::Create("s3mount-mnt");
  S3M_RETURN_IF_ERROR(dir);
  const std::string mountpoint = (*dir)->File("mnt");
  if (mkdir(mountpoint.c_str(), 0755) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot create " + mountpoint);
  }
  SubprocessOptions spawn;
  if (options.inject_moto_keys) {
    spawn.env = {{"AWS_ACCESS_KEY_ID", server.access_key_id()},
                 {"AWS_SECRET_ACCESS_KEY", server.secret_access_key()}};
  }
  for (const auto& variable : options.env) spawn.env.push_back(variable);
  if (options.clear_aws_env) spawn.argv = EnvCommandUnsettingAws(spawn.env);
  const std::string endpoint = options.endpoint.empty() ? server.endpoint() : options.endpoint;
  for (const std::string& arg : {Binary(), options.source, mountpoint, std::string("-f"),
                                 std::string("-o"), "endpoint=" + endpoint}) {
    spawn.argv.push_back(arg);
  }
  for (const auto& option : options.options) {
    spawn.argv.emplace_back("-o");
    spawn.argv.push_back(option);
  }
  spawn.log_path = (*dir)->File("s3mount.log");
  auto process = Subprocess::Start(spawn);
  S3M_RETURN_IF_ERROR(process);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!IsMounted(mountpoint)) {
    if (!(*process)->Running() || std::chrono::steady_clock::now() > deadline) {
      const std::string log = (*process)->LogTail();
      return MakeError(ErrorCode::kInvalidArgument, "s3mount did not mount; its output:\n" + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::unique_ptr<S3mountProcess>(
      new S3mountProcess(std::move(dir).value(), mountpoint, std::move(process).value()));
}

std::string S3mountProcess::Path(std::string_view relative) const {
  return mountpoint_ + "/" + std::string(relative);
}

Result<int> UnmountAndWait(const std::string& mountpoint, Subprocess& process) {
  auto result = RunCommand({.argv = {"fusermount3", "-u", mountpoint}});
  S3M_RETURN_IF_ERROR(result);
  if (!result->ok()) {
    return MakeError(ErrorCode::kInvalidArgument, "fusermount3 -u: " + result->Describe());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (process.Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return process.Stop();
}

Result<int> S3mountProcess::Unmount() {
  unmounted_ = true;
  return UnmountAndWait(mountpoint_, *process_);
}

Status S3mountProcess::Kill() {
  unmounted_ = true;
  ::kill(process_->pid(), SIGKILL);
  process_->Stop();  // reaps it
  // Lazy: the test may still hold a descriptor of a file the dead daemon had open.
  auto result = RunCommand({.argv = {"fusermount3", "-u", "-z", mountpoint_}});
  S3M_RETURN_IF_ERROR(result);
  if (!result->ok()) {
    return MakeError(ErrorCode::kInvalidArgument, "fusermount3 -u: " + result->Describe());
  }
  return OkStatus();
}

S3mountProcess::~S3mountProcess() {
  if (!unmounted_ && IsMounted(mountpoint_)) {
    (void)RunCommand({.argv = {"fusermount3", "-u", "-z", mountpoint_}});
  }
  process_->Stop();
  rmdir(mountpoint_.c_str());
}

}  // namespace s3mount::testing
