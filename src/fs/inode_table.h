// InodeTable: the inode numbers handed to the kernel, each bound to a path and a file type.
// Numbers come from a counter (never pointers). Lookup references rise exactly where an entry
// is replied (lookup, readdirplus) and fall in forget. A path whose type changes (a file
// replaced by a directory) gets a new inode; the old one lives until the kernel forgets it.
//
// A path keeps its number when the kernel forgets its inode: the kernel evicts unused inodes
// at any time (memory pressure, `echo 3 > /proc/sys/vm/drop_caches`), and tools compare
// st_ino across such gaps (GNU tar replaces its placeholder for a delayed symlink only if
// the placeholder's st_dev/st_ino are unchanged; git's index, rsync and du keep them too).
// So an inode whose references reach zero while its name still leads to it is remembered
// (up to `max_remembered` of them, the oldest forgotten dropped first) and the next lookup
// of that name with the same type gets the same number again. An inode whose name was
// unlinked, renamed over or retyped is dropped once the kernel forgets it.
//
// Thread-safety: all methods are safe to call concurrently.
// LOCK ORDERING: mu_ is a leaf; it is never held across a network call or a callback.
#pragma once

#include <cstdint>
#include <list>
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
  // How many forgotten inodes keep their number by default (about 200 bytes each).
  static constexpr size_t kDefaultMaxRemembered = 65536;

  explicit InodeTable(size_t max_remembered = kDefaultMaxRemembered);

  // The inode for `name` under `parent` with this type, created if needed, with one more
  // lookup reference. Fails (kStale) if `parent` is unknown.
  Result<InodeInfo> Acquire(InodeId parent, const std::string& name, FileType type);
  // One more lookup reference on `inode` itself, whatever its name leads to now (a file
  // unlinked while open, its name since taken by a directory); false if it is not known.
  bool Reference(InodeId inode);
  // Drops `count` references; aborts on underflow, which is a bug. An inode left without
  // references is remembered if its name still leads to it, dropped otherwise.
  void Forget(InodeId inode, uint64_t count);
  // The inode, if the kernel holds it or it is remembered.
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
  // Every name the kernel may have an entry for, and every inode it holds: what it must
  // forget when anything in the bucket may have changed. Each inode's kernel_cache_etag is
  // cleared (the kernel drops the pages).
  KernelInvalidations ForgetKernelCaches();
  // Inodes the kernel holds references to (the root included).
  size_t size() const;
  // Forgotten inodes that keep their number.
  size_t remembered() const;

 private:
  struct Record {
    InodeInfo info;
    uint64_t lookups = 0;
    // Whether it sits in remembered_ (no references, still named), and where.
    bool remembered = false;
    std::list<InodeId>::iterator remembered_at;
  };

  void RepathLocked(InodeId inode, std::vector<std::pair<InodeId, std::string>>& changed);
  // Drops `inode`, its name if that still leads to it, and whatever is remembered below it.
  void DropLocked(InodeId inode);
  // A name stopped leading to `inode`: dropped if the kernel holds no reference to it.
  void UnnamedLocked(InodeId inode);

  mutable std::mutex mu_;
  const size_t max_remembered_;
  InodeId next_id_ = kRootInode + 1;                             // guarded by mu_
  std::unordered_map<InodeId, Record> inodes_;                   // guarded by mu_
  std::map<std::pair<InodeId, std::string>, InodeId> children_;  // guarded by mu_
  std::list<InodeId> remembered_;  // forgotten but still named, oldest first; guarded by mu_
};

}  // namespace s3mount
