// DirectoryTimes: the mtime and ctime of directories whose entries this mount created,
// removed or renamed, and the ctime of directories it renamed, kept in memory. POSIX moves a
// directory's mtime and ctime with every change of its entries; on S3 a directory is a key
// prefix, often with no marker object at all, so writing the time there would cost a request
// per create and remove. Instead the times are shown from here (for the mount's lifetime, up
// to a bounded number of directories, the least recently changed forgotten first), and a
// setattr that sets a directory's times explicitly (touch, cp -a, rsync -a) stores them on its
// marker and forgets what is kept here. docs/SEMANTICS.md, "Times".
//
// Thread-safety: safe to call concurrently; mu_ is a leaf lock.
#pragma once

#include <list>
#include <map>
#include <mutex>
#include <string>

#include "s3mount/common/clock.h"
#include "s3mount/fs/attributes.h"

namespace s3mount {

class DirectoryTimes {
 public:
  explicit DirectoryTimes(size_t max_directories) : max_directories_(max_directories) {}

  // An entry of `directory` ("" is the root) was created, removed or renamed at `now`.
  void EntriesChanged(const std::string& directory, WallTime now);
  // `directory` itself was renamed at `now`: its ctime (what was kept under its old name is
  // forgotten by the caller, with Forget).
  void Renamed(const std::string& directory, WallTime now);
  // Its times were set explicitly, or it was removed: `directory` and everything below it.
  void Forget(const std::string& directory);
  // `attributes` of `directory` with the kept times where they are later.
  void Apply(const std::string& directory, Attributes& attributes) const;

 private:
  struct Times {
    WallTime mtime{};  // epoch: not changed here
    WallTime ctime{};
    std::list<std::string>::iterator age;
  };
  Times& TouchLocked(const std::string& directory);
  void EraseLocked(std::map<std::string, Times>::iterator it);

  const size_t max_directories_;
  mutable std::mutex mu_;
  std::map<std::string, Times> times_;   // guarded by mu_
  std::list<std::string> oldest_first_;  // guarded by mu_
};

}  // namespace s3mount
