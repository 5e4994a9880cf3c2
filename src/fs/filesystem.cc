// Filesystem: lookups, attributes, directory handles and file handles over the resolver,
// the directory streams and the block fetcher.
#include "s3mount/fs/filesystem.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "fs/filesystem_impl.h"
#include "fs/journal_recovery.h"
#include "fs/readahead/readahead_limits.h"
#include "s3mount/fs/metadata_codec.h"
#include "s3mount/s3/object_sinks.h"

namespace s3mount {
namespace {

constexpr size_t kMaxSymlinkTarget = 4096;
// CopyObjects of a directory rename in flight at once.
constexpr size_t kRenameThreads = 16;
// Directories whose in-memory times are kept (DirectoryTimes); older ones show their stored
// times again.
constexpr size_t kMaxDirectoryTimes = 65536;

// Idle data buffers kept for reuse (BufferPool): an eighth of the memory budgets, 32 MiB at most.
size_t IdleBufferBytes(size_t cache_bytes, uint64_t write_memory) {
  return static_cast<size_t>(
      std::min<uint64_t>(uint64_t{32} << 20, (cache_bytes + write_memory) / 8));
}

}  // namespace

Filesystem::Impl::Impl(ObjectStore& store_in, Clock& clock_in, MetadataCache& metadata_in,
                       BlockCache& blocks_in, FilesystemOptions options_in, PathFilter filter_in,
                       std::unique_ptr<StagingArea> staging_in,
                       std::unique_ptr<WriteJournal> journal_in)
    : store(store_in),
      clock(clock_in),
      metadata(metadata_in),
      blocks(blocks_in),
      options(std::move(options_in)),
      keys(options.prefix),
      filter(std::move(filter_in)),
      metadata_pool(options.metadata_threads),
      rename_pool(kRenameThreads),
      data_pool(options.data_threads),
      readahead_pool(std::max<size_t>(1, options.data_threads)),
      upload_pool(options.read_only ? 1 : options.upload_threads),
      resolver(store, clock, metadata_pool, metadata, keys, options.object_metadata),
      prefetcher(resolver, options.metadata_parallelism),
      buffers(IdleBufferBytes(blocks_in.capacity_bytes(), options.write_memory)),
      fetcher(store, blocks_in, data_pool, buffers, options.block_size),
      listings(options.list_ttl, options.max_cached_listing_entries),
      directory_readahead(
          fetcher, listings, readahead_pool, keys,
          DirectoryReadaheadOptions{.max_files = options.directory_readahead_files,
                                    .max_in_flight = std::max<size_t>(1, options.data_threads)}),
      lookup_readahead(listings, resolver, prefetcher,
                       LookupReadaheadOptions{.max_window = options.object_metadata
                                                                ? 2 * options.metadata_parallelism
                                                                : 0}),
      mount_time(clock.Now()),
      root([this] {
        Attributes attributes =
            AttributesFromObject(ObjectInfo{.last_modified = mount_time}, true, options.defaults);
        attributes.nlink = 2;
        return attributes;
      }()),
      directory_times(kMaxDirectoryTimes),
      journal(std::move(journal_in)),
      staging(std::move(staging_in)),
      memory(options.write_memory, /*upload_reserve=*/options.part_size),
      uploader(store, upload_pool, memory,
               UploaderOptions{.part_size = options.part_size, .journal = journal.get()}) {
  if (options.write_back && !options.read_only) {
    // Its own workers: an upload waits for its parts on upload_pool, so running uploads on
    // that pool could fill it with waiters.
    writeback = std::make_unique<WriteBackQueue>(
        clock,
        WriteBackOptions{.threads = options.write_back_threads,
                         .max_queued = options.write_back_max_queued,
                         .attempts = options.write_back_attempts,
                         .first_backoff = options.write_back_backoff,
                         .over_budget =
                             [this] {
                               return memory.used() > memory.capacity() / 4 * 3 ||
                                      (staging && staging->used() > staging->capacity() / 4 * 3);
                             },
                         .between = options.write_back_between});
  }
}

Filesystem::Impl::~Impl() {
  writeback.reset();  // drained; its operations use the pools below
  prefetcher.Shutdown();
  readahead_pool.Shutdown();  // its fetches wait for data_pool's
  rename_pool.Shutdown();
  upload_pool.Shutdown();
  data_pool.Shutdown();
  metadata_pool.Shutdown();
}

std::string Filesystem::Impl::ChildPath(const InodeInfo& parent, std::string_view name) const {
  return parent.path.empty() ? std::string(name) : parent.path + "/" + std::string(name);
}

Status Filesystem::Impl::KeyFits(const std::string& path, bool directory) const {
  const size_t key_length = keys.KeyFor(path).size() + (directory ? 1 : 0);
  if (key_length <= kMaxKeyLength) return OkStatus();
  return MakeError(ErrorCode::kNameTooLong, "the key of '" + path + "' would be " +
                                                std::to_string(key_length) +
                                                " bytes, over S3's 1,024");
}

Attributes Filesystem::Impl::AttributesFor(const std::string& path, const PathEntry& entry) const {
  const bool directory = entry.kind == PathKind::kDirectory;
  ObjectInfo object = entry.object;
  if (directory && !entry.marker_present) object.last_modified = mount_time;
  Attributes attributes = AttributesFromObject(object, directory, options.defaults);
  if (directory) DirectoryAttributes(path, attributes);
  return attributes;
}

void Filesystem::Impl::DirectoryAttributes(const std::string& path, Attributes& attributes) const {
  attributes.nlink = 2 + listings.SubdirectoryCount(path, clock.Monotonic()).value_or(0);
  directory_times.Apply(path, attributes);
}

void Filesystem::Impl::EntriesChanged(const std::string& directory) {
  directory_times.EntriesChanged(directory, clock.Now());
}

void Filesystem::Impl::DirectoryRemoved(const std::string& path) {
  directory_times.Forget(path);
  EntriesChanged(ParentOf(path));
}

Entry Filesystem::Impl::EntryFor(InodeId inode, const Attributes& attributes) const {
  return Entry{inode, attributes, options.stat_ttl, options.stat_ttl};
}

Result<InodeInfo> Filesystem::Impl::InodeOf(InodeId inode) const {
  auto info = inodes.Get(inode);
  if (!info.has_value()) {
    return MakeError(ErrorCode::kStale, "inode " + std::to_string(inode) + " is not known");
  }
  return *info;
}

Result<PathEntry> Filesystem::Impl::ResolveExisting(const InodeInfo& info, bool need_metadata) {
  auto entry = ResolveWithPending(info.path, need_metadata);
  S3M_RETURN_IF_ERROR(entry);
  if (entry->kind == PathKind::kMissing) {
    return MakeError(ErrorCode::kNotFound, "'" + info.path + "' no longer exists");
  }
  const bool is_directory = entry->kind == PathKind::kDirectory;
  if (is_directory != (info.type == FileType::kDirectory)) {
    return MakeError(ErrorCode::kStale, "'" + info.path + "' changed type");
  }
  return entry;
}

Attributes Filesystem::Impl::Overlay(InodeId inode, Attributes attributes) {
  if (auto file = handles.OpenFileOf(inode)) return file->attributes();
  return attributes;
}

Attributes Filesystem::Impl::OverlayResolved(InodeId inode, const std::string& path,
                                             Attributes attributes, uint64_t retirements) {
  if (auto file = handles.OpenFileOf(inode)) return file->attributes();
  if (attributes.type != FileType::kRegular || handles.retirements() == retirements) {
    return attributes;
  }
  auto cached = metadata.Lookup(path, clock.Monotonic());
  if (!cached || cached->kind != PathKind::kFile) return attributes;
  return AttributesFor(path, *cached);
}

bool Filesystem::Impl::DeletedSince(const ListedEntry& listed) const {
  if (listed.entry.kind != PathKind::kFile) return false;
  auto known = metadata.Lookup(listed.path, clock.Monotonic());
  return known && known->kind == PathKind::kMissing && known->fetched_at > listed.entry.fetched_at;
}

Result<std::optional<ListedEntry>> Filesystem::Impl::DirectoryEntryAt(DirectoryHandle& handle,
                                                                      uint64_t index) {
  auto listed = handle.stream->At(index);
  S3M_RETURN_IF_ERROR(listed);
  if (listed->has_value()) {
    if (handle.pending.contains((*listed)->name)) handle.pending_listed.insert((*listed)->name);
    // Unlinked here, its DELETE still queued (write-back), or run since the listing was
    // read (the cache then knows it missing, from later than the listing): gone.
    if (!handle.pending.contains((*listed)->name) &&
        (overlay.IsDeleteQueued((*listed)->path) || DeletedSince(**listed))) {
      (*listed)->entry.kind = PathKind::kMissing;
    }
    return listed;
  }
  // Past the listing: what this mount created that S3 did not list (not uploaded yet).
  if (!handle.listed_count) {
    handle.listed_count = index;
    for (const auto& [name, kind] : handle.pending) {
      if (!handle.pending_listed.contains(name)) handle.extras.emplace_back(name, kind);
    }
  }
  if (index < *handle.listed_count || index - *handle.listed_count >= handle.extras.size()) {
    return std::optional<ListedEntry>();
  }
  const auto& [name, kind] = handle.extras[index - *handle.listed_count];
  ListedEntry extra{.name = name, .path = handle.path.empty() ? name : handle.path + "/" + name};
  if (kind == PathKind::kDirectory) {
    extra.entry = PathEntry{.kind = PathKind::kDirectory, .fetched_at = clock.Monotonic()};
  } else if (auto pending = PendingFile(extra.path)) {
    extra.entry = *std::move(pending);
  } else {
    // Closed since opendir: uploaded (cached as such) or gone; a missing one is skipped.
    extra.entry = metadata.Lookup(extra.path, clock.Monotonic())
                      .value_or(PathEntry{.kind = PathKind::kMissing});
  }
  return std::optional<ListedEntry>(std::move(extra));
}

Result<Entry> Filesystem::Impl::DotEntry(InodeId inode) const {
  Attributes attributes =
      AttributesFromObject(ObjectInfo{.last_modified = mount_time}, true, options.defaults);
  attributes.nlink = 2;
  return Entry{inode, attributes, std::chrono::nanoseconds(0), std::chrono::nanoseconds(0)};
}

bool Filesystem::Impl::MetadataKnown(const ListedEntry& listed) const {
  auto cached = metadata.Lookup(listed.path, clock.Monotonic());
  return cached && PathResolver::Describes(*cached, listed.entry.kind) &&
         resolver.Sufficient(*cached);
}

std::optional<PathEntry> Filesystem::Impl::ListedMetadata(const ListedEntry& listed) {
  const PathKind kind = listed.entry.kind;
  if (auto cached = metadata.Lookup(listed.path, clock.Monotonic());
      cached && PathResolver::Describes(*cached, kind) && resolver.Sufficient(*cached)) {
    return cached;
  }
  // A HEAD that failed (perhaps one run in the background for someone else) is tried once
  // more by the reader itself.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto headed = resolver.HeadListed(listed.path, listed.entry);
    if (!headed.ok()) {
      spdlog::debug("HEAD of listed '{}': {}", listed.path, headed.error().ToString());
      continue;
    }
    if (PathResolver::Describes(*headed, kind)) return std::move(headed).value();
    return std::nullopt;  // gone or changed since the listing: left for lookup to find out
  }
  return std::nullopt;
}

Result<std::unique_ptr<Filesystem>> Filesystem::Create(ObjectStore& store, Clock& clock,
                                                       MetadataCache& metadata, BlockCache& blocks,
                                                       FilesystemOptions options) {
  auto filter = PathFilter::Create(options.include_patterns, options.exclude_patterns);
  S3M_RETURN_IF_ERROR(filter);
  std::unique_ptr<StagingArea> staging;
  if (!options.read_only) {
    if (options.staging_directory.empty()) {
      options.staging_directory = (std::filesystem::temp_directory_path() /
                                   ("s3mount-staging-" + std::to_string(::getpid())))
                                      .string();
    }
    auto area = StagingArea::Create(options.staging_directory, options.staging_capacity);
    S3M_RETURN_IF_ERROR(area);
    staging = std::move(area).value();
  }
  std::unique_ptr<WriteJournal> journal;
  if (!options.read_only && !options.journal_cache_dir.empty()) {
    auto opened = WriteJournal::Open(options.journal_cache_dir, options.journal_target);
    S3M_RETURN_IF_ERROR(opened);
    journal = std::move(opened).value();
  }
  auto impl =
      std::make_unique<Impl>(store, clock, metadata, blocks, std::move(options),
                             std::move(filter).value(), std::move(staging), std::move(journal));
  // Before the first request is served: what dead mounts closed reaches S3 first.
  if (impl->journal) RecoverJournal(*impl->journal, impl->store, impl->uploader);
  return std::unique_ptr<Filesystem>(new Filesystem(std::move(impl)));
}

Filesystem::Filesystem(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
// Files still open when the mount goes away (a signal, a lazy unmount) are uploaded as at
// their last close; what cannot be is kept on disk and logged.
Filesystem::~Filesystem() {
  impl_->DrainWriteBack();  // queued uploads and deletes first (their files have no handles)
  for (auto& [inode, file] : impl_->handles.OpenFiles()) {
    if (!file->dirty()) continue;
    Status flushed = impl_->FlushFile(inode, *file);
    if (!flushed.ok()) {
      spdlog::error("'{}' was still open at unmount and could not be uploaded: {}; {}",
                    file->path(), flushed.error().ToString(), file->Salvage());
    }
  }
}

Result<Entry> Filesystem::Lookup(InodeId parent, std::string_view name) {
  auto parent_info = impl_->InodeOf(parent);
  S3M_RETURN_IF_ERROR(parent_info);
  if (parent_info->type != FileType::kDirectory) {
    return MakeError(ErrorCode::kNotDirectory, "lookup in a file");
  }
  if (name.size() > 255) return MakeError(ErrorCode::kNameTooLong, "name over 255 bytes");
  const Entry negative{0, {}, impl_->options.negative_ttl, std::chrono::nanoseconds(0)};
  if (!IsRepresentableName(name)) return negative;
  const std::string path = impl_->ChildPath(*parent_info, name);
  S3M_RETURN_IF_ERROR(impl_->KeyFits(path, false));
  impl_->lookup_readahead.LookingUp(Impl::ParentOf(path), Impl::NameOf(path),
                                    impl_->clock.Monotonic());
  const uint64_t retirements = impl_->handles.retirements();
  auto entry = impl_->ResolveInDirectory(path);
  S3M_RETURN_IF_ERROR(entry);
  if (entry->kind == PathKind::kMissing ||
      !impl_->filter.IsVisible(path, entry->kind == PathKind::kDirectory)) {
    return negative;
  }
  if (entry->kind == PathKind::kDirectory && !entry->marker_present && !impl_->filter.empty()) {
    // Only hidden keys below it: it is not there (docs/SEMANTICS.md, filters).
    auto visible =
        HasVisibleContents(impl_->store, impl_->filter, path, impl_->keys.KeyFor(path) + "/");
    S3M_RETURN_IF_ERROR(visible);
    if (!*visible) return negative;
  }
  const Attributes attributes = impl_->AttributesFor(path, *entry);
  auto info = impl_->inodes.Acquire(parent, std::string(name), attributes.type);
  S3M_RETURN_IF_ERROR(info);
  return impl_->EntryFor(info->id, impl_->OverlayResolved(info->id, path, attributes, retirements));
}

void Filesystem::Forget(InodeId inode, uint64_t count) { impl_->inodes.Forget(inode, count); }

Result<Entry> Filesystem::GetAttr(InodeId inode) {
  auto info = impl_->InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (inode == kRootInode) {
    Attributes attributes = impl_->root.Get();
    impl_->DirectoryAttributes("", attributes);
    return Entry{kRootInode, attributes, impl_->options.stat_ttl, impl_->options.stat_ttl};
  }
  if (auto file = impl_->handles.OpenFileOf(inode))
    return impl_->EntryFor(inode, file->attributes());
  auto entry = impl_->ResolveExisting(*info, false);
  S3M_RETURN_IF_ERROR(entry);
  return impl_->EntryFor(inode, impl_->AttributesFor(info->path, *entry));
}

Result<std::string> Filesystem::ReadLink(InodeId inode) {
  auto info = impl_->InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (info->type != FileType::kSymlink) return MakeError(ErrorCode::kInvalidArgument, "not a link");
  StringSink sink;
  auto got = impl_->store.GetObject(
      {.key = impl_->keys.KeyFor(info->path), .range = ByteRange{0, kMaxSymlinkTarget - 1}}, sink);
  S3M_RETURN_IF_ERROR(got);
  return sink.Take();
}

Result<std::string> Filesystem::GetXattr(InodeId inode, std::string_view name) {
  auto info = impl_->InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (inode == kRootInode) return MakeError(ErrorCode::kNoData, "no such attribute");
  // Tools ask for security.* and system.* names on every file (ls -l: SELinux labels, ACLs).
  // Only user.* names are worth a HEAD; others are answered from what is already known.
  const bool user_name = name.starts_with("user.");
  if (auto file = impl_->handles.OpenFileOf(inode)) {
    return s3mount::GetXattr(ObjectInfo{.user_metadata = file->metadata()}, name);
  }
  auto entry =
      user_name ? impl_->ResolveExisting(*info, true) : impl_->ResolveExisting(*info, false);
  S3M_RETURN_IF_ERROR(entry);
  if (!user_name && !entry->has_user_metadata) {
    return MakeError(ErrorCode::kNoData, "no such attribute");
  }
  return s3mount::GetXattr(entry->object, name);
}

Result<std::vector<std::string>> Filesystem::ListXattr(InodeId inode) {
  auto info = impl_->InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (inode == kRootInode) return std::vector<std::string>{};
  if (auto file = impl_->handles.OpenFileOf(inode)) {
    return XattrNamesFor(ObjectInfo{.user_metadata = file->metadata()});
  }
  auto entry = impl_->ResolveExisting(*info, true);
  S3M_RETURN_IF_ERROR(entry);
  return XattrNamesFor(entry->object);
}

FilesystemStats Filesystem::StatFs() const { return FilesystemStats{}; }

Result<uint64_t> Filesystem::OpenDir(InodeId inode) {
  auto info = impl_->InodeOf(inode);
  S3M_RETURN_IF_ERROR(info);
  if (info->type != FileType::kDirectory) {
    return MakeError(ErrorCode::kNotDirectory, "'" + info->path + "' is not a directory");
  }
  auto handle = std::make_shared<DirectoryHandle>();
  handle->inode = inode;
  handle->parent = info->parent;
  handle->path = info->path;
  handle->pending = impl_->overlay.ChildrenOf(info->path);
  handle->stream = std::make_unique<DirectoryStream>(impl_->store, impl_->clock, impl_->metadata,
                                                     impl_->listings, impl_->keys, impl_->filter,
                                                     impl_->warnings, info->path);
  return impl_->handles.AddDirectory(std::move(handle));
}

Status Filesystem::ReadDir(uint64_t handle_id, uint64_t offset, bool plus,
                           const std::function<bool(const DirectoryEntry&)>& add) {
  std::shared_ptr<DirectoryHandle> handle = impl_->handles.DirectoryOf(handle_id);
  if (!handle) return MakeError(ErrorCode::kInvalidArgument, "bad handle");
  std::lock_guard lock(handle->mu);
  // With per-object metadata each listed file needs a HEAD: they run in the background,
  // up to readahead::kListingMaxWindow entries ahead of the reply being built, while the reply
  // waits only for its own entries' answers; the next LIST page is read ahead in either mode.
  const bool heads_needed = plus && impl_->options.object_metadata;
  size_t replied = 0;
  for (uint64_t position = offset;; ++position) {
    DirectoryEntry out;
    out.next_offset = position + 1;
    if (position < 2) {  // "." and "..": no lookup reference
      out.name = position == 0 ? "." : "..";
      out.entry = *impl_->DotEntry(position == 0 ? handle->inode : handle->parent);
      if (!add(out)) return OkStatus();
      continue;
    }
    const uint64_t index = position - 2;
    auto listed = impl_->DirectoryEntryAt(*handle, index);
    S3M_RETURN_IF_ERROR(listed);
    if (!listed->has_value()) return OkStatus();
    if ((*listed)->entry.kind == PathKind::kMissing) continue;
    const ListedHeads heads = heads_needed ? ListedHeads::kAll
                              : plus       ? ListedHeads::kInDoubt
                                           : ListedHeads::kNone;
    handle->readahead.Advance(*handle->stream, index, heads, impl_->metadata_pool, impl_->resolver,
                              impl_->overlay, impl_->prefetcher);
    // A file this mount created and has not uploaded yet has nothing to HEAD: its open file
    // says what it is. Asked now, not at opendir: its upload may have run since (a
    // write-back upload), and then it is described like any other object.
    const uint64_t retirements = impl_->handles.retirements();
    std::optional<PathEntry> pending;
    if (handle->pending.contains((*listed)->name)) pending = impl_->PendingFile((*listed)->path);
    // A zero-byte key may be a directory object: readdirplus must know (it gives the type of
    // the inode), plain readdir says "unknown" instead (docs/SEMANTICS.md).
    const bool may_be_directory = PathResolver::MayBeDirectoryObject((*listed)->entry);
    const bool head_it = (heads_needed || (plus && may_be_directory)) && !pending;
    out.name = (*listed)->name;
    PathEntry entry = (*listed)->entry;
    bool described = true;  // the attributes are all there is to know
    if (head_it && replied >= readahead::kEarlyReplyEntries && !impl_->MetadataKnown(**listed)) {
      return OkStatus();
    }
    ++replied;
    if (pending) {
      entry = *std::move(pending);
    } else if (head_it) {
      auto headed = impl_->ListedMetadata(**listed);
      if (headed.has_value()) entry = std::move(*headed);
      described = headed.has_value();
    } else if (auto cached = impl_->metadata.Lookup((*listed)->path, impl_->clock.Monotonic());
               cached.has_value() && PathResolver::Describes(*cached, entry.kind)) {
      entry = *cached;
    }
    const Attributes attributes = impl_->AttributesFor((*listed)->path, entry);
    if (!plus) {
      out.entry.attributes = attributes;
      out.type_unknown = entry.kind == PathKind::kFile && PathResolver::MayBeDirectoryObject(entry);
      if (!add(out)) return OkStatus();
      continue;
    }
    auto info = impl_->inodes.Acquire(handle->inode, out.name, attributes.type);
    S3M_RETURN_IF_ERROR(info);
    out.entry = impl_->EntryFor(
        info->id, impl_->OverlayResolved(info->id, (*listed)->path, attributes, retirements));
    // Without its metadata the kernel must not keep the listing's guess: it asks again.
    if (!described) out.entry.attr_timeout = std::chrono::nanoseconds(0);
    if (!add(out)) {
      impl_->inodes.Forget(info->id, 1);  // not replied: the kernel holds no reference
      return OkStatus();
    }
  }
}

void Filesystem::ReleaseDir(uint64_t handle) {
  auto taken = impl_->handles.TakeDirectory(handle);
  if (taken) taken->readahead.Cancel();  // its queued HEADs are dropped
}

std::string Filesystem::staging_directory() const {
  return impl_->staging ? impl_->staging->directory() : std::string();
}

size_t Filesystem::inode_count() const { return impl_->inodes.size(); }

}  // namespace s3mount
