// Names, keys, include/exclude filters and shadowing (see path_rules.h and docs/SEMANTICS.md).
#include "s3mount/fs/path_rules.h"

#include <fnmatch.h>

#include <utility>

namespace s3mount {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(path.substr(start));
      return parts;
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

// Why `component` is not representable, or "" when it is.
std::string_view NameProblem(std::string_view component) {
  if (component.empty()) return "empty component";
  if (component == "." || component == "..") return "'.' or '..' component";
  if (component.size() > kMaxNameLength) return "component longer than 255 bytes";
  if (component.find('\0') != std::string_view::npos) return "NUL byte";
  if (component.find('/') != std::string_view::npos) return "'/' in a name";
  return "";
}

// Skips a bracket expression starting at segment[i] == '['; returns the index after its ']'
// or npos when it is not terminated. `[!...]`, `[^...]`, a leading ']' and `[:class:]` are
// understood as fnmatch(3) does.
size_t SkipBracket(std::string_view segment, size_t i) {
  size_t j = i + 1;
  if (j < segment.size() && (segment[j] == '!' || segment[j] == '^')) ++j;
  if (j < segment.size() && segment[j] == ']') ++j;
  while (j < segment.size() && segment[j] != ']') {
    if (segment[j] == '[' && j + 1 < segment.size() &&
        (segment[j + 1] == ':' || segment[j + 1] == '.' || segment[j + 1] == '=')) {
      const char kind = segment[j + 1];
      const size_t close = segment.find(std::string{kind, ']'}, j + 2);
      if (close == std::string_view::npos) return std::string_view::npos;
      j = close + 2;
      continue;
    }
    ++j;
  }
  return j < segment.size() ? j + 1 : std::string_view::npos;
}

// Why a glob segment is invalid, or "" when it is fine.
std::string_view GlobProblem(std::string_view segment) {
  std::string_view problem = NameProblem(segment);
  if (!problem.empty() && problem != "component longer than 255 bytes") return problem;
  for (size_t i = 0; i < segment.size();) {
    if (segment[i] == '\\') {
      if (i + 1 >= segment.size()) return "trailing '\\'";
      i += 2;
    } else if (segment[i] == '[') {
      i = SkipBracket(segment, i);
      if (i == std::string_view::npos) return "unterminated '['";
    } else {
      ++i;
    }
  }
  return "";
}

}  // namespace

bool IsRepresentableName(std::string_view component) { return NameProblem(component).empty(); }

Result<std::string> NormalizeMountPrefix(std::string_view prefix) {
  const std::string original(prefix);
  if (prefix.empty() || prefix == "/") return std::string();
  if (prefix.starts_with('/')) prefix.remove_prefix(1);
  if (prefix.ends_with('/')) prefix.remove_suffix(1);
  for (std::string_view component : SplitPath(prefix)) {
    std::string_view problem = NameProblem(component);
    if (!problem.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "mount prefix '" + original + "': " + std::string(problem));
    }
  }
  std::string normalized = std::string(prefix) + "/";
  if (normalized.size() > kMaxKeyLength) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "mount prefix '" + original + "' is longer than an S3 key may be");
  }
  return normalized;
}

KeyMapper::KeyMapper(std::string prefix) : prefix_(std::move(prefix)) {}

std::string KeyMapper::KeyFor(std::string_view relative_path) const {
  while (relative_path.starts_with('/')) relative_path.remove_prefix(1);
  std::string key;
  key.reserve(prefix_.size() + relative_path.size());
  key += prefix_;
  key += relative_path;
  return key;
}

std::optional<std::string> KeyMapper::RelativePathFor(std::string_view key) const {
  if (!key.starts_with(prefix_)) return std::nullopt;
  return std::string(key.substr(prefix_.size()));
}

// --- PathFilter --------------------------------------------------------------------------

Result<PathFilter::Pattern> PathFilter::Compile(std::string text, std::string_view option) {
  auto invalid = [&text, option](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid " + std::string(option) + " pattern '" +
                                                      text + "': " + std::string(why));
  };
  Pattern pattern;
  std::string_view body = text;
  if (body.find('\0') != std::string_view::npos) return invalid("NUL byte");
  if (body.ends_with('/')) {
    pattern.directory_only = true;
    body.remove_suffix(1);
  }
  if (body.starts_with('/')) {
    pattern.anchored = true;
    body.remove_prefix(1);
  }
  if (body.empty()) return invalid("no name to match");
  if (body.find('/') != std::string_view::npos) pattern.anchored = true;
  for (std::string_view segment : SplitPath(body)) {
    std::string_view problem = GlobProblem(segment);
    if (!problem.empty()) return invalid(problem);
    // Consecutive `**` components mean the same as one.
    if (segment == "**" && !pattern.segments.empty() && pattern.segments.back() == "**") {
      continue;
    }
    pattern.segments.emplace_back(segment);
  }
  pattern.text = std::move(text);
  return pattern;
}

Result<PathFilter> PathFilter::Create(std::vector<std::string> includes,
                                      std::vector<std::string> excludes) {
  PathFilter filter;
  for (std::string& text : includes) {
    auto pattern = Compile(std::move(text), "include");
    if (!pattern.ok()) return std::move(pattern).error();
    filter.includes_.push_back(std::move(pattern).value());
  }
  for (std::string& text : excludes) {
    auto pattern = Compile(std::move(text), "exclude");
    if (!pattern.ok()) return std::move(pattern).error();
    filter.excludes_.push_back(std::move(pattern).value());
  }
  return filter;
}

// Whether `pattern` matches the path made of the first `count` components.
bool PathFilter::Matches(const Pattern& pattern, const std::vector<std::string_view>& components,
                         size_t count, bool is_directory) {
  if (pattern.directory_only && !is_directory) return false;
  auto glob = [](const std::string& segment, std::string_view component) {
    return fnmatch(segment.c_str(), std::string(component).c_str(), 0) == 0;
  };
  if (!pattern.anchored) return glob(pattern.segments.front(), components[count - 1]);
  // matches[j]: the segments from i on match components j..count-1; filled for i from the
  // last segment down, so `**` costs O(segments x components), never exponential time.
  const size_t segments = pattern.segments.size();
  std::vector<bool> matches(count + 1, false);
  matches[count] = true;  // no segments left, no components left
  for (size_t i = segments; i-- > 0;) {
    const std::string& segment = pattern.segments[i];
    std::vector<bool> next(count + 1, false);
    for (size_t j = count + 1; j-- > 0;) {
      if (segment == "**") {
        next[j] = matches[j] || (j < count && next[j + 1]);
      } else {
        next[j] = j < count && matches[j + 1] && glob(segment, components[j]);
      }
    }
    matches = std::move(next);
  }
  return matches[0];
}

bool PathFilter::AnyMatches(const std::vector<Pattern>& patterns,
                            const std::vector<std::string_view>& components, size_t count,
                            bool is_directory) {
  for (const Pattern& pattern : patterns) {
    if (Matches(pattern, components, count, is_directory)) return true;
  }
  return false;
}

bool PathFilter::IsVisible(std::string_view relative_path, bool is_directory) const {
  while (relative_path.starts_with('/')) relative_path.remove_prefix(1);
  while (relative_path.ends_with('/')) relative_path.remove_suffix(1);
  if (relative_path.empty() || empty()) return true;
  const std::vector<std::string_view> components = SplitPath(relative_path);
  const size_t depth = components.size();
  // The path itself and every directory above it.
  for (size_t count = 1; count <= depth; ++count) {
    const bool directory = count < depth || is_directory;
    if (AnyMatches(excludes_, components, count, directory)) return false;
  }
  if (includes_.empty() || is_directory) return true;
  for (size_t count = 1; count <= depth; ++count) {
    if (AnyMatches(includes_, components, count, count < depth)) return true;
  }
  return false;
}

}  // namespace s3mount
