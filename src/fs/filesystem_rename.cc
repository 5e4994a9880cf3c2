// Filesystem: rename of files (server-side copy, then delete) and of whole directories (every
// key below the prefix copied in parallel, then deleted in batches), with open handles
// following their file to its new name. Not atomic on S3: see docs/SEMANTICS.md, "Rename".
#include <spdlog/spdlog.h>

#include "fs/filesystem_impl.h"
#include "s3mount/fs/metadata_codec.h"

namespace s3mount {
namespace {

bool IsUnder(const std::string& path, const std::string& directory) {
  return path.size() > directory.size() && path.starts_with(directory) &&
         path[directory.size()] == '/';
}

}  // namespace

Status Filesystem::Impl::RenameFile(InodeId parent, const std::string& from, const std::string& to,
                                    const PathEntry& source_entry) {
  PathEntry source = source_entry;
  const std::string name =
      from.substr(from.rfind('/') == std::string::npos ? 0 : from.rfind('/') + 1);
  if (auto known = inodes.Find(parent, name)) {
    auto file = handles.OpenFileOf(known->id);
    if (file && !file->in_store()) {
      // Created here and not uploaded yet: it is uploaded under its new name, nothing copied.
      auto renamed = file->RenamePending(to, keys.KeyFor(to), options.content_types.For(from),
                                         options.content_types.For(to));
      S3M_RETURN_IF_ERROR(renamed);
      if (*renamed) return UploadRenamed(known->id, *file, from, to);
    }
    if (file && file->dirty()) {
      S3M_RETURN_IF_ERROR(FlushFile(known->id, *file));
      auto flushed = resolver.Resolve(from, true);
      S3M_RETURN_IF_ERROR(flushed);
      source = *flushed;
    }
  }
  const std::string from_key = keys.KeyFor(from);
  const std::string to_key = keys.KeyFor(to);
  // The copy replaces the metadata: the moved file's ctime is the rename's (as s3fs and
  // POSIX filesystems have it), so its metadata and type are needed: a HEAD when the caches
  // know it from a LIST only.
  if (!source.has_user_metadata || source.object.content_type.empty()) {
    auto head = store.HeadObject({.key = from_key});
    S3M_RETURN_IF_ERROR(head);
    source.object = std::move(head).value();
    source.has_user_metadata = true;
  }
  // A Content-Type derived from the old name follows the new one (a.txt -> a.jpg is
  // image/jpeg); an explicit one stays.
  const std::string from_type = options.content_types.For(from);
  const std::string to_type = options.content_types.For(to);
  if (from_type != to_type && source.object.content_type == from_type) {
    source.object.content_type = to_type;
  }
  UserMetadata& user_metadata = source.object.user_metadata;
  user_metadata[std::string(kMetaCtime)] = FormatMetadataTime(clock.Now());
  // The copy is a new object: an mtime known from LastModified only is kept explicitly.
  if (!user_metadata.contains(std::string(kMetaMtime))) {
    user_metadata[std::string(kMetaMtime)] = FormatMetadataTime(source.object.last_modified);
  }
  auto copied = uploader.Copy({.source_key = from_key,
                               .destination_key = to_key,
                               .metadata_directive = MetadataDirective::kReplace,
                               .content_type = source.object.content_type,
                               .user_metadata = user_metadata,
                               .stored_headers = source.object.stored_headers,
                               .source_if_match = source.object.etag},
                              source.object.size);
  S3M_RETURN_IF_ERROR(copied);
  S3M_RETURN_IF_ERROR(store.DeleteObject(from_key));
  Removed(from);
  ObjectInfo moved = source.object;
  moved.key = to_key;
  moved.etag = copied->etag;
  Created(to, PathKind::kFile, moved);
  return OkStatus();
}

Status Filesystem::Impl::UploadRenamed(InodeId inode, OpenFile& file, const std::string& from,
                                       const std::string& to) {
  overlay.MoveCreate(inode, to);
  Status flushed = FlushFile(inode, file);
  if (!flushed.ok()) {
    // The rename fails as a whole: the file stays pending under its old name.
    auto back = file.RenamePending(from, keys.KeyFor(from), options.content_types.For(to),
                                   options.content_types.For(from));
    if (!back.ok())
      spdlog::error("'{}' stays pending as '{}': {}", from, to, back.error().ToString());
    if (back.ok() && *back) overlay.MoveCreate(inode, from);
    return flushed;
  }
  Removed(from);
  return OkStatus();
}

Status Filesystem::Impl::RenameDirectory(const std::string& from, const std::string& to,
                                         const PathEntry& source) {
  // Open files below are flushed first so their latest bytes move with them.
  for (auto& [inode, file] : handles.OpenFiles()) {
    if (IsUnder(file->path(), from) && file->dirty()) S3M_RETURN_IF_ERROR(FlushFile(inode, *file));
  }
  const std::string from_prefix = keys.KeyFor(from) + "/";
  const std::string to_prefix = keys.KeyFor(to) + "/";
  std::vector<ObjectInfo> objects;
  ListObjectsRequest request{.prefix = from_prefix};
  for (;;) {
    auto page = store.ListObjects(request);
    S3M_RETURN_IF_ERROR(page);
    for (ObjectInfo& object : page->objects) objects.push_back(std::move(object));
    if (!page->is_truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  for (const ObjectInfo& object : objects) {  // every key below moves, the longest must fit
    S3M_RETURN_IF_ERROR(KeyFits(to + "/" + object.key.substr(from_prefix.size()), false));
  }
  // A directory object `from` (no '/') moves to `to`, keeping its Content-Type.
  const std::string from_object = keys.KeyFor(from);
  const std::string to_object = keys.KeyFor(to);
  if (PathResolver::IsDirectoryObjectEntry(source)) objects.push_back(source.object);
  auto destination_of = [&](const std::string& key) {
    return key == from_object ? to_object : to_prefix + key.substr(from_prefix.size());
  };
  std::vector<std::function<Status()>> copies;
  copies.reserve(objects.size());
  for (const ObjectInfo& object : objects) {
    copies.emplace_back([this, &object, &destination_of]() -> Status {
      auto copied = uploader.Copy({.source_key = object.key,
                                   .destination_key = destination_of(object.key),
                                   .metadata_directive = MetadataDirective::kCopy,
                                   .source_if_match = object.etag},
                                  object.size);
      S3M_RETURN_IF_ERROR(copied);
      return OkStatus();
    });
  }
  Status copied = RunAll<Status>(rename_pool, std::move(copies));
  std::vector<std::string> sources;
  sources.reserve(objects.size());
  for (const ObjectInfo& object : objects) sources.push_back(object.key);
  if (!copied.ok()) {
    spdlog::error("rename of '{}' to '{}' failed part way: {}; the source is intact", from, to,
                  copied.error().ToString());
  } else {
    auto deleted = store.DeleteObjects(sources);
    if (!deleted.ok()) {
      copied = deleted.error();
    } else if (!deleted->failures.empty()) {
      copied = deleted->failures.front().error;
    }
  }
  const MonoTime now = clock.Monotonic();
  metadata.MarkChanged(from, now);
  metadata.MarkChanged(to, now);
  // Implicit directories above the source may have vanished with it.
  for (std::string above = ParentOf(from); !above.empty(); above = ParentOf(above)) {
    metadata.MarkChanged(above, now);
  }
  metadata.InvalidatePrefix(from);
  metadata.InvalidatePrefix(to);
  listings.Clear(now);
  return copied;
}

// Checks the target of a rename against POSIX's rules and makes room: an empty directory
// loses its marker; open handles of a file about to be replaced keep its bytes.
Status Filesystem::Impl::ClearRenameTarget(bool directory, const std::string& to,
                                           InodeId new_parent, std::string_view new_name,
                                           RenameMode mode) {
  auto target = ResolveWithPending(to);
  S3M_RETURN_IF_ERROR(target);
  if (target->kind == PathKind::kMissing) return OkStatus();
  if (mode == RenameMode::kNoReplace) {
    return MakeError(ErrorCode::kAlreadyExists, "'" + to + "' exists");
  }
  const bool target_directory = target->kind == PathKind::kDirectory;
  if (directory && !target_directory) {
    return MakeError(ErrorCode::kNotDirectory, "'" + to + "' is not a directory");
  }
  if (!directory && target_directory) {
    return MakeError(ErrorCode::kIsDirectory, "'" + to + "' is a directory");
  }
  if (target_directory) {
    S3M_RETURN_IF_ERROR(RequireEmptyDirectory(to));
    return DeleteMarkers(to, *target);
  }
  if (auto replaced = inodes.Find(new_parent, std::string(new_name))) {
    if (auto file = AdoptHandles(replaced->id, to)) {
      S3M_RETURN_IF_ERROR(file->Detach());
      overlay.ForgetCreate(replaced->id);  // a replaced file created here is never uploaded
    }
  }
  return OkStatus();
}

// Open handles of every moved inode follow it to its new key.
void Filesystem::Impl::FollowRename(const std::vector<std::pair<InodeId, std::string>>& moved) {
  for (const auto& [inode, path] : moved) {
    overlay.MoveCreate(inode, path);
    if (!handles.HasHandles(inode)) continue;
    auto now_stored = resolver.Resolve(path, false);
    if (!now_stored.ok() || now_stored->kind != PathKind::kFile) continue;
    if (auto file = handles.OpenFileOf(inode)) {
      file->Rename(path, keys.KeyFor(path), now_stored->object.etag);
    } else {
      Stored(inode, path, now_stored->object);  // read-only handles follow
    }
  }
}

Status Filesystem::Rename(InodeId parent, std::string_view name, InodeId new_parent,
                          std::string_view new_name, RenameMode mode) {
  if (mode == RenameMode::kExchange) {
    return MakeError(ErrorCode::kInvalidArgument, "RENAME_EXCHANGE cannot be done on S3");
  }
  // Write-back: what is queued on both names (and below them) reaches S3 first.
  impl_->WaitForWriteBack(parent, name);
  impl_->WaitForWriteBack(new_parent, new_name);
  auto source = impl_->ResolveChild(parent, name);
  S3M_RETURN_IF_ERROR(source);
  const auto& [from, source_entry] = *source;
  auto to_parent = impl_->InodeOf(new_parent);
  S3M_RETURN_IF_ERROR(to_parent);
  if (new_name.size() > 255) return MakeError(ErrorCode::kNameTooLong, "name over 255 bytes");
  if (!IsRepresentableName(new_name)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(new_name) + "' cannot be an S3 key component");
  }
  const std::string to = impl_->ChildPath(*to_parent, new_name);
  if (from == to) return OkStatus();
  const bool directory = source_entry.kind == PathKind::kDirectory;
  S3M_RETURN_IF_ERROR(impl_->KeyFits(to, directory));
  if (directory && IsUnder(to, from)) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot move a directory into itself");
  }
  S3M_RETURN_IF_ERROR(impl_->ClearRenameTarget(directory, to, new_parent, new_name, mode));
  S3M_RETURN_IF_ERROR(directory ? impl_->RenameDirectory(from, to, source_entry)
                                : impl_->RenameFile(parent, from, to, source_entry));
  impl_->EntriesChanged(Impl::ParentOf(from));
  impl_->EntriesChanged(Impl::ParentOf(to));
  if (directory) {
    impl_->directory_times.Forget(from);
    impl_->directory_times.Forget(to);  // an empty directory it replaced
    impl_->directory_times.Renamed(to, impl_->clock.Now());
  }
  impl_->FollowRename(
      impl_->inodes.Move(parent, std::string(name), new_parent, std::string(new_name)));
  return OkStatus();
}

}  // namespace s3mount
