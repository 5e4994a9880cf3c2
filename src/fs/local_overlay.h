// LocalOverlay: what this mount changed that S3 may not show yet, and that lookups, listings
// and stat must show anyway:
//   - files created here and not uploaded yet (path -> inode): while registered, the inode's
//     OpenFile is the truth for the path, whatever S3 and the caches say;
//   - with write-back, DELETEs queued and not yet run: the path shows as missing whatever S3
//     lists.
// It only records names; the orchestrator (Filesystem) asks the handle table for the files.
//
// Thread-safety: every method may be called from any thread.
// LOCK ORDERING: mu_ is a leaf.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "s3mount/cache/metadata_cache.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

class LocalOverlay {
 public:
  // `inode` was created at `path` and is not in S3 yet (an inode has one such path).
  void AddCreate(const std::string& path, InodeId inode);
  // Its first upload happened, it was unlinked or replaced: S3 (or nothing) is the truth.
  void ForgetCreate(InodeId inode);
  // A registered `inode` was renamed to `path` (no-op if it is not registered).
  void MoveCreate(InodeId inode, const std::string& path);
  // The inode created at `path`, if one is registered there.
  std::optional<InodeId> CreatedAt(const std::string& path) const;
  // Whether a registered file lies below the directory `path` ("" is the root).
  bool HasCreatesBelow(const std::string& path) const;
  // The names directly below `directory` that registered files need: the files themselves,
  // and the directories on the way to deeper ones.
  std::map<std::string, PathKind> ChildrenOf(const std::string& directory) const;

  // A DELETE of `path` was queued / has run or was given up (counted: several may queue).
  void DeleteQueued(const std::string& path);
  void DeleteDone(const std::string& path);
  bool IsDeleteQueued(const std::string& path) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, InodeId> creates_;      // guarded by mu_: path -> inode
  std::map<InodeId, std::string> create_path_;  // guarded by mu_: the reverse of creates_
  std::map<std::string, int> deletes_;          // guarded by mu_: path -> DELETEs queued
};

}  // namespace s3mount
