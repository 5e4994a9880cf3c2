// Filesystem: namespace changes (create, mkdir, mknod, symlink, unlink, rmdir, rename, link)
// and in-place metadata rewrites, as s3fs stores them (docs/SEMANTICS.md, "Writing").
#include <spdlog/spdlog.h>

#include "fs/filesystem_impl.h"
#include "s3mount/fs/metadata_codec.h"

namespace s3mount {
namespace {

constexpr uint32_t kPermissionBits = 07777;

}  // namespace

Status Filesystem::Impl::RequireWritable() const {
  if (options.read_only) return MakeError(ErrorCode::kReadOnly, "the mount is read-only");
  return OkStatus();
}

OpenFileServices Filesystem::Impl::services() {
  return OpenFileServices{.store = store,
                          .upload_pool = upload_pool,
                          .memory = memory,
                          .uploader = uploader,
                          .staging = *staging,
                          .fetcher = fetcher,
                          .max_readahead = options.max_readahead,
                          .max_request = options.max_request_size,
                          .part_size = options.part_size,
                          .journal = journal.get(),
                          .buffers = &buffers};
}

void Filesystem::Impl::InvalidateListingsAbove(const std::string& path) {
  const MonoTime now = clock.Monotonic();
  std::string directory = path;
  while (!directory.empty()) {
    directory = ParentOf(directory);
    listings.Invalidate(directory, now);
  }
}

std::string Filesystem::Impl::ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string Filesystem::Impl::NameOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<PathEntry> Filesystem::Impl::ResolveInDirectory(const std::string& path) {
  if (auto pending = PendingFile(path)) return *std::move(pending);
  if (overlay.IsDeleteQueued(path)) {
    return PathEntry{.kind = PathKind::kMissing, .fetched_at = clock.Monotonic()};
  }
  const MonoTime now = clock.Monotonic();
  auto listed = listings.Find(ParentOf(path), NameOf(path), now);
  // A name the listing lacks is a negative entry like any other: trusted for negative_ttl
  // from the LIST, then S3 is asked (the listing itself stays for list_ttl).
  const bool absence_expired = listed && listed->kind == PathKind::kMissing &&
                               now - listed->fetched_at >= options.negative_ttl;
  if (!listed || absence_expired) return WithPendingBelow(path, resolver.Resolve(path));
  return WithPendingBelow(path, resolver.ResolveListed(path, *listed));
}

void Filesystem::Impl::Created(const std::string& path, PathKind kind, const ObjectInfo& object) {
  const MonoTime now = clock.Monotonic();
  metadata.MarkChanged(path, now);
  PathEntry entry{.kind = kind,
                  .object = object,
                  .marker_present = kind == PathKind::kDirectory,
                  .has_user_metadata = true,
                  .fetched_at = now};
  metadata.Insert(path, entry);
  // The parent's cached listing gets the entry; directories above may have appeared.
  const std::string parent = ParentOf(path);
  listings.Upsert(parent, ListedEntry{NameOf(path), path, std::move(entry)}, now);
  InvalidateListingsAbove(parent);
}

void Filesystem::Impl::Removed(const std::string& path) {
  const MonoTime now = clock.Monotonic();
  metadata.MarkChanged(path, now);
  metadata.InvalidatePrefix(path);
  // Known missing: also how the change event of this very delete is recognised as ours.
  metadata.Insert(path, PathEntry{.kind = PathKind::kMissing, .fetched_at = now});
  // Implicit parent directories may have vanished with it.
  for (std::string parent = ParentOf(path); !parent.empty(); parent = ParentOf(parent)) {
    metadata.MarkChanged(parent, now);
  }
  const std::string parent = ParentOf(path);
  listings.Erase(parent, NameOf(path), now);
  InvalidateListingsAbove(parent);
  listings.Invalidate(path, now);
}

std::optional<PathEntry> Filesystem::Impl::PendingFile(const std::string& path) {
  const std::optional<InodeId> inode = overlay.CreatedAt(path);
  if (!inode) return std::nullopt;
  auto file = handles.OpenFileOf(*inode);
  // Uploaded already (an fsync, or a reader's close) and reported: the caches have it now.
  if (!file || (file->in_store() && !file->dirty())) return std::nullopt;
  const Attributes attributes = file->attributes();
  return PathEntry{.kind = PathKind::kFile,
                   .object = {.key = keys.KeyFor(path),
                              .size = attributes.size,
                              .last_modified = attributes.mtime,
                              .user_metadata = WithAttributes(file->metadata(), attributes)},
                   .has_user_metadata = true,
                   .fetched_at = clock.Monotonic()};
}

Result<PathEntry> Filesystem::Impl::WithPendingBelow(const std::string& path,
                                                     Result<PathEntry> resolved) {
  if (resolved.ok() && resolved->kind == PathKind::kMissing && overlay.HasCreatesBelow(path)) {
    return PathEntry{.kind = PathKind::kDirectory, .fetched_at = clock.Monotonic()};
  }
  return resolved;
}

Result<PathEntry> Filesystem::Impl::ResolveWithPending(const std::string& path,
                                                       bool need_metadata) {
  if (auto pending = PendingFile(path)) return *std::move(pending);
  if (overlay.IsDeleteQueued(path)) {
    return PathEntry{.kind = PathKind::kMissing, .fetched_at = clock.Monotonic()};
  }
  return WithPendingBelow(path, resolver.Resolve(path, need_metadata));
}

Result<ObjectInfo> Filesystem::Impl::RewriteMetadata(const std::string& path,
                                                     const PathEntry& entry,
                                                     const UserMetadata& user_metadata) {
  const bool directory = entry.kind == PathKind::kDirectory;
  const std::string key = directory ? MarkerKeyOf(path, entry) : keys.KeyFor(path);
  ObjectInfo object = entry.object;
  object.key = key;
  object.user_metadata = user_metadata;
  if (directory && !entry.marker_present) {
    object.content_type = DirectoryMarkerContentType();
    auto put = store.PutObject({.key = key,
                                .body = "",
                                .content_type = object.content_type,
                                .user_metadata = user_metadata});
    S3M_RETURN_IF_ERROR(put);
    object.etag = put->etag;
    object.size = 0;
    object.last_modified = clock.Now();
    return object;
  }
  auto copied = uploader.Copy({.source_key = key,
                               .destination_key = key,
                               .metadata_directive = MetadataDirective::kReplace,
                               .content_type = object.content_type,
                               .user_metadata = user_metadata,
                               .stored_headers = object.stored_headers,
                               .source_if_match = object.etag},
                              object.size);
  S3M_RETURN_IF_ERROR(copied);
  object.etag = copied->etag;
  object.last_modified = clock.Now();
  return object;
}

Result<Entry> Filesystem::Impl::SetObjectAttributes(const InodeInfo& info,
                                                    const AttributeChanges& changes, WallTime now) {
  auto entry = ResolveExisting(info, true);
  S3M_RETURN_IF_ERROR(entry);
  Attributes attributes = AttributesFor(info.path, *entry);
  ApplyAttributeChanges(changes, now, attributes);
  auto stored =
      RewriteMetadata(info.path, *entry, WithAttributes(entry->object.user_metadata, attributes));
  S3M_RETURN_IF_ERROR(stored);
  Created(info.path, entry->kind, *stored);
  PathEntry updated = *entry;
  updated.object = *stored;
  updated.marker_present = entry->kind == PathKind::kDirectory;
  // A directory's times are on its marker now (the ones kept in memory included): an
  // explicit mtime replaces them.
  if (changes.mtime || changes.mtime_now) directory_times.Forget(info.path);
  return EntryFor(info.id, AttributesFor(info.path, updated));
}

Result<std::string> Filesystem::Impl::NewChildPath(InodeId parent, std::string_view name,
                                                   bool directory) {
  S3M_RETURN_IF_ERROR(RequireWritable());
  auto parent_info = InodeOf(parent);
  S3M_RETURN_IF_ERROR(parent_info);
  if (parent_info->type != FileType::kDirectory) {
    return MakeError(ErrorCode::kNotDirectory, "'" + parent_info->path + "' is not a directory");
  }
  if (name.size() > 255) return MakeError(ErrorCode::kNameTooLong, "name over 255 bytes");
  if (!IsRepresentableName(name)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(name) + "' cannot be an S3 key component");
  }
  std::string path = ChildPath(*parent_info, name);
  S3M_RETURN_IF_ERROR(KeyFits(path, directory));
  if (!filter.IsVisible(path, directory)) {
    return MakeError(ErrorCode::kNotPermitted, "'" + path + "' is hidden by the mount's filters");
  }
  auto existing = ResolveInDirectory(path);
  S3M_RETURN_IF_ERROR(existing);
  if (existing->kind == PathKind::kDirectory && directory && !existing->marker_present &&
      !filter.empty()) {
    // A directory only hidden keys make is not shown: mkdir gives it its marker.
    auto visible = HasVisibleContents(store, filter, path, keys.KeyFor(path) + "/");
    S3M_RETURN_IF_ERROR(visible);
    if (!*visible) return path;
  }
  if (existing->kind != PathKind::kMissing) {
    return MakeError(ErrorCode::kAlreadyExists, "'" + path + "' exists");
  }
  return path;
}

Result<Entry> Filesystem::Impl::MakeObject(InodeId parent, std::string_view name, FileType type,
                                           uint32_t permissions, const Caller& caller,
                                           std::string_view body, bool exclusive, uint64_t rdev) {
  const bool directory = type == FileType::kDirectory;
  const MonoTime checked_at = clock.Monotonic();
  auto new_path = NewChildPath(parent, name, directory);
  S3M_RETURN_IF_ERROR(new_path);
  const std::string& path = *new_path;
  const WallTime now = clock.Now();
  Attributes attributes{.type = type,
                        .permissions = permissions & ~caller.umask & kPermissionBits,
                        .uid = caller.uid,
                        .gid = caller.gid,
                        .size = body.size(),
                        .mtime = now,
                        .ctime = now,
                        .atime = now,
                        .rdev = rdev};
  ObjectInfo object{
      .key = keys.KeyFor(path) + (directory ? "/" : ""),
      .size = body.size(),
      .last_modified = now,
      .content_type = directory ? DirectoryMarkerContentType() : options.content_types.For(path),
      .user_metadata = MetadataFromAttributes(attributes)};
  PutObjectRequest request{.key = object.key,
                           .body = body,
                           .content_type = object.content_type,
                           .user_metadata = object.user_metadata,
                           .if_none_match_any = exclusive};
  // Write-back: a queued DELETE of this name goes first.
  if (writeback) writeback->Wait(path, false);
  auto put = store.PutObject(request);
  if (!put.ok() && exclusive && put.error().code == ErrorCode::kNotImplemented) {
    // A server without conditional writes: check with S3 itself (not the cache), then write.
    metadata.Invalidate(path);
    auto fresh = resolver.Resolve(path);
    S3M_RETURN_IF_ERROR(fresh);
    if (fresh->kind != PathKind::kMissing) {
      return MakeError(ErrorCode::kAlreadyExists, "'" + path + "' exists");
    }
    request.if_none_match_any = false;
    put = store.PutObject(request);
  }
  if (!put.ok() && exclusive && put.error().code == ErrorCode::kPreconditionFailed) {
    return MakeError(ErrorCode::kAlreadyExists, "'" + path + "' was created by another client");
  }
  S3M_RETURN_IF_ERROR(put);
  object.etag = put->etag;
  Created(path, directory ? PathKind::kDirectory : PathKind::kFile, object);
  EntriesChanged(ParentOf(path));
  // Nothing was below a new directory: its (empty) listing is known, so lookups of the
  // files about to be created in it cost no request.
  if (directory) listings.Insert(path, std::make_shared<std::vector<ListedEntry>>(), checked_at);
  auto info = inodes.Acquire(parent, std::string(name), type);
  S3M_RETURN_IF_ERROR(info);
  PathEntry entry{.kind = directory ? PathKind::kDirectory : PathKind::kFile,
                  .object = object,
                  .marker_present = directory,
                  .has_user_metadata = true};
  return EntryFor(info->id, AttributesFor(path, entry));
}

Result<Filesystem::Created> Filesystem::Impl::CreatePending(InodeId parent, std::string_view name,
                                                            uint32_t permissions, OpenFlags flags,
                                                            const Caller& caller) {
  auto path = NewChildPath(parent, name, false);
  S3M_RETURN_IF_ERROR(path);
  // Write-back: a queued DELETE of this name goes first. The new file's data may reach S3
  // before its close (a multipart upload completed early by a read or an out-of-order
  // write), and a DELETE sent after that would remove the new object.
  if (overlay.IsDeleteQueued(*path)) writeback->Wait(*path, false);
  auto info = inodes.Acquire(parent, std::string(name), FileType::kRegular);
  S3M_RETURN_IF_ERROR(info);
  const WallTime now = clock.Now();
  OpenFileInit init{.path = *path,
                    .key = keys.KeyFor(*path),
                    .attributes = {.type = FileType::kRegular,
                                   .permissions = permissions & ~caller.umask & kPermissionBits,
                                   .uid = caller.uid,
                                   .gid = caller.gid,
                                   .mtime = now,
                                   .ctime = now,
                                   .atime = now},
                    .content_type = options.content_types.For(*path)};
  auto file = std::make_shared<OpenFile>(services(), std::move(init));
  auto handle = std::make_shared<FileHandle>();
  handle->inode = info->id;
  handle->path = *path;
  handle->writable = flags.write;
  handle->attached = true;
  if (!handles.AttachNewFile(info->id, file)) {
    // The inode is still open under a name S3 lost (deleted elsewhere): not a new file.
    inodes.Forget(info->id, 1);
    return MakeError(ErrorCode::kAlreadyExists, "'" + *path + "' is still open");
  }
  overlay.AddCreate(*path, info->id);
  EntriesChanged(ParentOf(*path));
  const uint64_t id = handles.AddFile(std::move(handle));
  return Filesystem::Created{EntryFor(info->id, file->attributes()), OpenedFile{id, false}};
}

Result<Filesystem::Created> Filesystem::Create(InodeId parent, std::string_view name, uint32_t mode,
                                               bool exclusive, OpenFlags flags,
                                               const Caller& caller) {
  // Without O_EXCL nothing is sent now: the first flush (at the latest the close) uploads
  // the file. O_EXCL keeps its conditional PUT, so lock files work across clients.
  if (!exclusive) return impl_->CreatePending(parent, name, mode, flags, caller);
  auto entry = impl_->MakeObject(parent, name, FileType::kRegular, mode, caller, "", exclusive);
  S3M_RETURN_IF_ERROR(entry);
  flags.truncate = false;
  auto opened = Open(entry->inode, flags);
  if (!opened.ok()) {
    Forget(entry->inode, 1);
    return opened.error();
  }
  return Created{*entry, *opened};
}

Result<Entry> Filesystem::MakeDirectory(InodeId parent, std::string_view name, uint32_t mode,
                                        const Caller& caller) {
  return impl_->MakeObject(parent, name, FileType::kDirectory, mode, caller, "", false);
}

Result<Entry> Filesystem::MakeNode(InodeId parent, std::string_view name, FileType type,
                                   uint32_t mode, const Caller& caller, uint64_t rdev) {
  if (type == FileType::kDirectory || type == FileType::kSymlink) {
    return MakeError(ErrorCode::kInvalidArgument, "mknod makes files, FIFOs, sockets, devices");
  }
  const bool device = type == FileType::kCharDevice || type == FileType::kBlockDevice;
  return impl_->MakeObject(parent, name, type, mode, caller, "", false, device ? rdev : 0);
}

Result<Entry> Filesystem::MakeSymlink(InodeId parent, std::string_view name,
                                      std::string_view target, const Caller& caller) {
  if (target.empty() || target.size() >= 4096) {
    return MakeError(ErrorCode::kInvalidArgument, "symlink targets are 1 to 4095 bytes");
  }
  return impl_->MakeObject(parent, name, FileType::kSymlink, 0777,
                           Caller{caller.uid, caller.gid, 0}, target, false);
}

Result<Entry> Filesystem::Link(InodeId /*inode*/, InodeId /*parent*/, std::string_view name) {
  return MakeError(ErrorCode::kNotPermitted,
                   "hard links cannot be stored in S3 ('" + std::string(name) + "')");
}

Result<std::pair<std::string, PathEntry>> Filesystem::Impl::ResolveChild(InodeId parent,
                                                                         std::string_view name) {
  S3M_RETURN_IF_ERROR(RequireWritable());
  auto parent_info = InodeOf(parent);
  S3M_RETURN_IF_ERROR(parent_info);
  std::string path = ChildPath(*parent_info, name);
  auto entry = ResolveInDirectory(path);
  S3M_RETURN_IF_ERROR(entry);
  if (entry->kind == PathKind::kMissing) {
    return MakeError(ErrorCode::kNotFound, "'" + path + "' does not exist");
  }
  return std::pair(std::move(path), std::move(entry).value());
}

Status Filesystem::Impl::RequireEmptyDirectory(const std::string& path) {
  if (overlay.HasCreatesBelow(path))
    return MakeError(ErrorCode::kNotEmpty, "'" + path + "' is not empty");
  const std::string marker = keys.KeyFor(path) + "/";
  auto below = store.ListObjects({.prefix = marker, .max_keys = 2});
  S3M_RETURN_IF_ERROR(below);
  for (const ObjectInfo& object : below->objects) {
    if (object.key != marker) return MakeError(ErrorCode::kNotEmpty, "'" + path + "' is not empty");
  }
  return OkStatus();
}

std::string Filesystem::Impl::MarkerKeyOf(const std::string& path, const PathEntry& entry) const {
  if (PathResolver::IsDirectoryObjectEntry(entry)) return entry.object.key;
  return keys.KeyFor(path) + "/";
}

Status Filesystem::Impl::DeleteMarkers(const std::string& path, const PathEntry& entry) {
  S3M_RETURN_IF_ERROR(store.DeleteObject(keys.KeyFor(path) + "/"));
  if (!PathResolver::IsDirectoryObjectEntry(entry)) return OkStatus();
  return store.DeleteObject(entry.object.key);
}

Status Filesystem::Unlink(InodeId parent, std::string_view name) {
  auto child = impl_->ResolveChild(parent, name);
  S3M_RETURN_IF_ERROR(child);
  const auto& [path, entry] = *child;
  if (entry.kind == PathKind::kDirectory) {
    return MakeError(ErrorCode::kIsDirectory, "'" + path + "' is a directory");
  }
  // Handles still open keep working from local copies. A file created here and not uploaded
  // yet has no object to delete.
  bool in_store = true;
  if (auto known = impl_->inodes.Find(parent, std::string(name))) {
    if (auto file = impl_->AdoptHandles(known->id, path)) {
      S3M_RETURN_IF_ERROR(file->Detach());
      in_store = file->in_store();
      impl_->overlay.ForgetCreate(known->id);
    }
  }
  if (in_store && impl_->writeback) {
    impl_->QueueDelete(path);  // after what is queued for the name (its upload)
  } else if (in_store) {
    S3M_RETURN_IF_ERROR(impl_->store.DeleteObject(impl_->keys.KeyFor(path)));
  }
  impl_->Removed(path);
  impl_->EntriesChanged(Impl::ParentOf(path));
  impl_->inodes.Detach(parent, std::string(name));
  return OkStatus();
}

Status Filesystem::RemoveDirectory(InodeId parent, std::string_view name) {
  impl_->WaitForWriteBack(parent, name);  // uploads and deletes below it reach S3 first
  auto child = impl_->ResolveChild(parent, name);
  if (!child.ok() && child.error().code == ErrorCode::kNotFound) {
    // An implicit directory (no marker) vanishes from S3 with its last entry, but for the
    // kernel (and `rm -r`) it is still there until rmdir: removing it is then a no-op.
    auto known = impl_->inodes.Find(parent, std::string(name));
    if (known && known->type == FileType::kDirectory) {
      impl_->Removed(known->path);
      impl_->DirectoryRemoved(known->path);
      impl_->inodes.Detach(parent, std::string(name));
      return OkStatus();
    }
  }
  S3M_RETURN_IF_ERROR(child);
  const auto& [path, entry] = *child;
  if (entry.kind != PathKind::kDirectory) {
    return MakeError(ErrorCode::kNotDirectory, "'" + path + "' is not a directory");
  }
  S3M_RETURN_IF_ERROR(impl_->RequireEmptyDirectory(path));
  S3M_RETURN_IF_ERROR(impl_->DeleteMarkers(path, entry));
  impl_->Removed(path);
  impl_->DirectoryRemoved(path);
  // A file of the same name, hidden by the directory (SEMANTICS.md section 9), shows again:
  // the path and its directory's listing are asked for again.
  impl_->metadata.Invalidate(path);
  impl_->listings.Invalidate(Impl::ParentOf(path), impl_->clock.Monotonic());
  impl_->inodes.Detach(parent, std::string(name));
  return OkStatus();
}

}  // namespace s3mount
