// How S3 key names become POSIX paths: which names a directory can show, the mapping between
// mount-relative paths and keys under an optional mount prefix (`bucket:/some/prefix`), the
// include/exclude filters, and how names that shadow each other in S3 are resolved in a
// directory listing. docs/SEMANTICS.md ("Paths and keys", "Filters", "Shadowing") explains
// the rules coded here.
//
// Thread-safety: free functions are pure. KeyMapper and PathFilter are immutable after
// construction and safe to share between threads. ListingMerger is a plain object: one
// thread at a time.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

// The longest name a directory entry may have (NAME_MAX).
inline constexpr size_t kMaxNameLength = 255;
// The longest S3 key.
inline constexpr size_t kMaxKeyLength = 1024;

// Whether `component` can be a directory entry name: not empty, not `.` or `..`, at most
// kMaxNameLength bytes, and free of '/' and NUL.
bool IsRepresentableName(std::string_view component);

// Normalizes the prefix part of `bucket:/some/prefix` to "" or "some/prefix/": leading and
// trailing '/' are optional. Fails (kInvalidArgument, naming the problem) on empty components
// (`a//b`), `.` or `..` components, NUL, components longer than kMaxNameLength, or a prefix
// longer than kMaxKeyLength.
Result<std::string> NormalizeMountPrefix(std::string_view prefix);

// Maps mount-relative paths ("" for the mount root, "a/b" below it, no leading '/') to S3
// keys and back.
class KeyMapper {
 public:
  // `prefix` must be normalized ("" or "some/prefix/", see NormalizeMountPrefix).
  explicit KeyMapper(std::string prefix);

  // prefix + relative_path; leading '/'s of relative_path are dropped. A directory's marker
  // key is KeyFor(path) + "/" and its listing prefix the same ("" for an unprefixed root).
  std::string KeyFor(std::string_view relative_path) const;
  // The key without the prefix (verbatim, including any trailing '/'); nullopt for a key
  // outside the prefix. The prefix itself maps to "" (the root).
  std::optional<std::string> RelativePathFor(std::string_view key) const;

  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
};

// Include/exclude filters from the `include=` and `exclude=` mount options (gitignore-like;
// see docs/SEMANTICS.md, "Filters"):
//  - a pattern without '/' (other than a trailing one) matches the last component at any
//    depth; a pattern with '/' matches the whole relative path (a leading '/' is optional);
//  - `*`, `?` and `[...]` never match '/'; a whole component `**` matches zero or more
//    components (`**/x`, `a/**`, `a/**/b`); a `**` inside a component acts as `*`;
//  - a trailing '/' makes a pattern match directories only;
//  - an excluded directory hides everything below it; excludes win over includes;
//  - with includes, a non-directory is visible only if it, or a directory above it, matches
//    one; directories stay visible (so included files below them can be reached).
class PathFilter {
 public:
  // No patterns: everything visible.
  PathFilter() = default;

  // Fails with kInvalidArgument naming the first invalid pattern: empty, only '/', an empty
  // component (`a//b`), a `.` or `..` component, NUL, an unterminated `[`, or a trailing '\'.
  static Result<PathFilter> Create(std::vector<std::string> includes,
                                   std::vector<std::string> excludes);

  // Whether `relative_path` ("a/b/c", no leading '/'; "" is the root, always visible) is
  // shown. Its ancestors are taken to be directories.
  bool IsVisible(std::string_view relative_path, bool is_directory) const;

  bool empty() const { return includes_.empty() && excludes_.empty(); }

 private:
  struct Pattern {
    std::string text;                   // as given, for messages
    std::vector<std::string> segments;  // split at '/'
    bool anchored = false;              // matches the whole path, not just the last component
    bool directory_only = false;
  };

  // `option` ("include" or "exclude") is named in the error.
  static Result<Pattern> Compile(std::string text, std::string_view option);
  static bool Matches(const Pattern& pattern, const std::vector<std::string_view>& components,
                      size_t count, bool is_directory);
  static bool AnyMatches(const std::vector<Pattern>& patterns,
                         const std::vector<std::string_view>& components, size_t count,
                         bool is_directory);

  std::vector<Pattern> includes_;
  std::vector<Pattern> excludes_;
};

}  // namespace s3mount
