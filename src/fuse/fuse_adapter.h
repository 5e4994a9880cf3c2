// The FUSE adapter: libfuse low-level operations whose handlers each call the Filesystem once
// and reply exactly once. It is thin on purpose: no policy lives here, only conversions
// (Attributes to struct stat, Error to errno through ErrnoOf) and reply plumbing. No
// exception crosses into libfuse: a handler that throws replies EIO (ENOMEM for bad_alloc).
//
// Thread-safety: the handlers run on libfuse's worker threads; all state is in Filesystem.
#pragma once

#define FUSE_USE_VERSION 312  // the fuse_loop_cfg_* API (fuse_session.cc)
#include <fuse_lowlevel.h>

#include <atomic>
#include <string>

#include "s3mount/common/clock.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

// What the handlers reach through fuse_req_userdata. `filesystem` is set once, before the
// session loop starts (the Filesystem is built after daemonizing, as it starts threads).
struct FuseContext {
  std::atomic<Filesystem*> filesystem{nullptr};
  bool read_only = false;
  size_t max_io = size_t{1} << 20;  // max_read / max_write / max_readahead asked of the kernel
  // Where the session is mounted, for tuning the mount's kernel readahead at init; empty
  // leaves the kernel's default.
  std::string mountpoint;
  // How many asynchronous requests (readahead reads) the kernel may have in flight at once:
  // raised at init to this when it is above the kernel's default (12), so that every worker
  // can serve one; 0 keeps the default.
  unsigned max_background = 0;
  // The clock of the trace log's request timings; null: no timings.
  const Clock* clock = nullptr;
  // The session the handlers run in (set once it exists), for notifications to the kernel.
  fuse_session* session = nullptr;
};

// The operations table, for fuse_session_new with a FuseContext* as userdata.
const fuse_lowlevel_ops& FuseOperations();

}  // namespace s3mount
