// Filesystem: open files, reads and writes through them, flush/fsync/release, setattr and
// extended attributes (docs/SEMANTICS.md, "Writing").
#include <spdlog/spdlog.h>

#include <algorithm>

#include "fs/filesystem_impl.h"
#include "s3mount/fs/metadata_codec.h"

namespace s3mount {

OpenFileInit Filesystem::Impl::InitFor(const std::string& path, const PathEntry& entry) const {
  OpenFileInit init{.path = path,
                    .key = keys.KeyFor(path),
                    .base = ObjectVersion{keys.KeyFor(path), entry.object.etag, entry.object.size},
                    .attributes = AttributesFor(path, entry),
                    .content_type = entry.object.content_type,
                    .metadata = entry.object.user_metadata,
                    .stored_headers = entry.object.stored_headers};
  if (init.content_type.empty()) init.content_type = options.content_types.For(path);
  return init;
}

void Filesystem::Impl::Stored(InodeId inode, const std::string& path, const ObjectInfo& object) {
  Created(path, PathKind::kFile, object);
  // The kernel's page cache holds what was written through it: it is this version.
  inodes.SwapKernelCacheEtag(inode, object.etag);
  handles.ReadersFollow(inode, [&] {
    return std::make_shared<FileReader>(fetcher,
                                        ObjectVersion{object.key, object.etag, object.size},
                                        options.max_readahead, options.max_request_size);
  });
}

std::shared_ptr<OpenFile> Filesystem::Impl::AdoptHandles(InodeId inode, const std::string& path) {
  if (!handles.HasOwnReaders(inode)) return handles.OpenFileOf(inode);
  // What the object's metadata is now (the readers know only its version).
  std::optional<PathEntry> entry;
  auto resolved = resolver.Resolve(path, false);
  if (resolved.ok() && resolved->kind == PathKind::kFile) entry = std::move(resolved).value();
  return handles.AdoptReaders(inode, [&](const ObjectVersion& version) {
    PathEntry from_handle = entry.value_or(PathEntry{.kind = PathKind::kFile});
    from_handle.object.etag = version.etag;
    from_handle.object.size = version.size;
    return std::make_shared<OpenFile>(services(), InitFor(path, from_handle));
  });
}

Status Filesystem::Impl::FlushFile(InodeId inode, OpenFile& file) {
  // Recorded while the file is still locked: an unlink or rename waiting for it then comes
  // after, and its own record wins.
  auto stored = file.Flush(clock.Now(), [&](const std::string& path, const ObjectInfo& object) {
    Stored(inode, path, object);
  });
  S3M_RETURN_IF_ERROR(stored);
  return OkStatus();
}

Result<OpenedFile> Filesystem::Open(InodeId inode, OpenFlags flags) {
  if (flags.write || flags.truncate) S3M_RETURN_IF_ERROR(impl_->RequireWritable());
  auto info = impl_->InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (info->type == FileType::kDirectory) {
    return MakeError(ErrorCode::kIsDirectory, "'" + info->path + "' is a directory");
  }
  std::shared_ptr<OpenFile> file;
  std::optional<PathEntry> entry;
  auto handle = std::make_shared<FileHandle>();
  handle->inode = inode;
  handle->path = info->path;
  handle->writable = flags.write;
  bool keep_cache = false;
  for (;;) {
    file = impl_->handles.OpenFileOf(inode);
    entry.reset();
    if (!file) {
      // A writer re-uploads the object: it needs the user metadata (xattrs, modes) to keep it.
      auto resolved = impl_->ResolveExisting(*info, flags.write);
      S3M_RETURN_IF_ERROR(resolved);
      entry = std::move(resolved).value();
    }
    if (!file && !flags.write) break;
    // The OpenFile seen may be retired before it is attached to (its write-back upload ran
    // and no handle held it): then its record is gone, and the open looks again (the caches
    // know the upload by then).
    std::shared_ptr<OpenFile> attached = impl_->handles.AttachHandle(inode, file.get(), [&] {
      return file ? file
                  : std::make_shared<OpenFile>(impl_->services(),
                                               impl_->InitFor(info->path, *entry));
    });
    if (!attached) continue;
    file = std::move(attached);
    handle->attached = true;
    break;
  }
  if (!handle->attached) {
    ObjectVersion object{impl_->keys.KeyFor(info->path), entry->object.etag, entry->object.size};
    keep_cache = impl_->inodes.SwapKernelCacheEtag(inode, object.etag) == object.etag;
    handle->kernel_cache_kept = keep_cache;
    impl_->directory_readahead.Opened(info->path, object, impl_->clock.Monotonic(), keep_cache);
    handle->reader =
        std::make_unique<FileReader>(impl_->fetcher, std::move(object),
                                     impl_->options.max_readahead, impl_->options.max_request_size);
  }
  const uint64_t id = impl_->handles.AddFile(handle);
  if (flags.truncate) {
    if (Status truncated = file->Truncate(0, impl_->clock.Now()); !truncated.ok()) {
      Release(id);
      return truncated.error();
    }
  }
  return OpenedFile{id, keep_cache};
}

Result<std::vector<DataSlice>> Filesystem::Read(uint64_t handle_id, uint64_t offset, size_t size,
                                                ReadEffects* effects) {
  auto handle = impl_->handles.FileOf(handle_id);
  if (!handle) return MakeError(ErrorCode::kInvalidArgument, "bad handle");
  if (auto file = impl_->handles.OpenFileOf(handle->inode)) return file->Read(offset, size);
  // Bounded: a handle moves to a new version at most once, and a read done through a reader
  // replaced meanwhile is done once more through the new one.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    auto reader = impl_->handles.ReaderOf(*handle);
    if (!reader) return MakeError(ErrorCode::kStale, "'" + handle->path + "' was replaced");
    auto slices = reader->Read(offset, size);
    if (slices.ok()) {
      if (attempt < kAttempts && !impl_->handles.MarkDelivered(*handle, reader.get())) continue;
      return slices;
    }
    if (slices.error().code == ErrorCode::kStale) {
      // The version this handle opened is gone: the next open must see the new one.
      impl_->metadata.Invalidate(handle->path);
      impl_->inodes.SwapKernelCacheEtag(handle->inode, "");
      if (attempt < kAttempts && impl_->ReadNewVersion(*handle, *reader, effects)) continue;
    }
    if (slices.error().code == ErrorCode::kChecksumMismatch) {
      // Pages the kernel cached from this read may hold the bad bytes: the next open drops them.
      impl_->inodes.SwapKernelCacheEtag(handle->inode, "");
    }
    return slices;
  }
}

bool Filesystem::Impl::ReadNewVersion(FileHandle& handle, const FileReader& gone,
                                      ReadEffects* effects) {
  // A handle that delivered bytes of the old version must not mix in the new one, nor one
  // whose pages of it the kernel may serve.
  if (handle.kernel_cache_kept || handle.delivered.load(std::memory_order_acquire)) return false;
  auto info = inodes.Get(handle.inode);  // its current path (after renames)
  const std::string path = info ? info->path : handle.path;
  metadata.Invalidate(path);
  auto resolved = resolver.Resolve(path);
  if (!resolved.ok() || resolved->kind != PathKind::kFile ||
      resolved->object.etag == gone.object().etag) {
    return false;
  }
  ObjectVersion object{keys.KeyFor(path), resolved->object.etag, resolved->object.size};
  auto reader = handles.ReplaceUndelivered(handle, &gone, [&] {
    return std::make_shared<FileReader>(fetcher, object, options.max_readahead,
                                        options.max_request_size);
  });
  if (!reader) return false;
  spdlog::debug("'{}' changed before its handle read anything: it reads ETag {} ({} bytes)", path,
                reader->object().etag, reader->object().size);
  inodes.SwapKernelCacheEtag(handle.inode, reader->object().etag);
  if (effects != nullptr && reader->object().size >= gone.object().size) {
    effects->kernel_attributes_stale = true;
  }
  return true;
}

Result<size_t> Filesystem::Write(uint64_t handle_id, uint64_t offset, std::string_view data) {
  auto handle = impl_->handles.FileOf(handle_id);
  if (!handle) return MakeError(ErrorCode::kInvalidArgument, "bad handle");
  auto file = impl_->handles.OpenFileOf(handle->inode);
  if (!handle->writable || !file) {
    return MakeError(ErrorCode::kInvalidArgument, "handle not open for writing");
  }
  return file->Write(offset, data, impl_->clock.Now());
}

Status Filesystem::Flush(uint64_t handle_id) {
  auto handle = impl_->handles.FileOf(handle_id);
  if (!handle) return MakeError(ErrorCode::kInvalidArgument, "bad handle");
  // A reader's close does not push another handle's writes out early, unless the file
  // was created by it (O_CREAT without write access) and is not in S3 yet.
  if (!handle->writable) {
    auto file = impl_->handles.OpenFileOf(handle->inode);
    if (!file || file->in_store()) return OkStatus();
  }
  if (impl_->writeback) {
    // Write-back: the upload is queued (a clean file's is a no-op; asking would wait for an
    // upload running now); the file stays readable here meanwhile.
    auto file = impl_->handles.OpenFileOf(handle->inode);
    if (!file) return OkStatus();
    // On disk with a journal record before the close returns (docs/SEMANTICS.md, "Crashes");
    // a file that cannot be is uploaded now, as without write-back.
    if (Status acknowledged = file->Acknowledge(); !acknowledged.ok()) {
      spdlog::info("'{}' cannot be journaled ({}): its close uploads it", file->path(),
                   acknowledged.error().ToString());
      return Fsync(handle_id);
    }
    impl_->QueueUpload(handle->inode, file);
    return OkStatus();
  }
  return Fsync(handle_id);
}

Status Filesystem::Fsync(uint64_t handle_id) {
  auto handle = impl_->handles.FileOf(handle_id);
  if (!handle) return MakeError(ErrorCode::kInvalidArgument, "bad handle");
  auto file = impl_->handles.OpenFileOf(handle->inode);
  if (!file) return OkStatus();
  // Write-back: the queued uploads of the file go first (a failed one leaves it dirty, and
  // the flush below tries again and reports).
  if (impl_->writeback) {
    auto info = impl_->inodes.Get(handle->inode);  // its current path (after renames)
    impl_->writeback->Wait(info ? info->path : handle->path, false);
  }
  return impl_->FlushFile(handle->inode, *file);
}

void Filesystem::Release(uint64_t handle_id) {
  auto [handle, last] = impl_->handles.TakeFile(handle_id);
  if (!last) return;
  if (impl_->writeback) {
    // The record (and the inode) stay, with no handles, until a queued upload after this
    // close has run (it retires the record); counted with the close's own.
    // (No journal record here: every close() flushed first, and Flush acknowledged it.)
    impl_->HoldInode(handle->inode);
    impl_->QueueUpload(handle->inode, last, false);
    return;
  }
  Status flushed = impl_->FlushFile(handle->inode, *last);
  if (!flushed.ok()) {
    spdlog::error("'{}' was closed but could not be uploaded: {}; {}", last->path(),
                  flushed.error().ToString(), last->Salvage());
  }
  // Uploaded (the caches know it), or lost with the failed upload (S3 never had it). Reopened
  // meanwhile, the record stays: the new handles keep the same OpenFile.
  impl_->Retired(handle->inode, impl_->handles.RetireIdle(handle->inode, nullptr, false));
}

Result<Entry> Filesystem::SetAttr(InodeId inode, const AttributeChanges& changes,
                                  std::optional<uint64_t> handle) {
  S3M_RETURN_IF_ERROR(impl_->RequireWritable());
  auto info = impl_->InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (inode == kRootInode) {
    auto attributes = impl_->root.Apply(changes, impl_->clock.Now());
    S3M_RETURN_IF_ERROR(attributes);
    if (changes.mtime || changes.mtime_now) impl_->directory_times.Forget("");
    impl_->DirectoryAttributes("", *attributes);
    return impl_->EntryFor(kRootInode, *attributes);
  }
  if (changes.size && info->type == FileType::kDirectory) {
    return MakeError(ErrorCode::kIsDirectory, "'" + info->path + "' is a directory");
  }
  const WallTime now = impl_->clock.Now();
  std::shared_ptr<OpenFile> file = impl_->handles.OpenFileOf(inode);
  const bool temporary = !file && info->type == FileType::kRegular;
  if (temporary) {
    auto entry = impl_->ResolveExisting(*info, true);
    S3M_RETURN_IF_ERROR(entry);
    file = std::make_shared<OpenFile>(impl_->services(), impl_->InitFor(info->path, *entry));
  }
  if (file) {
    // Pending writes carry the change at their flush; otherwise it is applied now.
    auto was_dirty = file->ChangeAttributes(changes, now);
    S3M_RETURN_IF_ERROR(was_dirty);
    const bool defer = !temporary && (*was_dirty || handle.has_value());
    if (!defer) S3M_RETURN_IF_ERROR(impl_->FlushFile(inode, *file));
    return impl_->EntryFor(inode, file->attributes());
  }
  return impl_->SetObjectAttributes(*info, changes, now);
}

namespace {

// s3fs keeps any name in its xattr header; the kernel's own namespaces are not ours to store.
Status CheckXattrName(std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return MakeError(ErrorCode::kInvalidArgument, "bad attribute name");
  }
  if (!name.starts_with("user.")) {
    return MakeError(ErrorCode::kNotSupported, "only user.* attributes are stored");
  }
  return OkStatus();
}

// Applies one xattr change to `metadata`: set (`value` present) or remove.
Status ChangeXattr(UserMetadata& metadata, std::string_view name,
                   std::optional<std::string_view> value, XattrMode mode) {
  auto xattrs = DecodeXattrs(metadata);
  S3M_RETURN_IF_ERROR(xattrs);
  const std::string key(name);
  // A foreign header shows as user.<header>; s3fs xattrs win over it (metadata_codec.h).
  const std::string header = key.substr(5);
  const bool in_xattrs = xattrs->contains(key);
  bool own_header = false;
  for (std::string_view own :
       {kMetaMode, kMetaUid, kMetaGid, kMetaMtime, kMetaCtime, kMetaAtime, kMetaXattr}) {
    own_header = own_header || header == own;
  }
  const bool in_headers = !own_header && metadata.contains(header);
  const bool exists = in_xattrs || in_headers;
  if (!value) {
    if (!exists) return MakeError(ErrorCode::kNoData, "no attribute '" + key + "'");
    if (in_xattrs) {
      xattrs->erase(key);
    } else {
      metadata.erase(header);
    }
  } else {
    if (mode == XattrMode::kCreate && exists) {
      return MakeError(ErrorCode::kAlreadyExists, "attribute '" + key + "' exists");
    }
    if (mode == XattrMode::kReplace && !exists) {
      return MakeError(ErrorCode::kNoData, "no attribute '" + key + "'");
    }
    (*xattrs)[key] = std::string(*value);
    if (in_headers && !in_xattrs) metadata.erase(header);
  }
  StoreXattrs(*xattrs, metadata);
  return OkStatus();
}

}  // namespace

Status Filesystem::Impl::ChangeXattrOf(InodeId inode, std::string_view name,
                                       std::optional<std::string_view> value, XattrMode mode) {
  S3M_RETURN_IF_ERROR(RequireWritable());
  S3M_RETURN_IF_ERROR(CheckXattrName(name));
  auto info = InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (inode == kRootInode) return MakeError(ErrorCode::kNotSupported, "the mount root has none");
  const WallTime now = clock.Now();
  if (auto file = handles.OpenFileOf(inode)) {
    auto was_dirty = file->ChangeMetadata(
        [&](UserMetadata& edited) { return ChangeXattr(edited, name, value, mode); }, now);
    S3M_RETURN_IF_ERROR(was_dirty);
    return *was_dirty ? OkStatus() : FlushFile(inode, *file);
  }
  auto entry = ResolveExisting(*info, true);
  S3M_RETURN_IF_ERROR(entry);
  UserMetadata user_metadata = entry->object.user_metadata;
  if (entry->kind == PathKind::kDirectory && !entry->marker_present) {
    user_metadata = MetadataFromAttributes(AttributesFor(info->path, *entry));
  }
  S3M_RETURN_IF_ERROR(ChangeXattr(user_metadata, name, value, mode));
  user_metadata[std::string(kMetaCtime)] = FormatMetadataTime(now);  // as chmod moves it
  auto stored = RewriteMetadata(info->path, *entry, user_metadata);
  S3M_RETURN_IF_ERROR(stored);
  if (entry->kind == PathKind::kFile) {
    Stored(inode, info->path, *stored);  // a copy may change the ETag: readers follow it
  } else {
    Created(info->path, entry->kind, *stored);
  }
  return OkStatus();
}

Status Filesystem::SetXattr(InodeId inode, std::string_view name, std::string_view value,
                            XattrMode mode) {
  return impl_->ChangeXattrOf(inode, name, value, mode);
}

Status Filesystem::RemoveXattr(InodeId inode, std::string_view name) {
  return impl_->ChangeXattrOf(inode, name, std::nullopt, XattrMode::kAny);
}

}  // namespace s3mount
