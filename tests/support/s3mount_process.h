// S3mountProcess: a real `s3mount` mount for integration tests. It runs the built binary in
// the foreground (-f) against a MotoServer on a fresh temporary mountpoint, waits until the
// mount is live, and on destruction unmounts (fusermount3 -u), stops the process and removes
// the mountpoint, even when the test failed.
//
// Thread-safety: one test thread owns each instance.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "s3mount/common/result.h"
#include "tests/support/moto_server.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {

struct S3mountOptions {
  std::string source;                // BUCKET[:/PREFIX]
  std::vector<std::string> options;  // each passed as -o OPTION (endpoint= is added)
  EnvOverrides env;                  // on top of the moto keys
  // false: the server's keys are not put into the mount's environment (credential tests).
  bool inject_moto_keys = true;
  // true: every AWS_* variable of the test's environment that `env` does not set is removed
  // from the mount's environment (AWS_PROFILE, AWS_CA_BUNDLE, ... of the CI machine).
  bool clear_aws_env = false;
  // The endpoint= given to the mount; "" means the server's (set it to a FaultProxy's).
  std::string endpoint;
};

class S3mountProcess {
 public:
  static Result<std::unique_ptr<S3mountProcess>> Mount(const MotoServer& server,
                                                       const S3mountOptions& options);
  ~S3mountProcess();
  S3mountProcess(const S3mountProcess&) = delete;
  S3mountProcess& operator=(const S3mountProcess&) = delete;

  const std::string& mountpoint() const { return mountpoint_; }
  // mountpoint() + "/" + relative.
  std::string Path(std::string_view relative) const;
  std::string LogTail() const { return process_->LogTail(); }
  // The daemon's process id (it runs in the foreground: the child itself).
  pid_t pid() const { return process_->pid(); }
  // Unmounts with fusermount3 -u and waits for the process to exit; its exit code.
  Result<int> Unmount();
  // A crash: SIGKILL to the daemon (nothing drained, nothing unmounted), waits for it to die,
  // then removes the dead mount with fusermount3 -u -z.
  Status Kill();

  // The built s3mount binary, and a PATH that finds it first.
  static std::string Binary();
  static std::string PathWithBinary();

 private:
  S3mountProcess(std::unique_ptr<TempDir> dir, std::string mountpoint,
                 std::unique_ptr<Subprocess> process)
      : dir_(std::move(dir)), mountpoint_(std::move(mountpoint)), process_(std::move(process)) {}

  std::unique_ptr<TempDir> dir_;
  std::string mountpoint_;
  std::unique_ptr<Subprocess> process_;
  bool unmounted_ = false;
};

// {"env", "-u", NAME, ...} for every AWS_* variable in this process's environment that `keep`
// does not set: prefix a child's argv with it to run the child without them.
std::vector<std::string> EnvCommandUnsettingAws(const EnvOverrides& keep);

// Whether `path` is a mount point right now.
bool IsMounted(const std::string& path);

// Unmounts `mountpoint` with fusermount3 -u, waits up to 10 s for `process` (the FUSE
// daemon) to exit, and returns its exit code.
Result<int> UnmountAndWait(const std::string& mountpoint, Subprocess& process);

}  // namespace s3mount::testing
