// Handover's give-back and the shape's error log (see handler_shape.h).
#include "fuse/handler_shape.h"

#include <spdlog/spdlog.h>

#include <string_view>

namespace s3mount {
namespace {

// Runs `action`, logging (not throwing) whatever it throws: the give-back runs in destructors.
template <typename Action>
void Guarded(const char* what, Action&& action) noexcept {
  try {
    action();
  } catch (const std::exception& e) {
    LogHandlerException(what, e.what());
  } catch (...) {
    LogHandlerException(what, "not a std::exception");
  }
}

}  // namespace

void LogHandlerError(const char* operation, const Error& error, int code) noexcept {
  try {
    if (code == ENOENT || code == ENODATA || code == EROFS) {
      spdlog::trace("{}: {}", operation, error.ToString());
    } else {
      spdlog::warn("{}: {} (errno {})", operation, error.ToString(), code);
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing is left to report it with
  }
}

void LogHandlerException(const char* operation, const char* what) noexcept {
  try {
    spdlog::error("{}: unexpected exception: {}", operation, what);
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing is left to report it with
  }
}

Handover::Handover(Filesystem& fs, size_t capacity) : fs_(fs) { inodes_.reserve(capacity); }

Handover::~Handover() { GiveBack(); }

bool Handover::Add(InodeId inode) noexcept {
  if (inode == 0) return true;
  if (full()) {
    Guarded("forget past a handover's capacity", [&] { fs_.Forget(inode, 1); });
    return false;
  }
  inodes_.push_back(inode);  // within the reserved capacity: does not allocate
  return true;
}

bool Handover::Add(const DirectoryEntry& entry) noexcept {
  if (entry.name == "." || entry.name == "..") return true;
  return Add(entry.entry.inode);
}

int Handover::Settle(int reply_result) noexcept {
  if (reply_result == 0) {
    inodes_.clear();
    handle_.reset();
  } else {
    GiveBack();
  }
  return reply_result;
}

void Handover::GiveBack() noexcept {
  if (inodes_.empty() && !handle_) return;
  Guarded("an undelivered reply's give-back", [&] {
    spdlog::debug("a reply was not delivered: giving back {} lookup reference(s){}", inodes_.size(),
                  handle_ ? " and a file handle" : "");
  });
  // The handle first (as the kernel would: release before forget), then each reference.
  if (handle_) Guarded("release after an undelivered create", [&] { fs_.Release(*handle_); });
  for (InodeId inode : inodes_) {
    Guarded("forget after an undelivered reply", [&] { fs_.Forget(inode, 1); });
  }
  inodes_.clear();
  handle_.reset();
}

}  // namespace s3mount
