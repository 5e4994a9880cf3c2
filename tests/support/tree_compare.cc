// Directory-tree snapshots and their comparison, with plain POSIX calls (see tree_compare.h).
#include "tests/support/tree_compare.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "s3mount/aws/crypto.h"
#include "tests/support/free_port.h"

namespace s3mount::testing {
namespace {

Error PathError(const std::string& what, const std::string& path, int err) {
  return MakeError(ErrorCode::kUnknown, what + " " + path + ": " + std::strerror(err));
}

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

TreeEntryType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return TreeEntryType::kFile;
  if (S_ISDIR(mode)) return TreeEntryType::kDirectory;
  if (S_ISLNK(mode)) return TreeEntryType::kSymlink;
  if (S_ISFIFO(mode)) return TreeEntryType::kFifo;
  if (S_ISSOCK(mode)) return TreeEntryType::kSocket;
  return TreeEntryType::kOther;
}

const char* TypeName(TreeEntryType type) {
  switch (type) {
    case TreeEntryType::kFile:
      return "file";
    case TreeEntryType::kDirectory:
      return "directory";
    case TreeEntryType::kSymlink:
      return "symlink";
    case TreeEntryType::kFifo:
      return "fifo";
    case TreeEntryType::kSocket:
      return "socket";
    case TreeEntryType::kOther:
      return "other";
  }
  return "?";
}

Result<std::string> HashFile(const std::string& path) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return PathError("open", path, errno);
  Sha256Hasher hasher;
  std::string buffer(size_t{1} << 20, '\0');
  for (;;) {
    const ssize_t got = read(fd.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return PathError("read", path, errno);
    if (got == 0) break;
    hasher.Update(std::string_view(buffer.data(), static_cast<size_t>(got)));
  }
  return hasher.FinishHex();
}

Result<std::string> ReadLink(const std::string& path, size_t size_hint) {
  std::string target(std::max<size_t>(size_hint, 255) + 1, '\0');
  const ssize_t got = readlink(path.c_str(), target.data(), target.size());
  if (got < 0) return PathError("readlink", path, errno);
  target.resize(static_cast<size_t>(got));
  return target;
}

bool NoXattrSupport(int err) { return err == ENOTSUP || err == ENODATA || err == EPERM; }

Result<std::vector<std::pair<std::string, std::string>>> ReadUserXattrs(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> xattrs;
  const ssize_t list_size = llistxattr(path.c_str(), nullptr, 0);
  if (list_size < 0) {
    if (NoXattrSupport(errno)) return xattrs;
    return PathError("llistxattr", path, errno);
  }
  std::string names(static_cast<size_t>(list_size), '\0');
  const ssize_t listed = llistxattr(path.c_str(), names.data(), names.size());
  if (listed < 0) return PathError("llistxattr", path, errno);
  names.resize(static_cast<size_t>(listed));
  for (size_t start = 0; start < names.size();) {
    const size_t end = names.find('\0', start);
    std::string name = names.substr(start, end - start);
    start = end == std::string::npos ? names.size() : end + 1;
    if (name.rfind("user.", 0) != 0) continue;
    const ssize_t value_size = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (value_size < 0) return PathError("lgetxattr " + name, path, errno);
    std::string value(static_cast<size_t>(value_size), '\0');
    const ssize_t got = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (got < 0) return PathError("lgetxattr " + name, path, errno);
    value.resize(static_cast<size_t>(got));
    xattrs.emplace_back(std::move(name), std::move(value));
  }
  std::sort(xattrs.begin(), xattrs.end());
  return xattrs;
}

Result<TreeEntry> ReadEntry(const std::string& path, const SnapshotOptions& options) {
  struct stat st = {};
  if (lstat(path.c_str(), &st) != 0) return PathError("lstat", path, errno);
  TreeEntry entry;
  entry.type = TypeOf(st.st_mode);
  entry.permissions = st.st_mode & 07777;
  entry.mtime = st.st_mtim;
  if (entry.type == TreeEntryType::kFile || entry.type == TreeEntryType::kSymlink) {
    entry.size = static_cast<uint64_t>(st.st_size);
  }
  if (entry.type == TreeEntryType::kFile) {
    auto hash = HashFile(path);
    S3M_RETURN_IF_ERROR(hash);
    entry.content_hash = std::move(hash).value();
  } else if (entry.type == TreeEntryType::kSymlink) {
    auto target = ReadLink(path, static_cast<size_t>(st.st_size));
    S3M_RETURN_IF_ERROR(target);
    entry.link_target = std::move(target).value();
  }
  if (options.read_xattrs) {
    auto xattrs = ReadUserXattrs(path);
    S3M_RETURN_IF_ERROR(xattrs);
    entry.xattrs = std::move(xattrs).value();
  }
  return entry;
}

Status Walk(const std::string& root, const std::string& relative, const SnapshotOptions& options,
            TreeSnapshot& snapshot) {
  const std::string dir_path = relative.empty() ? root : root + "/" + relative;
  DirHandle dir(opendir(dir_path.c_str()));
  if (!dir) return PathError("opendir", dir_path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* item = readdir(dir.get())) {
    const std::string name = item->d_name;
    if (name != "." && name != "..") names.push_back(name);
    errno = 0;
  }
  if (errno != 0) return PathError("readdir", dir_path, errno);
  dir.reset();
  for (const auto& name : names) {
    const std::string child = relative.empty() ? name : relative + "/" + name;
    if (options.exclude.count(child) != 0) continue;
    auto entry = ReadEntry(root + "/" + child, options);
    S3M_RETURN_IF_ERROR(entry);
    const bool is_dir = entry->type == TreeEntryType::kDirectory;
    snapshot[child] = std::move(entry).value();
    if (is_dir) S3M_RETURN_IF_ERROR(Walk(root, child, options, snapshot));
  }
  return Status::Ok();
}

std::string Octal(mode_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
  return text;
}

std::string FormatTime(const timespec& time) {
  char text[48];
  std::snprintf(text, sizeof text, "%lld.%09ld", static_cast<long long>(time.tv_sec),
                static_cast<long>(time.tv_nsec));
  return text;
}

// Printable form of a possibly binary value, cut at 40 bytes.
std::string Printable(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size() && i < 40; ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    }
  }
  if (value.size() > 40) out += "...(" + std::to_string(value.size()) + " bytes)";
  return "\"" + out + "\"";
}

std::string DescribeXattrs(const std::vector<std::pair<std::string, std::string>>& xattrs) {
  std::string out = "{";
  for (const auto& [name, value] : xattrs) {
    if (out.size() > 1) out += ", ";
    out += name + "=" + Printable(value);
  }
  return out + "}";
}

bool ShouldCompareMtime(const std::string& path, const TreeEntry& expected,
                        const TreeCompareOptions& options) {
  switch (expected.type) {
    case TreeEntryType::kDirectory:
      if (options.ignore_directory_mtimes) return false;
      break;
    case TreeEntryType::kSymlink:
      if (options.ignore_symlink_mtimes) return false;
      break;
    default:
      if (options.ignore_file_mtimes) return false;
      break;
  }
  return !options.compare_mtime_if || options.compare_mtime_if(path, expected);
}

// Appends one line per attribute that differs between two entries of the same path.
void CompareEntries(const std::string& path, const TreeEntry& expected, const TreeEntry& actual,
                    const TreeCompareOptions& options, std::vector<std::string>& out) {
  if (expected.type != actual.type) {
    out.push_back(path + ": type " + TypeName(expected.type) + " vs " + TypeName(actual.type));
    return;
  }
  if (expected.permissions != actual.permissions) {
    out.push_back(path + ": mode " + Octal(expected.permissions) + " vs " +
                  Octal(actual.permissions));
  }
  if (expected.size != actual.size) {
    out.push_back(path + ": size " + std::to_string(expected.size) + " vs " +
                  std::to_string(actual.size));
  } else if (expected.content_hash != actual.content_hash) {
    out.push_back(path + ": content sha256 " + expected.content_hash.substr(0, 16) + " vs " +
                  actual.content_hash.substr(0, 16) + " (same size)");
  }
  if (expected.link_target != actual.link_target) {
    out.push_back(path + ": link target " + Printable(expected.link_target) + " vs " +
                  Printable(actual.link_target));
  }
  const bool same_mtime = expected.mtime.tv_sec == actual.mtime.tv_sec &&
                          expected.mtime.tv_nsec == actual.mtime.tv_nsec;
  if (!same_mtime && ShouldCompareMtime(path, expected, options)) {
    out.push_back(path + ": mtime " + FormatTime(expected.mtime) + " vs " +
                  FormatTime(actual.mtime));
  }
  if (!options.ignore_xattrs && expected.xattrs != actual.xattrs) {
    out.push_back(path + ": xattrs " + DescribeXattrs(expected.xattrs) + " vs " +
                  DescribeXattrs(actual.xattrs));
  }
}

}  // namespace

Result<TreeSnapshot> SnapshotTree(const std::string& root, const SnapshotOptions& options) {
  TreeSnapshot snapshot;
  S3M_RETURN_IF_ERROR(Walk(root, "", options, snapshot));
  return snapshot;
}

std::vector<std::string> CompareTrees(const TreeSnapshot& expected, const TreeSnapshot& actual,
                                      const TreeCompareOptions& options) {
  std::vector<std::string> all;
  auto left = expected.begin();
  auto right = actual.begin();
  while (left != expected.end() || right != actual.end()) {
    if (right == actual.end() || (left != expected.end() && left->first < right->first)) {
      all.push_back(left->first + ": only in expected (" + TypeName(left->second.type) + ")");
      ++left;
    } else if (left == expected.end() || right->first < left->first) {
      all.push_back(right->first + ": only in actual (" + TypeName(right->second.type) + ")");
      ++right;
    } else {
      CompareEntries(left->first, left->second, right->second, options, all);
      ++left;
      ++right;
    }
  }
  if (all.size() > options.max_differences) {
    const size_t left_out = all.size() - options.max_differences;
    all.resize(options.max_differences);
    all.push_back("... and " + std::to_string(left_out) + " more differences");
  }
  return all;
}

std::vector<std::string> CompareDirectories(const std::string& expected_root,
                                            const std::string& actual_root,
                                            const TreeCompareOptions& options,
                                            const SnapshotOptions& snapshot_options) {
  auto expected = SnapshotTree(expected_root, snapshot_options);
  auto actual = SnapshotTree(actual_root, snapshot_options);
  std::vector<std::string> problems;
  if (!expected.ok()) problems.push_back("snapshot failed: " + expected.error().ToString());
  if (!actual.ok()) problems.push_back("snapshot failed: " + actual.error().ToString());
  if (!problems.empty()) return problems;
  return CompareTrees(*expected, *actual, options);
}

std::string FormatDifferences(const std::vector<std::string>& differences,
                              const std::string& expected_label, const std::string& actual_label) {
  if (differences.empty()) return "no differences";
  std::string out = std::to_string(differences.size()) + " difference line(s) (" + expected_label +
                    " vs " + actual_label + "; \"only in expected\" means only in " +
                    expected_label + "):\n";
  for (const auto& line : differences) out += "  " + line + "\n";
  return out;
}

std::string DescribeEntry(const TreeEntry& entry) {
  std::string out = std::string(TypeName(entry.type)) + " " + Octal(entry.permissions) + " size " +
                    std::to_string(entry.size);
  if (!entry.content_hash.empty()) out += " sha256 " + entry.content_hash.substr(0, 8);
  if (!entry.link_target.empty()) out += " -> " + Printable(entry.link_target);
  out += " mtime " + FormatTime(entry.mtime);
  if (!entry.xattrs.empty()) out += " xattrs " + DescribeXattrs(entry.xattrs);
  return out;
}

}  // namespace s3mount::testing
