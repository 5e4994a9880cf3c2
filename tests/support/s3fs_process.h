// S3fsProcess: a real s3fs-fuse mount (/usr/bin/s3fs, apt package s3fs) of a moto bucket for
// interoperability tests. It runs s3fs in the foreground (-f) on a fresh temporary mountpoint
// with path-style requests, a 0600 passwd file holding the server's keys, xattr support on and
// every s3fs and kernel cache that would hide changes made by another client turned off; waits
// until the mount is live; and on destruction unmounts (fusermount3 -u), stops the process and
// removes its temporary files, even when the test failed.
//
// Thread-safety: one test thread owns each instance.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/result.h"
#include "tests/support/moto_server.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {

class S3fsProcess {
 public:
  // The s3fs binary used (absolute, so a stray `s3fs` in PATH is never picked up).
  static constexpr std::string_view kBinary = "/usr/bin/s3fs";

  // Mounts `bucket` of `server`. Each of `extra_options` is passed as -o OPTION after the
  // defaults (url, use_path_request_style, passwd_file, endpoint=REGION, use_xattr,
  // max_stat_cache_size=0, stat_cache_expire=1, attr_timeout=0, entry_timeout=0,
  // negative_timeout=0, tmpdir), so it can override them. Errors carry s3fs's output.
  static Result<std::unique_ptr<S3fsProcess>> Mount(
      const MotoServer& server, const std::string& bucket,
      const std::vector<std::string>& extra_options = {});
  ~S3fsProcess();
  S3fsProcess(const S3fsProcess&) = delete;
  S3fsProcess& operator=(const S3fsProcess&) = delete;

  const std::string& mountpoint() const { return mountpoint_; }
  // mountpoint() + "/" + relative.
  std::string Path(std::string_view relative) const;
  // The last bytes of s3fs's output, for failure messages.
  std::string LogTail() const { return process_->LogTail(); }
  // Unmounts with fusermount3 -u and waits for s3fs to exit; its wait status.
  Result<int> Unmount();

 private:
  S3fsProcess(std::unique_ptr<TempDir> dir, std::string mountpoint,
              std::unique_ptr<Subprocess> process)
      : dir_(std::move(dir)), mountpoint_(std::move(mountpoint)), process_(std::move(process)) {}

  // Waits a little for s3fs to exit by itself (it flushes its output then), stops it, and
  // returns its log tail.
  std::string StopForLog();

  std::unique_ptr<TempDir> dir_;  // passwd file, log, s3fs's tmpdir
  // Created outside dir_ and only ever rmdir'ed: a recursive delete must never walk into a
  // mount that failed to go away (it would delete objects from the bucket).
  std::string mountpoint_;
  std::unique_ptr<Subprocess> process_;
  bool unmounted_ = false;
};

}  // namespace s3mount::testing
