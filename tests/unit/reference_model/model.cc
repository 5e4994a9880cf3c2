// The reference model: S3 keys and the tree they mean (see model.h).
#include "tests/unit/reference_model/model.h"

#include <cstdio>
#include <utility>

namespace s3mount::reference_model {

const char* KindName(ViewKind kind) {
  switch (kind) {
    case ViewKind::kMissing:
      return "missing";
    case ViewKind::kFile:
      return "a file";
    case ViewKind::kDirectory:
      return "a directory";
    case ViewKind::kSymlink:
      return "a symlink";
  }
  return "?";
}

ViewKind KindOfType(FileType type) {
  if (type == FileType::kDirectory) return ViewKind::kDirectory;
  if (type == FileType::kSymlink) return ViewKind::kSymlink;
  return ViewKind::kFile;
}

std::string Octal(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0%o", value);
  return text;
}

std::string ParentPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsBelow(const std::string& path, const std::string& directory) {
  if (directory.empty()) return !path.empty();
  return path.size() > directory.size() && path.starts_with(directory) &&
         path[directory.size()] == '/';
}

std::string JoinPath(const std::string& directory, const std::string& name) {
  return directory.empty() ? name : directory + "/" + name;
}

ViewEntry Model::Resolve(const std::string& path) const {
  if (path.empty()) return {ViewKind::kDirectory, nullptr};
  const std::string prefix = path + "/";
  auto below = keys_.lower_bound(prefix);
  if (below != keys_.end() && below->first.starts_with(prefix)) {
    // A directory wins over a file of the same name (SEMANTICS.md section 9).
    auto marker = keys_.find(prefix);
    return {ViewKind::kDirectory, marker == keys_.end() ? nullptr : marker->second};
  }
  auto it = keys_.find(path);
  if (it == keys_.end()) return {};
  return {it->second->kind == ModelNode::Kind::kSymlink ? ViewKind::kSymlink : ViewKind::kFile,
          it->second};
}

std::set<std::string> Model::Children(const std::string& path) const {
  const std::string prefix = path.empty() ? path : path + "/";
  std::set<std::string> names;
  for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->first.starts_with(prefix);
       ++it) {
    const std::string rest = it->first.substr(prefix.size());
    if (rest.empty()) continue;  // the directory's own marker
    names.insert(rest.substr(0, rest.find('/')));
  }
  return names;
}

bool Model::HasEntriesBelow(const std::string& path) const { return !Children(path).empty(); }

uint32_t Model::PermissionsOf(const ViewEntry& entry) const {
  if (entry.kind == ViewKind::kSymlink) return 0777;
  const uint32_t fallback =
      entry.kind == ViewKind::kDirectory ? defaults_.dir_permissions : defaults_.file_permissions;
  if (!entry.node || !entry.node->permissions) return fallback & ~defaults_.umask;
  return *entry.node->permissions & ~defaults_.umask;
}

uint64_t Model::SizeOf(const ViewEntry& entry) {
  if (entry.kind == ViewKind::kDirectory || !entry.node) return 0;
  return entry.node->content.size();
}

NodePtr Model::MarkerOf(const std::string& path) {
  NodePtr& marker = keys_[path + "/"];
  if (!marker) marker = std::make_shared<ModelNode>(ModelNode{.kind = ModelNode::Kind::kMarker});
  return marker;
}

void Model::EntriesChanged(const std::string& directory) {
  if (auto marker = keys_.find(directory + "/"); marker != keys_.end())
    marker->second->mtime.reset();
}

void Model::RenameFile(const std::string& from, const std::string& to) {
  auto it = keys_.find(from);
  if (it == keys_.end()) return;
  NodePtr node = it->second;
  keys_.erase(it);
  keys_[to] = std::move(node);
}

void Model::RenameDirectory(const std::string& from, const std::string& to) {
  keys_.erase(to + "/");
  const std::string prefix = from + "/";
  std::vector<std::pair<std::string, NodePtr>> moved;
  for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->first.starts_with(prefix);) {
    moved.emplace_back(to + "/" + it->first.substr(prefix.size()), it->second);
    it = keys_.erase(it);
  }
  for (auto& [key, node] : moved) keys_[key] = std::move(node);
}

std::optional<std::string> Model::PathOf(const ModelNode* node) const {
  for (const auto& [key, held] : keys_) {
    if (held.get() == node) return key;
  }
  return std::nullopt;
}

}  // namespace s3mount::reference_model
