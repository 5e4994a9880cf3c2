// InodeTable: the inode numbers handed to the kernel, each bound to a path and a file type.
// Numbers come from a counter (never reused, never pointers). Lookup references rise exactly
// where an entry is replied (lookup, readdirplus) and fall in forget; an inode with no
// references left is dropped, except the root. A path whose type changes (a file replaced by
// a directory) gets a new inode; the old one lives until the kernel forgets it.
//
// Thread-safety: all methods are safe to call concurrently.
// LOCK ORDERING: mu_ is a leaf; it is never held across a network call or a callback.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "s3mount/fs/attributes.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

struct InodeInfo {
  InodeId id = 0;
  InodeId parent = 0;
  std::string name;
  std::string path;  // relative to the mount root, "" for the root
  FileType type = FileType::kRegular;
  // The ETag of the version whose data the kernel's page cache may hold ("" = none).
  std::string kernel_cache_etag;
};

class InodeTable {
 public:
  InodeTable();

  // The inode for `name` under `parent` with this type, created if needed, with one more
  // lookup reference. Fails (kStale) if `parent` is unknown.
  Result<InodeInfo> Acquire(InodeId parent, const std::string& name, FileType type);
  // Drops `count` references; aborts on underflow, which is a bug.
  void Forget(InodeId inode, uint64_t count);
  std::optional<InodeInfo> Get(InodeId inode) const;
  // The inode `name` under `parent` stands for, if one is known.
  std::optional<InodeInfo> Find(InodeId parent, const std::string& name) const;
  // The name no longer leads to its inode (unlink, rmdir, replaced by a rename); the inode
  // itself lives until the kernel forgets it. Returns the detached inode, if there was one.
  std::optional<InodeId> Detach(InodeId parent, const std::string& name);
  // Rename: the inode under (parent, name) now lives at (new_parent, new_name); whatever was
  // there is detached. Returns every inode whose path changed (it and its descendants) with
  // its new path.
  std::vector<std::pair<InodeId, std::string>> Move(InodeId parent, const std::string& name,
                                                    InodeId new_parent,
                                                    const std::string& new_name);
  // Records which version the kernel caches for `inode`; returns the previous one.
  std::string SwapKernelCacheEtag(InodeId inode, const std::string& etag);
  size_t size() const;

 private:
  struct Record {
    InodeInfo info;
    uint64_t lookups = 0;
  };

  void RepathLocked(InodeId inode, std::vector<std::pair<InodeId, std::string>>& changed);

  mutable std::mutex mu_;
  InodeId next_id_ = kRootInode + 1;                             // guarded by mu_
  std::unordered_map<InodeId, Record> inodes_;                   // guarded by mu_
  std::map<std::pair<InodeId, std::string>, InodeId> children_;  // guarded by mu_
};

}  // namespace s3mount
