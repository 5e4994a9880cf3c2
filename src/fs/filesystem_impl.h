// Filesystem::Impl: the orchestrator behind a Filesystem. It owns the components, each with
// its own state and lock (the handle table, the local overlay, the inode table, the caches,
// the resolver, the readahead planners, the write-back queue, the applied event sequencers),
// and the operations that combine them, spread by operation over the filesystem_*.cc files
// (filesystem.cc: lookups, attributes, readdir; filesystem_write.cc: open files, writes,
// setattr, xattrs; filesystem_namespace.cc: create, mkdir, unlink, rmdir, links;
// filesystem_rename.cc; filesystem_write_back.cc; filesystem_events.cc).
//
// It holds no lock of its own. LOCK ORDERING (docs/ARCHITECTURE.md): an OpenFile's operation
// mutex, then the HandleTable's, then an OpenFile's view mutex; every other component's lock
// is a leaf. No component lock is held across a request or a disk write.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "fs/applied_sequencers.h"
#include "fs/attribute_changes.h"
#include "fs/block_fetcher.h"
#include "fs/directory_stream.h"
#include "fs/directory_times.h"
#include "fs/file_reader.h"
#include "fs/handle_table.h"
#include "fs/inode_table.h"
#include "fs/listing_cache.h"
#include "fs/local_overlay.h"
#include "fs/memory_budget.h"
#include "fs/object_uploader.h"
#include "fs/open_file.h"
#include "fs/path_resolver.h"
#include "fs/readahead/directory_readahead.h"
#include "fs/readahead/lookup_readahead.h"
#include "fs/readahead/metadata_prefetcher.h"
#include "fs/staging.h"
#include "fs/write_back_queue.h"
#include "fs/write_journal.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

struct Filesystem::Impl {
  Impl(ObjectStore& store_in, Clock& clock_in, MetadataCache& metadata_in, BlockCache& blocks_in,
       FilesystemOptions options_in, PathFilter filter_in, std::unique_ptr<StagingArea> staging_in,
       std::unique_ptr<WriteJournal> journal_in);
  // Background tasks use the fetcher, the resolver and the caches: they finish first.
  ~Impl();

  // filesystem.cc
  // The attributes of `path` as `entry` says; a directory's with its link count (2 and its
  // subdirectories, when its listing is cached) and the times this mount gave it.
  Attributes AttributesFor(const std::string& path, const PathEntry& entry) const;
  // What AttributesFor adds to a directory's attributes (the root's too).
  void DirectoryAttributes(const std::string& path, Attributes& attributes) const;
  // An entry was created in, removed from or renamed into or out of `directory`.
  void EntriesChanged(const std::string& directory);
  // The directory `path` was removed: its parent changed, and its own times are forgotten.
  void DirectoryRemoved(const std::string& path);
  Entry EntryFor(InodeId inode, const Attributes& attributes) const;
  Result<InodeInfo> InodeOf(InodeId inode) const;
  Result<PathEntry> ResolveExisting(const InodeInfo& info, bool need_metadata);
  // `listed` with its HEADed metadata (joining a HEAD in flight, or sending one, again if a
  // background one failed); nullopt when that could not be had (shown from the listing).
  std::optional<PathEntry> ListedMetadata(const ListedEntry& listed);
  // Whether the metadata cache already has `listed` with its HEADed metadata.
  bool MetadataKnown(const ListedEntry& listed) const;
  Result<Entry> DotEntry(InodeId inode) const;
  // `attributes` as an open file's local state says, if the inode has one.
  Attributes Overlay(InodeId inode, Attributes attributes);
  // Overlay for `attributes` of `path` resolved when handles.retirements() was `retirements`:
  // when an open file of it was retired since (its upload ran after they were resolved, and
  // told the caches), the metadata cache's newer answer.
  Attributes OverlayResolved(InodeId inode, const std::string& path, Attributes attributes,
                             uint64_t retirements);
  std::string ChildPath(const InodeInfo& parent, std::string_view name) const;
  // kNameTooLong when `path`'s key (with the marker's '/' for a directory) would pass S3's
  // 1,024-byte limit: POSIX's ENAMETOOLONG, as for a path over PATH_MAX.
  Status KeyFits(const std::string& path, bool directory) const;

  // filesystem_write.cc
  // Records what a flush stored, in the caches.
  // Read-only handles of the inode then read the new version.
  void Stored(InodeId inode, const std::string& path, const ObjectInfo& object);
  // The inode's OpenFile, made (from `entry`) if needed, with every read-only handle of the
  // inode attached to it: before an unlink or a replacing rename, so they keep working.
  std::shared_ptr<OpenFile> AdoptHandles(InodeId inode, const std::string& path);
  Status FlushFile(InodeId inode, OpenFile& file);
  // The version `gone` read is no longer in S3: a handle that has delivered nothing and
  // whose open dropped the kernel's page cache moves to the object as S3 has it now (one
  // HEAD). Whether it did; `effects` says what the kernel must drop.
  bool ReadNewVersion(FileHandle& handle, const FileReader& gone, ReadEffects* effects);
  Status ChangeXattrOf(InodeId inode, std::string_view name, std::optional<std::string_view> value,
                       XattrMode mode);
  OpenFileInit InitFor(const std::string& path, const PathEntry& entry) const;

  // filesystem_namespace.cc
  // The entry of the pending file at `path`, from its open file; nullopt if there is none.
  std::optional<PathEntry> PendingFile(const std::string& path);
  // `resolved`, or an implicit directory when S3 has nothing at `path` but pending files are
  // below it.
  Result<PathEntry> WithPendingBelow(const std::string& path, Result<PathEntry> resolved);
  // What `path` is, pending files included.
  Result<PathEntry> ResolveWithPending(const std::string& path, bool need_metadata = false);
  // Entry `index` of a directory handle: the listing, then pending entries it lacks; an
  // entry of kind kMissing is one to skip; nullopt past the end.
  Result<std::optional<ListedEntry>> DirectoryEntryAt(DirectoryHandle& handle, uint64_t index);
  // Whether a listed file is known missing from a fact newer than the listing (its DELETE,
  // queued when the listing was read, has run since).
  bool DeletedSince(const ListedEntry& listed) const;
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
  // The key of the object that carries the directory `entry`'s metadata: its directory
  // object (`dir`, application/x-directory) if it has one, else its marker `dir/`.
  std::string MarkerKeyOf(const std::string& path, const PathEntry& entry) const;
  // Deletes the marker `dir/` of an empty directory and its directory object `dir`, if any.
  Status DeleteMarkers(const std::string& path, const PathEntry& entry);
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
                           bool exclusive, uint64_t rdev = 0);
  // The rename of a file created here and not uploaded yet (RenamePending done): its first
  // upload, under `to`; on failure it is pending under `from` again.
  Status UploadRenamed(InodeId inode, OpenFile& file, const std::string& from,
                       const std::string& to);
  Status RenameFile(InodeId parent, const std::string& from, const std::string& to,
                    const PathEntry& source);
  Status ClearRenameTarget(bool directory, const std::string& to, InodeId new_parent,
                           std::string_view new_name, RenameMode mode);
  void FollowRename(const std::vector<std::pair<InodeId, std::string>>& moved);
  // Moves every key below `from` (and its directory object, if `source` is one) to `to`.
  Status RenameDirectory(const std::string& from, const std::string& to, const PathEntry& source);

  ObjectStore& store;
  Clock& clock;
  MetadataCache& metadata;
  BlockCache& blocks;
  const FilesystemOptions options;
  const KeyMapper keys;
  const PathFilter filter;
  // The pools; docs/ARCHITECTURE.md has what runs on each and who may wait on whom.
  ThreadPool metadata_pool;   // a lookup's one-key LIST, LIST pages read ahead
  ThreadPool rename_pool;     // the CopyObjects of a directory rename
  ThreadPool data_pool;       // BlockFetcher GETs
  ThreadPool readahead_pool;  // DirectoryReadahead fetches (they wait for data_pool GETs)
  ThreadPool upload_pool;     // multipart parts and part copies
  PathResolver resolver;
  MetadataPrefetcher prefetcher;  // after resolver: its HEADs use it
  BufferPool buffers;             // cache blocks and upload parts; outlived by what it lends safely
  BlockFetcher fetcher;
  ListingCache listings;
  DirectoryReadahead directory_readahead;  // its fetches run on readahead_pool
  LookupReadahead lookup_readahead;        // its HEADs run on the prefetcher
  InodeTable inodes;
  NameWarnings warnings;
  const WallTime mount_time;
  RootAttributes root;  // after mount_time: it starts from it
  DirectoryTimes directory_times;
  // Null without a journal or on a read-only mount; before everything that writes to it.
  std::unique_ptr<WriteJournal> journal;
  std::unique_ptr<StagingArea> staging;  // null on a read-only mount
  MemoryBudget memory;
  ObjectUploader uploader;

  HandleTable handles;
  LocalOverlay overlay;  // files created here and not uploaded; queued DELETEs

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
  // At a last close with the upload queued: takes the record's lookup reference.
  void HoldInode(InodeId inode);
  // After the handle table retired an inode's record: its held lookup reference and its
  // registration as a local create go too.
  void Retired(InodeId inode, const HandleTable::Retired& retired);
  // After a queued upload: the record goes once the file is clean and has no handles.
  void RetireIfIdle(InodeId inode, const std::shared_ptr<OpenFile>& file);
  void GaveUpUpload(InodeId inode, const std::shared_ptr<OpenFile>& file, const Error& error);
  // Drains the queue and logs what it did.
  void DrainWriteBack();
  std::unique_ptr<WriteBackQueue> writeback;

  // filesystem_events.cc
  // Whether the caches already hold what the event says: the echo of this mount's own write.
  bool AlreadyKnown(const std::string& path, bool marker, const ObjectChange& change);
  // The kernel's view of `path`: walked from the root through the inodes the kernel knows.
  // The first component it does not know is a dentry to drop (a negative one, perhaps); when
  // it knows them all, the last one's dentry and inode go, and its parent directory's inode.
  // `with_directories`: the dentries of the known directories on the way go too.
  KernelInvalidations KernelViewOf(const std::string& path, bool with_directories) const;
  AppliedSequencers sequencers;  // of S3 events, to skip late and repeated ones
};

}  // namespace s3mount
