// Helpers of the `s3mount` command tests (mount_command_test.cc): running a tool to
// completion, waiting for a condition, finding the daemon serving a mountpoint, and a
// mountpoint that cleans up after itself.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/test_paths.h"

namespace s3mount::testing {

inline constexpr auto kCommandTimeout = std::chrono::milliseconds(30000);

// Runs argv to completion; a spawn failure or timeout becomes a CommandResult with
// exit_code -1 and the reason in stderr_text (and a test failure).
CommandResult RunTool(std::vector<std::string> argv, EnvOverrides env = {},
                      std::chrono::milliseconds timeout = kCommandTimeout);

// Polls `condition` every 20 ms; false if it is still false after `timeout`.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// Whether /proc/PID is a live (not zombie) process.
bool ProcessAlive(pid_t pid);

// Live processes whose program is named s3mount and that have `mountpoint` as an argument:
// the daemon serving that mount (found the way `pgrep -f MOUNTPOINT` would).
std::vector<pid_t> S3mountPidsFor(const std::string& mountpoint);

// A fresh empty mountpoint (TMP/s3mount-cmd-XXXXXX/mnt, the parent world-searchable so that
// other users can reach it). The destructor detaches whatever is mounted there and kills any
// s3mount still serving it, so a failing test leaves nothing behind.
class MountpointDir {
 public:
  MountpointDir();
  ~MountpointDir();
  MountpointDir(const MountpointDir&) = delete;
  MountpointDir& operator=(const MountpointDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return dir_->File(name); }

 private:
  std::unique_ptr<TempDir> dir_;
  std::string path_;
};

}  // namespace s3mount::testing
