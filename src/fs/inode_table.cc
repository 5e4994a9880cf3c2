// InodeTable: inode numbers, lookup references and the path each inode stands for.
#include "fs/inode_table.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace s3mount {

InodeTable::InodeTable(size_t max_remembered) : max_remembered_(max_remembered) {
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
    const InodeId known = child->second;
    Record& record = inodes_.at(known);
    if (record.info.type == type) {
      if (record.remembered) {  // forgotten by the kernel: the same number again
        remembered_.erase(record.remembered_at);
        record.remembered = false;
      }
      ++record.lookups;
      return record.info;
    }
    children_.erase(child);  // replaced by another type: the old inode lives until forgotten
    UnnamedLocked(known);
  }
  Record record;
  record.info = {next_id_++, parent, name, path, type, ""};
  record.lookups = 1;
  children_[{parent, name}] = record.info.id;
  const InodeInfo info = record.info;
  inodes_.emplace(info.id, std::move(record));
  return info;
}

bool InodeTable::Reference(InodeId inode) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(inode);
  if (it == inodes_.end()) return false;
  Record& record = it->second;
  if (record.remembered) {
    remembered_.erase(record.remembered_at);
    record.remembered = false;
  }
  ++record.lookups;
  return true;
}

void InodeTable::Forget(InodeId inode, uint64_t count) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(inode);
  if (it == inodes_.end() || it->second.lookups < count) {
    spdlog::critical("inode {}: forget of {} references, {} held: lookup accounting is broken",
                     inode, count, it == inodes_.end() ? 0 : it->second.lookups);
    std::abort();
  }
  Record& record = it->second;
  record.lookups -= count;
  if (record.lookups > 0 || inode == kRootInode) return;
  auto named = children_.find({record.info.parent, record.info.name});
  if (named == children_.end() || named->second != inode || max_remembered_ == 0) {
    DropLocked(inode);
    return;
  }
  // Still named: the next lookup of the name gets this number again. The kernel's pages
  // went with its inode.
  record.info.kernel_cache_etag.clear();
  record.remembered = true;
  record.remembered_at = remembered_.insert(remembered_.end(), inode);
  while (remembered_.size() > max_remembered_) DropLocked(remembered_.front());
}

void InodeTable::DropLocked(InodeId inode) {
  std::vector<InodeId> pending{inode};
  while (!pending.empty()) {
    const InodeId id = pending.back();
    pending.pop_back();
    auto it = inodes_.find(id);
    if (it == inodes_.end() || id == kRootInode) continue;
    Record& record = it->second;
    // Names below a dropped directory can never be looked up again (numbers are not reused).
    for (auto child = children_.lower_bound({id, std::string()});
         child != children_.end() && child->first.first == id;) {
      if (inodes_.at(child->second).remembered) {
        pending.push_back(child->second);
        child = children_.erase(child);
      } else {
        ++child;
      }
    }
    auto named = children_.find({record.info.parent, record.info.name});
    if (named != children_.end() && named->second == id) children_.erase(named);
    if (record.remembered) remembered_.erase(record.remembered_at);
    inodes_.erase(it);
  }
}

void InodeTable::UnnamedLocked(InodeId inode) {
  auto it = inodes_.find(inode);
  if (it != inodes_.end() && it->second.remembered) DropLocked(inode);
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

KernelInvalidations InodeTable::ForgetKernelCaches() {
  KernelInvalidations kernel;
  std::lock_guard lock(mu_);
  for (const auto& [entry, id] : children_) kernel.entries.push_back(entry);
  for (auto& [id, record] : inodes_) {
    record.info.kernel_cache_etag.clear();
    if (record.lookups > 0 || id == kRootInode) kernel.inodes.push_back(id);
  }
  return kernel;
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
  UnnamedLocked(inode);
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
  if (parent == new_parent && name == new_name) return changed;
  auto target = children_.find({new_parent, new_name});
  InodeId replaced = 0;  // none: 0 is never an inode
  if (target != children_.end()) {
    replaced = target->second;
    children_.erase(target);  // detached; the kernel looks the new name up again if need be
  }
  auto child = children_.find({parent, name});
  auto target_parent = inodes_.find(new_parent);
  if (child == children_.end() || target_parent == inodes_.end()) {
    InodeId moved = 0;
    if (child != children_.end()) {
      moved = child->second;
      children_.erase(child);
    }
    if (replaced != 0) UnnamedLocked(replaced);
    if (moved != 0 && moved != replaced) UnnamedLocked(moved);
    return changed;
  }
  const InodeId inode = child->second;
  children_.erase(child);
  children_[{new_parent, new_name}] = inode;
  if (replaced != 0 && replaced != inode) UnnamedLocked(replaced);
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
  return inodes_.size() - remembered_.size();
}

size_t InodeTable::remembered() const {
  std::lock_guard lock(mu_);
  return remembered_.size();
}

}  // namespace s3mount
