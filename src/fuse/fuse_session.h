// FuseMount: one libfuse session from creation to unmount, in RAII form. Mount() attaches it
// to the mountpoint, Daemonize() detaches from the terminal once the mount is ready (the
// parent process exits only then), Run() serves requests until unmount or a signal
// (SIGINT/SIGTERM/SIGHUP unmount cleanly), and the destructor unmounts and frees everything.
//
// Thread-safety: used from main's thread only (Invalidate from any thread); the session loop
// starts its own workers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fuse/fuse_adapter.h"
#include "s3mount/common/result.h"

namespace s3mount {

struct FuseMountOptions {
  std::string mountpoint;
  std::vector<std::string> fuse_options;  // each passed as "-o OPTION"
  bool debug = false;
  bool single_threaded = false;
  unsigned max_threads = 16;
};

class FuseMount {
 public:
  // Creates the session (not yet mounted). `context` must outlive it.
  static Result<std::unique_ptr<FuseMount>> Create(const FuseMountOptions& options,
                                                   FuseContext& context);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  Status Mount();
  // Forks into the background unless `foreground`; the parent exits 0 once this returns in
  // the child. Must run before any other thread exists.
  Status Daemonize(bool foreground);
  // Serves requests until unmounted or signalled; kNetwork-free: errors are libfuse's.
  Status Run();

  // Tells the kernel to forget the dentries and inodes (attributes and cached pages) of a
  // change made elsewhere. Callable from any thread between Mount() and destruction, with no
  // filesystem lock held (the kernel may call back into the filesystem meanwhile).
  void Invalidate(const KernelInvalidations& kernel);

 private:
  struct Impl;
  explicit FuseMount(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace s3mount
