// LocalOverlay: files created here and not uploaded yet, and queued DELETEs (local_overlay.h).
#include "fs/local_overlay.h"

namespace s3mount {
namespace {

std::string PrefixOf(const std::string& directory) {
  return directory.empty() ? directory : directory + "/";
}

}  // namespace

void LocalOverlay::AddCreate(const std::string& path, InodeId inode) {
  std::lock_guard lock(mu_);
  if (auto old = create_path_.find(inode); old != create_path_.end()) creates_.erase(old->second);
  if (auto old = creates_.find(path); old != creates_.end()) create_path_.erase(old->second);
  creates_[path] = inode;
  create_path_[inode] = path;
}

void LocalOverlay::ForgetCreate(InodeId inode) {
  std::lock_guard lock(mu_);
  auto it = create_path_.find(inode);
  if (it == create_path_.end()) return;
  creates_.erase(it->second);
  create_path_.erase(it);
}

void LocalOverlay::MoveCreate(InodeId inode, const std::string& path) {
  {
    std::lock_guard lock(mu_);
    if (!create_path_.contains(inode)) return;
  }
  AddCreate(path, inode);
}

std::optional<InodeId> LocalOverlay::CreatedAt(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = creates_.find(path);
  if (it == creates_.end()) return std::nullopt;
  return it->second;
}

bool LocalOverlay::HasCreatesBelow(const std::string& path) const {
  const std::string prefix = PrefixOf(path);
  std::lock_guard lock(mu_);
  auto it = creates_.lower_bound(prefix);
  return it != creates_.end() && it->first.starts_with(prefix);
}

std::map<std::string, PathKind> LocalOverlay::ChildrenOf(const std::string& directory) const {
  const std::string prefix = PrefixOf(directory);
  std::map<std::string, PathKind> children;
  std::lock_guard lock(mu_);
  for (auto it = creates_.lower_bound(prefix);
       it != creates_.end() && it->first.starts_with(prefix); ++it) {
    const std::string rest = it->first.substr(prefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      children.emplace(rest, PathKind::kFile);
    } else {
      children[rest.substr(0, slash)] = PathKind::kDirectory;
    }
  }
  return children;
}

void LocalOverlay::DeleteQueued(const std::string& path) {
  std::lock_guard lock(mu_);
  ++deletes_[path];
}

void LocalOverlay::DeleteDone(const std::string& path) {
  std::lock_guard lock(mu_);
  if (auto it = deletes_.find(path); it != deletes_.end() && --it->second <= 0) deletes_.erase(it);
}

bool LocalOverlay::IsDeleteQueued(const std::string& path) const {
  std::lock_guard lock(mu_);
  return deletes_.contains(path);
}

}  // namespace s3mount
