// HandleTable: directory handles, file handles and the OpenFiles they share (handle_table.h).
#include "fs/handle_table.h"

#include <algorithm>

namespace s3mount {

uint64_t HandleTable::AddDirectory(std::shared_ptr<DirectoryHandle> handle) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_handle_++;
  directories_.emplace(id, std::move(handle));
  return id;
}

std::shared_ptr<DirectoryHandle> HandleTable::DirectoryOf(uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = directories_.find(id);
  return it == directories_.end() ? nullptr : it->second;
}

std::shared_ptr<DirectoryHandle> HandleTable::TakeDirectory(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = directories_.find(id);
  if (it == directories_.end()) return nullptr;
  auto handle = std::move(it->second);
  directories_.erase(it);
  return handle;
}

uint64_t HandleTable::AddFile(std::shared_ptr<FileHandle> handle) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_handle_++;
  files_.emplace(id, std::move(handle));
  return id;
}

std::shared_ptr<FileHandle> HandleTable::FileOf(uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(id);
  return it == files_.end() ? nullptr : it->second;
}

HandleTable::Released HandleTable::TakeFile(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = files_.find(id);
  if (it == files_.end()) return {};
  Released released{.handle = std::move(it->second)};
  files_.erase(it);
  auto record = open_files_.find(released.handle->inode);
  if (record != open_files_.end() && released.handle->attached && --record->second.handles == 0) {
    released.last = record->second.file;
  }
  return released;
}

std::shared_ptr<FileReader> HandleTable::ReaderOf(const FileHandle& handle) const {
  std::lock_guard lock(mu_);
  return handle.reader;
}

bool HandleTable::MarkDelivered(FileHandle& handle, const FileReader* used) {
  if (handle.delivered.load(std::memory_order_acquire)) return true;
  std::lock_guard lock(mu_);
  if (handle.reader.get() != used) return false;
  handle.delivered.store(true, std::memory_order_release);
  return true;
}

std::shared_ptr<FileReader> HandleTable::ReplaceUndelivered(
    FileHandle& handle, const FileReader* used,
    const std::function<std::shared_ptr<FileReader>()>& make) {
  std::lock_guard lock(mu_);
  if (handle.attached || handle.delivered.load(std::memory_order_acquire)) return nullptr;
  if (handle.reader.get() == used) handle.reader = make();
  return handle.reader;
}

std::shared_ptr<OpenFile> HandleTable::OpenFileOf(InodeId inode) const {
  std::lock_guard lock(mu_);
  auto it = open_files_.find(inode);
  return it == open_files_.end() ? nullptr : it->second.file;
}

bool HandleTable::HasHandles(InodeId inode) const {
  std::lock_guard lock(mu_);
  return open_files_.contains(inode) ||
         std::any_of(files_.begin(), files_.end(),
                     [&](const auto& item) { return item.second->inode == inode; });
}

std::vector<std::pair<InodeId, std::shared_ptr<OpenFile>>> HandleTable::OpenFiles() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<InodeId, std::shared_ptr<OpenFile>>> open;
  open.reserve(open_files_.size());
  for (const auto& [inode, record] : open_files_) open.emplace_back(inode, record.file);
  return open;
}

std::shared_ptr<OpenFile> HandleTable::AttachHandle(InodeId inode, const OpenFile* seen,
                                                    const FileFactory& make) {
  std::lock_guard lock(mu_);
  auto existing = open_files_.find(inode);
  const OpenFile* current = existing == open_files_.end() ? nullptr : existing->second.file.get();
  // Found none: a file another open made meanwhile is as current as one made here.
  if (seen != nullptr && current != seen) return nullptr;
  Record& record = open_files_[inode];
  if (!record.file) record.file = make();
  ++record.handles;
  return record.file;
}

bool HandleTable::AttachNewFile(InodeId inode, std::shared_ptr<OpenFile> file) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = open_files_.try_emplace(inode);
  if (!inserted && it->second.file) return false;
  it->second.file = std::move(file);
  it->second.handles = 1;
  return true;
}

bool HandleTable::HasOwnReaders(InodeId inode) const {
  std::lock_guard lock(mu_);
  return std::any_of(files_.begin(), files_.end(), [&](const auto& item) {
    return item.second->inode == inode && !item.second->attached;
  });
}

std::shared_ptr<OpenFile> HandleTable::AdoptReaders(
    InodeId inode, const std::function<std::shared_ptr<OpenFile>(const ObjectVersion&)>& make) {
  std::lock_guard lock(mu_);
  auto existing = open_files_.find(inode);
  std::shared_ptr<OpenFile> file = existing == open_files_.end() ? nullptr : existing->second.file;
  size_t adopted = 0;
  for (auto& [id, handle] : files_) {
    if (handle->inode != inode || handle->attached) continue;
    if (!file) file = make(handle->reader->object());
    handle->attached = true;
    handle->reader.reset();
    ++adopted;
  }
  if (!file) return nullptr;
  Record& record = open_files_[inode];
  record.file = file;
  record.handles += adopted;
  return file;
}

void HandleTable::ReadersFollow(InodeId inode,
                                const std::function<std::shared_ptr<FileReader>()>& make) {
  std::lock_guard lock(mu_);
  for (auto& [id, handle] : files_) {
    if (handle->inode == inode && !handle->attached) handle->reader = make();
  }
}

bool HandleTable::NeedsHold(InodeId inode) const {
  std::lock_guard lock(mu_);
  auto it = open_files_.find(inode);
  return it != open_files_.end() && it->second.handles == 0 && !it->second.inode_held;
}

bool HandleTable::MarkHeld(InodeId inode) {
  std::lock_guard lock(mu_);
  auto it = open_files_.find(inode);
  if (it == open_files_.end() || it->second.handles > 0 || it->second.inode_held) return false;
  it->second.inode_held = true;
  return true;
}

HandleTable::Retired HandleTable::RetireIdle(InodeId inode, const OpenFile* file, bool clean_only) {
  std::lock_guard lock(mu_);
  auto it = open_files_.find(inode);
  if (it == open_files_.end() || it->second.handles > 0) return {};
  if (file != nullptr && it->second.file.get() != file) return {};
  if (clean_only && it->second.file->dirty()) return {.outcome = Retire::kDirty};
  Retired retired{.outcome = Retire::kErased, .inode_held = it->second.inode_held};
  open_files_.erase(it);
  ++retirements_;
  return retired;
}

uint64_t HandleTable::retirements() const {
  std::lock_guard lock(mu_);
  return retirements_;
}

}  // namespace s3mount
