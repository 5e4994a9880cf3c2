// Directory-tree snapshots for tests that run the same operations on a local directory and on
// a mount and then ask "are the two trees the same?". A snapshot maps each relative path to its
// type, permission bits, size, SHA-256 of the content (regular files), symlink target, mtime
// with nanoseconds and sorted user.* extended attributes, read with plain POSIX calls (lstat,
// readlink, opendir, llistxattr/lgetxattr; symlinks are never followed). CompareTrees lists
// the differences in readable lines such as "a/b.txt: mode 0640 vs 0644" (expected first).
//
//   auto diffs = CompareDirectories(local_root, mount_root, {.ignore_directory_mtimes = true});
//   EXPECT_TRUE(diffs.empty()) << FormatDifferences(diffs, "local", "mount");
//
// Thread-safety: free functions over value types; safe from any thread, but a snapshot of a
// tree that changes while it is read is not a consistent picture.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount::testing {

enum class TreeEntryType { kFile, kDirectory, kSymlink, kFifo, kSocket, kOther };

// What a snapshot records about one entry.
struct TreeEntry {
  TreeEntryType type = TreeEntryType::kOther;
  mode_t permissions = 0;    // the 07777 bits
  uint64_t size = 0;         // st_size for files and symlinks; 0 for everything else
  std::string content_hash;  // lowercase hex SHA-256 of a regular file's bytes
  std::string link_target;   // symlinks only
  timespec mtime{};
  std::vector<std::pair<std::string, std::string>> xattrs;  // user.* only, sorted by name
};

// Relative path ("a/b.txt", no leading "./") -> entry. The root itself is not included.
using TreeSnapshot = std::map<std::string, TreeEntry>;

struct SnapshotOptions {
  bool read_xattrs = true;
  // Relative paths to leave out, with everything below them (e.g. ".git").
  std::set<std::string> exclude;
};

// Walks `root` (which must be a directory). Errors name the path and the errno.
Result<TreeSnapshot> SnapshotTree(const std::string& root, const SnapshotOptions& options = {});

struct TreeCompareOptions {
  bool ignore_directory_mtimes = false;
  bool ignore_symlink_mtimes = false;
  bool ignore_file_mtimes = false;  // regular files, FIFOs and sockets
  bool ignore_xattrs = false;
  // If set, an entry's mtime is compared only when this returns true for (path, expected
  // entry) and the ignore_* flag for its type is not set.
  std::function<bool(const std::string&, const TreeEntry&)> compare_mtime_if;
  // At most this many difference lines; one more line says how many were left out.
  size_t max_differences = 20;
};

// The differences between `expected` and `actual`, each "path: what expected vs actual"
// (or "path: only in expected" / "only in actual"), in path order. Empty if they match.
std::vector<std::string> CompareTrees(const TreeSnapshot& expected, const TreeSnapshot& actual,
                                      const TreeCompareOptions& options = {});

// Snapshots both directories and compares them; a snapshot failure is a difference line.
std::vector<std::string> CompareDirectories(const std::string& expected_root,
                                            const std::string& actual_root,
                                            const TreeCompareOptions& options = {},
                                            const SnapshotOptions& snapshot_options = {});

// "differences (expected_label vs actual_label):\n  line\n  line..." for failure messages.
std::string FormatDifferences(const std::vector<std::string>& differences,
                              const std::string& expected_label = "expected",
                              const std::string& actual_label = "actual");

// "file 0644 size 12 sha256 1a2b3c4d mtime 1700000000.000000001" for logs.
std::string DescribeEntry(const TreeEntry& entry);

}  // namespace s3mount::testing
