// Child processes for tests: a RAII Subprocess (own process group, output to a log file,
// terminated and reaped on destruction), RunCommand to run a command to completion with a
// timeout while capturing its output, and TempDir, a directory removed on destruction.
//
// Thread-safety: Subprocess and TempDir are owned by one thread at a time (no internal
// locking); RunCommand may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount::testing {

// Environment variables set (or overridden) for a child, on top of the test's environment.
using EnvOverrides = std::vector<std::pair<std::string, std::string>>;

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  // `prefix` names the directory ("s3mount-moto" -> /tmp/s3mount-moto-XXXXXX).
  static Result<std::unique_ptr<TempDir>> Create(std::string_view prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  EnvOverrides env;
  std::string log_path;  // stdout and stderr are appended here (required); stdin is /dev/null
};

// A running child in its own process group. The destructor calls Stop(). The child also gets
// SIGKILL when the thread that started it exits (PR_SET_PDEATHSIG), so a test binary that
// crashes or is killed leaves no server behind; start long-lived children from a thread that
// outlives them (GoogleTest's main thread, as the fixtures do).
class Subprocess {
 public:
  static constexpr std::chrono::milliseconds kDefaultGrace{3000};

  // Spawns the child. Errors name the command and the reason (e.g. ENOENT).
  static Result<std::unique_ptr<Subprocess>> Start(const SubprocessOptions& options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // The command line, for messages.
  const std::string& description() const { return description_; }

  // True while the child has not exited (does not reap it, so the pid stays reserved).
  bool Running() const;

  // SIGTERM to the whole group, wait up to `grace` for the child to exit, then SIGKILL the
  // group and reap the child. Idempotent. Returns the child's wait status (as waitpid), or
  // -1 if it had already been stopped.
  int Stop(std::chrono::milliseconds grace = kDefaultGrace);

  // The last `max_bytes` of the log file (for failure messages).
  std::string LogTail(std::size_t max_bytes = 4096) const;

 private:
  Subprocess(pid_t pid, std::string log_path, std::string description)
      : pid_(pid), log_path_(std::move(log_path)), description_(std::move(description)) {}

  pid_t pid_;
  bool reaped_ = false;
  std::string log_path_;
  std::string description_;
};

struct CommandResult {
  int exit_code = -1;   // exit status, or -1 if killed by a signal
  int term_signal = 0;  // the signal that killed it, 0 if it exited
  std::string stdout_text;
  std::string stderr_text;

  bool ok() const { return exit_code == 0; }
  // "exit code 2; stderr: error: NoSuchBucket: ..." for failure messages.
  std::string Describe() const;
};

struct CommandOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  EnvOverrides env;
  std::string stdin_data;  // written to the child's stdin, which is then closed
  std::chrono::milliseconds timeout{30000};
};

// Runs a command in its own process group to completion. A non-zero exit is a value in the
// CommandResult; errors are failure to spawn, or a timeout (kTimeout: the group is killed
// and the message holds the stderr captured so far).
Result<CommandResult> RunCommand(const CommandOptions& options);

// Last `max_bytes` of a file, "" if it cannot be read.
std::string ReadFileTail(const std::string& path, std::size_t max_bytes);

}  // namespace s3mount::testing
