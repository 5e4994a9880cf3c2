// The one shape every FUSE handler has, kept free of libfuse so that it is unit-tested:
//
//  - ServeRequest runs a handler's body, which calls the Filesystem once and replies as its
//    last act, or returns the Error instead; the shape maps that Error through ErrnoOf into
//    the one error reply and logs it once. No exception leaves it: one thrown before the reply
//    becomes an EIO reply (ENOMEM for std::bad_alloc), one thrown after it is only logged, and
//    a request that takes no reply (forget) is still finished.
//  - Handover holds what a reply hands over to the kernel: the lookup references of entry
//    replies (lookup, create, mkdir, mknod, symlink, link) and readdirplus entries, and the
//    open handle of create. The kernel owns them only once the reply is delivered; when it is
//    not (the reply call fails: the request was interrupted, the connection is gone) or never
//    sent (the body failed after the Filesystem call), they are given back to the Filesystem
//    (Forget of each reference, Release of the handle).
//
// fuse_adapter.cc supplies the libfuse side: a Request type with
//   bool replied() const;           whether the request's one reply went out
//   void ReplyError(int errno);     the error reply (for forget: finishes it without one)
//
// Thread-safety: per request; Handover calls the Filesystem, which is thread-safe.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <vector>

#include "s3mount/common/result.h"
#include "s3mount/fs/errno_map.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

// Logs a handler's Error once: expected answers (no such file, no such attribute, read-only)
// at trace level, the rest as warnings.
void LogHandlerError(const char* operation, const Error& error, int code) noexcept;

// Logs an exception caught at the boundary.
void LogHandlerException(const char* operation, const char* what) noexcept;

// After an exception: logs it, and sends `code` unless the request was already answered.
template <typename Request>
void AbandonRequest(Request& request, const char* operation, int code, const char* what) noexcept {
  LogHandlerException(operation, what);
  if (!request.replied()) request.ReplyError(code);
}

template <typename Request, typename Body>
void ServeRequest(Request& request, const char* operation, Body&& body) noexcept {
  try {
    const Status status = body();
    if (!status.ok()) {
      const int code = ErrnoOf(status.error());
      LogHandlerError(operation, status.error(), code);
      if (!request.replied()) request.ReplyError(code);
    }
  } catch (const std::bad_alloc&) {
    AbandonRequest(request, operation, ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    AbandonRequest(request, operation, EIO, e.what());
  } catch (...) {
    AbandonRequest(request, operation, EIO, "not a std::exception");
  }
}

class Handover {
 public:
  // Room for `capacity` references, taken now (before the Filesystem call that produces
  // them) so that Add never allocates: a reference once produced is never lost to bad_alloc.
  Handover(Filesystem& fs, size_t capacity);
  // Gives back whatever was not delivered.
  ~Handover();
  Handover(const Handover&) = delete;
  Handover& operator=(const Handover&) = delete;

  // One lookup reference on `inode` (none when it is 0: a negative entry). Past the capacity
  // it is given back at once (and false returned: the caller must not reply with it).
  bool Add(InodeId inode) noexcept;
  // The references a readdirplus entry carries: one, unless it is "." or ".." (which take
  // none) or has inode 0.
  bool Add(const DirectoryEntry& entry) noexcept;
  // The open handle of a create.
  void AddHandle(uint64_t handle) noexcept { handle_ = handle; }
  // Whether another reference fits.
  bool full() const { return inodes_.size() == inodes_.capacity(); }

  // The reply's result: 0 when the kernel got it (it now owns everything added), anything
  // else gives everything back now. Returns `reply_result`.
  int Settle(int reply_result) noexcept;

 private:
  void GiveBack() noexcept;

  Filesystem& fs_;
  std::vector<InodeId> inodes_;
  std::optional<uint64_t> handle_;
};

}  // namespace s3mount
