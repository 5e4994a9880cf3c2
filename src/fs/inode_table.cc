// InodeTable: inode numbers, lookup references and the path each inode stands for.
#include "fs/inode_table.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace s3mount {

InodeTable::InodeTable() {
  Record root;
  root.info.id = kRootInode;
  root.info.parent = kRootInode;
  root.info.type = FileType::kDirectory;
  root.lookups = 1;  // the kernel holds the root for the life of the mount
  inodes_.emplace(kRootInode, std::move(root));
}

Result<InodeInfo> InodeTable::Acquire(InodeId parent, const std::string& name, FileType type) {
  std::lock_guard lock(mu_);
  const auto parent_it = inodes_.find(parent);
  if (parent_it == inodes_.end()) {
    return MakeError(ErrorCode::kStale, "parent inode " + std::to_string(parent) + " unknown");
  }
  const std::string& parent_path = parent_it->second.info.path;
  const std::string path = parent_path.empty() ? name : parent_path + "/" + name;
  auto child = children_.find({parent, name});
  if (child != children_.end()) {
    Record& record = inodes_.at(child->second);
    if (record.info.type == type) {
      ++record.lookups;
      return record.info;
    }
    children_.erase(child);  // replaced by another type: the old inode lives until forgotten
  }
  Record record;
  record.info = {next_id_++, parent, name, path, type, ""};
  record.lookups = 1;
  children_[{parent, name}] = record.info.id;
  const InodeInfo info = record.info;
  inodes_.emplace(info.id, std::move(record));
  return info;
}

void InodeTable::Forget(InodeId inode, uint64_t count) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(inode);
  if (it == inodes_.end() || it->second.lookups < count) {
    spdlog::critical("inode {}: forget of {} references, {} held: lookup accounting is broken",
                     inode, count, it == inodes_.end() ? 0 : it->second.lookups);
    std::abort();
  }
  it->second.lookups -= count;
  if (it->second.lookups > 0 || inode == kRootInode) return;
  const InodeInfo& info = it->second.info;
  auto child = children_.find({info.parent, info.name});
  if (child != children_.end() && child->second == inode) children_.erase(child);
  inodes_.erase(it);
}

std::optional<InodeInfo> InodeTable::Get(InodeId inode) const {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(inode);
  if (it == inodes_.end()) return std::nullopt;
  return it->second.info;
}

std::string InodeTable::SwapKernelCacheEtag(InodeId inode, const std::string& etag) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(inode);
  if (it == inodes_.end()) return "";
  std::string previous = std::move(it->second.info.kernel_cache_etag);
  it->second.info.kernel_cache_etag = etag;
  return previous;
}

std::optional<InodeInfo> InodeTable::Find(InodeId parent, const std::string& name) const {
  std::lock_guard lock(mu_);
  auto child = children_.find({parent, name});
  if (child == children_.end()) return std::nullopt;
  return inodes_.at(child->second).info;
}

std::optional<InodeId> InodeTable::Detach(InodeId parent, const std::string& name) {
  std::lock_guard lock(mu_);
  auto child = children_.find({parent, name});
  if (child == children_.end()) return std::nullopt;
  const InodeId inode = child->second;
  children_.erase(child);
  return inode;
}

// Recomputes the path of `inode`'s children (recursively) from its own.
void InodeTable::RepathLocked(InodeId inode,
                              std::vector<std::pair<InodeId, std::string>>& changed) {
  const std::string parent_path = inodes_.at(inode).info.path;
  for (auto it = children_.lower_bound({inode, std::string()});
       it != children_.end() && it->first.first == inode; ++it) {
    Record& record = inodes_.at(it->second);
    record.info.path =
        parent_path.empty() ? record.info.name : parent_path + "/" + record.info.name;
    changed.emplace_back(record.info.id, record.info.path);
    if (record.info.type == FileType::kDirectory) RepathLocked(record.info.id, changed);
  }
}

std::vector<std::pair<InodeId, std::string>> InodeTable::Move(InodeId parent,
                                                              const std::string& name,
                                                              InodeId new_parent,
                                                              const std::string& new_name) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<InodeId, std::string>> changed;
  auto child = children_.find({parent, name});
  auto target_parent = inodes_.find(new_parent);
  if (child == children_.end() || target_parent == inodes_.end()) {
    children_.erase({new_parent, new_name});  // the kernel will look the new name up again
    if (child != children_.end()) children_.erase(child);
    return changed;
  }
  const InodeId inode = child->second;
  children_.erase(child);
  children_[{new_parent, new_name}] = inode;  // replaces (detaches) any previous target
  Record& record = inodes_.at(inode);
  const std::string& parent_path = target_parent->second.info.path;
  record.info.parent = new_parent;
  record.info.name = new_name;
  record.info.path = parent_path.empty() ? new_name : parent_path + "/" + new_name;
  changed.emplace_back(inode, record.info.path);
  if (record.info.type == FileType::kDirectory) RepathLocked(inode, changed);
  return changed;
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return inodes_.size();
}

}  // namespace s3mount
