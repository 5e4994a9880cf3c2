// Filesystem::Impl: the state behind a Filesystem, shared by its source files
// (filesystem.cc: lookups, attributes, reads; filesystem_write.cc: open files, writes,
// setattr, xattrs; filesystem_namespace.cc: create, mkdir, unlink, rmdir, rename, links).
//
// LOCK ORDERING: handles_mu, then an OpenFile's mutex is never taken while handles_mu is
// held (handles_mu guards the maps only); an OpenFile's mutex may be held while handles_mu
// is taken (a flush records what it stored); pending_mu, the caches' and the inode table's
// locks are leaves. The write-back queue's lock is a leaf; its operations run without it.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "fs/block_fetcher.h"
#include "fs/directory_readahead.h"
#include "fs/directory_stream.h"
#include "fs/file_reader.h"
#include "fs/inode_table.h"
#include "fs/listing_cache.h"
#include "fs/lookup_readahead.h"
#include "fs/memory_budget.h"
#include "fs/metadata_prefetcher.h"
#include "fs/object_uploader.h"
#include "fs/open_file.h"
#include "fs/path_resolver.h"
#include "fs/staging.h"
#include "fs/write_back_queue.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

struct DirectoryHandle {
  InodeId inode = 0;
  InodeId parent = 0;
  std::string path;
  std::mutex mu;
  std::unique_ptr<DirectoryStream> stream;  // guarded by mu
  // Entries below it this mount created and S3 may not hold yet (at opendir), by name: the
  // listed ones are noted in `pending_listed`, the others follow the listing (`extras`,
  // fixed once the listing first ends at index `listed_count`, so offsets stay stable).
  std::map<std::string, PathKind> pending;               // guarded by mu
  std::set<std::string> pending_listed;                  // guarded by mu
  std::optional<uint64_t> listed_count;                  // guarded by mu
  std::vector<std::pair<std::string, PathKind>> extras;  // guarded by mu
  // readdirplus read-ahead: entries below `prefetched_until` have had their HEADs queued;
  // `last_index` is the entry the last reply started at (a smaller one is a rewind).
  uint64_t prefetched_until = 0;                                        // guarded by mu
  uint64_t last_index = 0;                                              // guarded by mu
  MetadataPrefetcher::Group prefetch = MetadataPrefetcher::NewGroup();  // cancelled at release
};

// Guarded by Filesystem::Impl::handles_mu once registered.
struct FileHandle {
  InodeId inode = 0;
  std::string path;
  bool writable = false;
  // Counted in the inode's OpenFileRecord (reads and writes go through its OpenFile);
  // otherwise the handle reads one version of the object through `reader`.
  bool attached = false;
  std::shared_ptr<FileReader> reader;
};

// An inode's OpenFile and how many handles share it.
struct OpenFileRecord {
  std::shared_ptr<OpenFile> file;
  size_t handles = 0;
  // Write-back: a lookup reference taken when the last handle closed with the upload still
  // queued, so the kernel's forget cannot drop the inode (and its data) meanwhile.
  bool inode_held = false;
};

struct Filesystem::Impl {
  Impl(ObjectStore& store_in, Clock& clock_in, MetadataCache& metadata_in, BlockCache& blocks_in,
       FilesystemOptions options_in, PathFilter filter_in, std::unique_ptr<StagingArea> staging_in);
  // Background tasks use the fetcher, the resolver and the caches: they finish first.
  ~Impl();

  // filesystem.cc
  Attributes AttributesFor(const PathEntry& entry) const;
  Entry EntryFor(InodeId inode, const Attributes& attributes) const;
  Result<InodeInfo> InodeOf(InodeId inode) const;
  Result<PathEntry> ResolveExisting(const InodeInfo& info, bool need_metadata);
  // Reads ahead of a reader at entry `index`: the next LIST page, and (with `heads`) the
  // HEADs of the buffered entries up to kPrefetchWindow ahead, in the background.
  void PrefetchListing(DirectoryHandle& handle, uint64_t index, bool heads);
  // `listed` with its HEADed metadata (joining a HEAD in flight, or sending one, again if a
  // background one failed); nullopt when that could not be had (shown from the listing).
  std::optional<PathEntry> ListedMetadata(const ListedEntry& listed);
  // Whether the metadata cache already has `listed` with its HEADed metadata.
  bool MetadataKnown(const ListedEntry& listed) const;
  Result<Entry> DotEntry(InodeId inode) const;
  // `attributes` as an open file's local state says, if the inode has one.
  Attributes Overlay(InodeId inode, Attributes attributes);
  std::string ChildPath(const InodeInfo& parent, std::string_view name) const;

  // filesystem_write.cc
  std::shared_ptr<OpenFile> OpenFileOf(InodeId inode);
  uint64_t AddFileHandle(std::shared_ptr<FileHandle> handle);
  std::shared_ptr<FileHandle> FileHandleOf(uint64_t id);
  // Records what a flush stored, in the caches.
  // Read-only handles of the inode then read the new version.
  void Stored(InodeId inode, const std::string& path, const ObjectInfo& object);
  std::shared_ptr<FileReader> ReaderOf(const FileHandle& handle);
  bool HasHandles(InodeId inode);
  // The inode's OpenFile, made (from `entry`) if needed, with every read-only handle of the
  // inode attached to it: before an unlink or a replacing rename, so they keep working.
  std::shared_ptr<OpenFile> AdoptHandles(InodeId inode, const std::string& path);
  Status FlushFile(InodeId inode, OpenFile& file);
  Status ChangeXattrOf(InodeId inode, std::string_view name, std::optional<std::string_view> value,
                       XattrMode mode);
  OpenFileInit InitFor(const std::string& path, const PathEntry& entry) const;

  // filesystem_namespace.cc
  // Files created here whose first upload may not have happened: registered at create, until
  // their last close, unlink or replacement. While registered, the open file is the truth
  // for the path, whatever S3 and the caches say (it may not exist there yet).
  void AddPending(const std::string& path, InodeId inode);
  void ForgetPending(InodeId inode);
  // The pending file `inode` is now at `path` (a rename).
  void MovePending(InodeId inode, const std::string& path);
  // The entry of the pending file at `path`, from its open file; nullopt if there is none.
  std::optional<PathEntry> PendingFile(const std::string& path);
  bool HasPendingBelow(const std::string& path);
  // The names below `directory` that pending files need: files, and directories on the way.
  std::map<std::string, PathKind> PendingChildren(const std::string& directory);
  // `resolved`, or an implicit directory when S3 has nothing at `path` but pending files are
  // below it.
  Result<PathEntry> WithPendingBelow(const std::string& path, Result<PathEntry> resolved);
  // What `path` is, pending files included.
  Result<PathEntry> ResolveWithPending(const std::string& path, bool need_metadata = false);
  // Entry `index` of a directory handle: the listing, then pending entries it lacks; an
  // entry of kind kMissing is one to skip; nullopt past the end.
  Result<std::optional<ListedEntry>> DirectoryEntryAt(DirectoryHandle& handle, uint64_t index);
  // Records a new object or marker at `path` (kFile or kDirectory) in the caches.
  void Created(const std::string& path, PathKind kind, const ObjectInfo& object);
  // Records that `path` is gone.
  void Removed(const std::string& path);
  // Forgets the cached listings of every directory above `path`.
  void InvalidateListingsAbove(const std::string& path);
  static std::string NameOf(const std::string& path);
  static std::string ParentOf(const std::string& path);
  // What `path` is, using a fresh cached listing of its parent when there is one (no LIST;
  // no request at all for a name the listing does not have).
  Result<PathEntry> ResolveInDirectory(const std::string& path);
  Status RequireWritable() const;
  // The path of `name` under `parent` and what it is; kNotFound when it does not exist.
  Result<std::pair<std::string, PathEntry>> ResolveChild(InodeId parent, std::string_view name);
  // kNotEmpty unless nothing but its marker is below the directory `path`.
  Status RequireEmptyDirectory(const std::string& path);
  OpenFileServices services();
  // Rewrites the user metadata of `entry` (a file's object or a directory's marker, written
  // if the directory had none) in place; returns the object as now stored.
  Result<ObjectInfo> RewriteMetadata(const std::string& path, const PathEntry& entry,
                                     const UserMetadata& metadata);
  Result<Entry> SetObjectAttributes(const InodeInfo& info, const AttributeChanges& changes,
                                    WallTime now);
  // The path of a name about to be created under `parent`, after checking it can be
  // (kAlreadyExists if it exists).
  Result<std::string> NewChildPath(InodeId parent, std::string_view name, bool directory);
  // A regular file created without a request: an open file whose first flush uploads it.
  Result<Filesystem::Created> CreatePending(InodeId parent, std::string_view name,
                                            uint32_t permissions, OpenFlags flags,
                                            const Caller& caller);
  // Writes a new empty object (file, FIFO, socket, symlink body) or directory marker.
  Result<Entry> MakeObject(InodeId parent, std::string_view name, FileType type,
                           uint32_t permissions, const Caller& caller, std::string_view body,
                           bool exclusive);
  // The rename of a file created here and not uploaded yet (RenamePending done): its first
  // upload, under `to`; on failure it is pending under `from` again.
  Status UploadRenamed(InodeId inode, OpenFile& file, const std::string& from,
                       const std::string& to);
  Status RenameFile(InodeId parent, const std::string& from, const std::string& to,
                    const PathEntry& source);
  Status ClearRenameTarget(bool directory, const std::string& to, InodeId new_parent,
                           std::string_view new_name, RenameMode mode);
  void FollowRename(const std::vector<std::pair<InodeId, std::string>>& moved);
  Status RenameDirectory(const std::string& from, const std::string& to);

  ObjectStore& store;
  Clock& clock;
  MetadataCache& metadata;
  BlockCache& blocks;
  const FilesystemOptions options;
  const KeyMapper keys;
  const PathFilter filter;
  ThreadPool metadata_pool;
  ThreadPool data_pool;
  ThreadPool upload_pool;
  PathResolver resolver;
  MetadataPrefetcher prefetcher;  // after resolver: its HEADs use it
  BlockFetcher fetcher;
  ListingCache listings;
  DirectoryReadahead directory_readahead;  // its GETs run on data_pool
  LookupReadahead lookup_readahead;        // its HEADs run on the prefetcher
  InodeTable inodes;
  NameWarnings warnings;
  const WallTime mount_time;
  std::unique_ptr<StagingArea> staging;  // null on a read-only mount
  MemoryBudget memory;
  ObjectUploader uploader;

  std::mutex handles_mu;
  uint64_t next_handle = 1;                                          // guarded by handles_mu
  std::map<uint64_t, std::shared_ptr<DirectoryHandle>> directories;  // guarded by handles_mu
  std::map<uint64_t, std::shared_ptr<FileHandle>> files;             // guarded by handles_mu
  std::map<InodeId, OpenFileRecord> open_files;                      // guarded by handles_mu
  std::mutex pending_mu;
  std::map<std::string, InodeId> pending_creates;  // guarded by pending_mu: path -> inode

  // filesystem_write_back.cc (-o writeback; `writeback` is null without it)
  // Queues the upload of `file` (coalesced with one queued and not started). Until it has
  // succeeded, the inode's OpenFileRecord stays (with no handles), so this mount shows and
  // reads the file as written.
  // `wait_for_room`: false from an operation of the queue itself.
  void QueueUpload(InodeId inode, const std::shared_ptr<OpenFile>& file, bool wait_for_room = true);
  // Queues the DELETE of the object at `path`; until it has run, the path shows as missing
  // whatever S3 lists.
  void QueueDelete(const std::string& path);
  // Waits until nothing is queued for `path` or below it (no-op without write-back).
  void WaitForWriteBack(const std::string& path);
  // The same for the child `name` of directory `parent`, if `parent` is known.
  void WaitForWriteBack(InodeId parent, std::string_view name);
  // Whether a DELETE of `path` is queued and has not run yet.
  bool DeleteQueued(const std::string& path);
  // At a last close with the upload queued: takes the record's lookup reference.
  void HoldInode(InodeId inode);
  // Erases the inode's record (with no handles left): its held reference and its pending
  // registration go too. handles_mu must be held.
  void EraseRecordLocked(std::map<InodeId, OpenFileRecord>::iterator record);
  // After a queued upload: the record goes once the file is clean and has no handles.
  void RetireIfIdle(InodeId inode, const std::shared_ptr<OpenFile>& file);
  void GaveUpUpload(InodeId inode, const std::shared_ptr<OpenFile>& file, const Error& error);
  // Drains the queue and logs what it did.
  void DrainWriteBack();
  std::unique_ptr<WriteBackQueue> writeback;
  std::map<std::string, int> queued_deletes;  // guarded by pending_mu: path -> DELETEs queued

  // filesystem_events.cc
  // Whether an event with `sequencer` for `key` is older than (or the same as) one already
  // applied; records it otherwise. Events without a sequencer are always applied.
  bool AlreadyApplied(const std::string& key, const std::string& sequencer);
  // Whether the caches already hold what the event says: the echo of this mount's own write.
  bool AlreadyKnown(const std::string& path, bool marker, const ObjectChange& change);
  // The kernel's view of `path`: walked from the root through the inodes the kernel knows.
  // The first component it does not know is a dentry to drop (a negative one, perhaps); when
  // it knows them all, the last one's dentry and inode go, and its parent directory's inode.
  // `with_directories`: the dentries of the known directories on the way go too.
  KernelInvalidations KernelViewOf(const std::string& path, bool with_directories) const;
  // The newest sequencer applied per key, to skip events that arrive
  // late or twice (bounded: the oldest keys are forgotten first).
  std::mutex events_mu;
  std::map<std::string, std::string> applied_sequencers;  // guarded by events_mu
  std::list<std::string> sequencer_order;                 // guarded by events_mu; oldest first
};

}  // namespace s3mount
