// Filesystem: POSIX semantics over an S3 bucket, with no FUSE types: inode numbers, lookups,
// attributes, directory streams and reads, in terms the FUSE adapter (src/fuse/) replies
// with. It sits on the metadata cache, the block cache and an ObjectStore, and is unit-tested
// against the in-memory fake store. See docs/SEMANTICS.md for how S3 maps onto POSIX here.
//
// Thread-safety: every method may be called from many FUSE threads at once. No lock is held
// across a network call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/cache/block_cache.h"
#include "s3mount/cache/metadata_cache.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"
#include "s3mount/fs/attributes.h"
#include "s3mount/fs/content_type.h"
#include "s3mount/fs/journal.h"
#include "s3mount/fs/path_rules.h"
#include "s3mount/s3/object_change.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

using InodeId = uint64_t;
inline constexpr InodeId kRootInode = 1;

struct FilesystemOptions {
  std::string prefix;  // mount prefix, normalized: "" or "some/prefix/"
  AttributeDefaults defaults;
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
  std::chrono::nanoseconds stat_ttl = std::chrono::seconds(60);
  std::chrono::nanoseconds negative_ttl = std::chrono::seconds(5);
  std::chrono::nanoseconds list_ttl = std::chrono::seconds(60);  // whole directory listings
  size_t max_cached_listing_entries = 200000;
  // Whether s3fs-style per-object metadata (x-amz-meta-mode/uid/gid/mtime) is read: then each
  // listed file costs a HEAD (many in flight at once); without it, listings say enough.
  bool object_metadata = true;
  size_t metadata_parallelism = 64;  // background HEADs of listed entries in flight
  size_t block_size = size_t{1} << 20;
  size_t max_readahead = size_t{64} << 20;
  size_t max_request_size = size_t{8} << 20;  // one ranged GET at most (a readahead step)
  size_t data_threads = 16;                   // readahead GETs in flight
  size_t metadata_threads = 16;               // HEADs and LISTs in flight
  // Small files fetched ahead of a program opening a directory's files in listing order
  // (docs/SEMANTICS.md, "Reads"); 0 turns it off.
  size_t directory_readahead_files = 32;
  bool read_only = false;

  // Writes. Staging files go to `staging_directory` (created 0700), at most
  // `staging_capacity` bytes together; write buffers (parts being filled or uploaded) of all
  // files take at most `write_memory` bytes; parts are at least `part_size` bytes and
  // `upload_threads` of them upload at once.
  std::string staging_directory;
  uint64_t staging_capacity = uint64_t{10} << 30;
  uint64_t write_memory = uint64_t{256} << 20;
  uint64_t part_size = uint64_t{8} << 20;
  size_t upload_threads = 8;
  ContentTypes content_types;  // Content-Type of new files, by extension

  // Write-back (-o writeback; off by default): close() and unlink() return once the local
  // state has the change, and its upload or DELETE runs in the background, ordered per key
  // (docs/SEMANTICS.md, "Write-back"). fsync, rename and rmdir wait for what is queued on
  // their paths; the Filesystem's destruction drains the queue. At most
  // `write_back_max_queued` operations are queued (close then waits), `write_back_threads`
  // run at once, and a failing one is tried `write_back_attempts` times.
  bool write_back = false;
  size_t write_back_max_queued = 1000;
  size_t write_back_threads = 16;
  int write_back_attempts = 4;
  std::chrono::nanoseconds write_back_backoff = std::chrono::seconds(1);
  // The write journal (docs/SEMANTICS.md, "Crashes"): in `journal_cache_dir` (empty: none),
  // for mounts of `journal_target`. Create recovers what mounts of the same target that are
  // gone left there, before it returns.
  std::string journal_cache_dir;
  JournalTarget journal_target;
  // For tests (null otherwise): called on a write-back worker after each queued operation of
  // `path` ran, before the next one of that path starts.
  std::function<void(const std::string& path)> write_back_between;
};

// Who asks for a change: new files and directories get this owner, and `umask` is cleared
// from the mode they are created with.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t umask = 0;
};

// setattr: the fields to change. `mtime_now`/`atime_now` ask for the current time.
struct AttributeChanges {
  std::optional<uint32_t> permissions;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<uint64_t> size;
  std::optional<WallTime> mtime;
  std::optional<WallTime> atime;
  bool mtime_now = false;
  bool atime_now = false;
};

struct OpenFlags {
  bool write = false;     // opened for writing (O_WRONLY or O_RDWR)
  bool truncate = false;  // O_TRUNC
};

enum class RenameMode { kReplace, kNoReplace, kExchange };
enum class XattrMode { kAny, kCreate, kReplace };

// An entry as the kernel should cache it. inode 0 means "does not exist" (a negative entry
// the kernel may cache for entry_timeout).
struct Entry {
  InodeId inode = 0;
  Attributes attributes;
  std::chrono::nanoseconds entry_timeout{0};
  std::chrono::nanoseconds attr_timeout{0};
};

struct DirectoryEntry {
  std::string name;
  uint64_t next_offset = 0;  // the offset to resume after this entry
  Entry entry;               // inode 0 for plain readdir (no lookup reference taken)
  // Plain readdir: the type is not known without a HEAD (a zero-byte key may be a directory
  // object), so d_type says DT_UNKNOWN and the reader stats it.
  bool type_unknown = false;
};

struct OpenedFile {
  uint64_t handle = 0;
  bool keep_cache = false;  // the kernel's page cache for this inode is still valid
};

// What a read learnt that the kernel must be told before the reply reaches it.
struct ReadEffects {
  // The handle found the object changed before it had delivered anything and now reads the
  // new version, at least as large as the old one: the kernel's cached attributes (its size,
  // which bounds what it lets the reader see) must be dropped. (A smaller new version needs
  // nothing: the kernel shrinks its size to the end of a short read.)
  bool kernel_attributes_stale = false;
};

// A piece of file data held by the block cache: `data` stays valid while the slice lives.
struct DataSlice {
  std::shared_ptr<const std::string> block;
  size_t offset = 0;
  size_t length = 0;
};

struct FilesystemStats {
  uint64_t block_size = 4096;
  uint64_t blocks = uint64_t{1} << 40;
  uint64_t blocks_free = uint64_t{1} << 40;
  uint64_t files = uint64_t{1} << 32;
  uint64_t files_free = uint64_t{1} << 32;
  uint32_t name_max = 255;
};

// What the kernel must forget after a change another client made (the FUSE notify calls).
struct KernelInvalidations {
  std::vector<std::pair<InodeId, std::string>> entries;  // (parent, name): its dentry
  std::vector<InodeId> inodes;                           // attributes and cached pages

  bool empty() const { return entries.empty() && inodes.empty(); }
};

class Filesystem {
 public:
  // Validates the options (include/exclude patterns); every reference must outlive it.
  // It starts its own worker threads (metadata and data pools).
  static Result<std::unique_ptr<Filesystem>> Create(ObjectStore& store, Clock& clock,
                                                    MetadataCache& metadata, BlockCache& blocks,
                                                    FilesystemOptions options);
  ~Filesystem();
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  // Takes one lookup reference on the returned inode unless it is 0.
  Result<Entry> Lookup(InodeId parent, std::string_view name);
  void Forget(InodeId inode, uint64_t count);
  Result<Entry> GetAttr(InodeId inode);
  Result<std::string> ReadLink(InodeId inode);
  Result<std::string> GetXattr(InodeId inode, std::string_view name);
  Result<std::vector<std::string>> ListXattr(InodeId inode);
  FilesystemStats StatFs() const;

  Result<uint64_t> OpenDir(InodeId inode);
  // Produces entries from `offset` (0 = start) to `add` until it returns false (the entry did
  // not fit and is produced again next time). With `plus`, each entry carries attributes and
  // one lookup reference, returned if `add` refuses it.
  Status ReadDir(uint64_t handle, uint64_t offset, bool plus,
                 const std::function<bool(const DirectoryEntry&)>& add);
  void ReleaseDir(uint64_t handle);

  // Writing opens are refused with kReadOnly on a read-only mount.
  Result<OpenedFile> Open(InodeId inode, OpenFlags flags);
  // The bytes of [offset, offset + size) that exist, as slices of cached blocks, in order.
  // A handle that has delivered nothing yet and whose open dropped the kernel's page cache
  // reads the new version if the one it pinned is gone (once, re-resolving the object; see
  // `effects`); otherwise a changed object fails with kStale (docs/SEMANTICS.md, "Reads").
  Result<std::vector<DataSlice>> Read(uint64_t handle, uint64_t offset, size_t size,
                                      ReadEffects* effects = nullptr);
  Result<size_t> Write(uint64_t handle, uint64_t offset, std::string_view data);
  // close() of a writing handle (or of the handle that created the file), and fsync() of
  // any: when they return OK, S3 holds what the application wrote. With write-back, Flush
  // queues the upload and returns at once; Fsync waits for it (or does it).
  Status Flush(uint64_t handle);
  Status Fsync(uint64_t handle);
  // The last close of a handle; pending data is uploaded (and kept locally on failure).
  void Release(uint64_t handle);

  // Namespace changes. Each takes one lookup reference on the inode it returns.
  struct Created {
    Entry entry;
    OpenedFile file;
  };
  // A new regular file, open. Without `exclusive` no request is sent: the file is uploaded
  // by its first flush/fsync (at the latest its close), and until then it exists only in
  // this mount. With `exclusive` (O_EXCL) it is written at once, conditionally (EEXIST if
  // another client has the key).
  Result<Created> Create(InodeId parent, std::string_view name, uint32_t mode, bool exclusive,
                         OpenFlags flags, const Caller& caller);
  Result<Entry> MakeDirectory(InodeId parent, std::string_view name, uint32_t mode,
                              const Caller& caller);
  // Regular files, FIFOs, sockets and devices (as s3fs stores them).
  // `rdev` is the device number of a kCharDevice or kBlockDevice (stored as s3fs does).
  Result<Entry> MakeNode(InodeId parent, std::string_view name, FileType type, uint32_t mode,
                         const Caller& caller, uint64_t rdev = 0);
  Result<Entry> MakeSymlink(InodeId parent, std::string_view name, std::string_view target,
                            const Caller& caller);
  Result<Entry> Link(InodeId inode, InodeId parent, std::string_view name);
  Status Unlink(InodeId parent, std::string_view name);
  Status RemoveDirectory(InodeId parent, std::string_view name);
  Status Rename(InodeId parent, std::string_view name, InodeId new_parent,
                std::string_view new_name, RenameMode mode);
  // chmod, chown, utimens, truncate. `handle` is the file handle of ftruncate, if any.
  Result<Entry> SetAttr(InodeId inode, const AttributeChanges& changes,
                        std::optional<uint64_t> handle);
  Status SetXattr(InodeId inode, std::string_view name, std::string_view value, XattrMode mode);
  Status RemoveXattr(InodeId inode, std::string_view name);

  // A change another client made to the bucket, from an S3 event notification: forgets what
  // the caches knew of the key (its metadata, negative entries, cached blocks), of its
  // directory's listing and of the directories above it (implicit ones may appear or
  // vanish), so that the next access asks S3. Changes outside the mount's prefix or hidden
  // by its include/exclude filters, events
  // older than one already applied to the key (by sequencer) and the echo of this mount's
  // own writes (same ETag as cached; a delete of a path known to be missing) change nothing.
  // Returns what the kernel must forget; the caller tells it, holding no lock of ours.
  KernelInvalidations ApplyRemoteChange(const ObjectChange& change);
  // The change feed recovered from an outage and may have lost events: forgets every cached
  // answer about the bucket (metadata, negative entries, listings), so that the next access
  // asks S3. Returns what the kernel must forget: every entry and inode it may hold.
  KernelInvalidations ForgetRemoteState();

  // With write-back: waits until every queued upload and DELETE has run (or given up). Also
  // done by the destructor.
  void DrainWriteBack();

  // Where staging files go ("" on a read-only mount).
  std::string staging_directory() const;
  // Number of inodes currently known (for tests of lookup accounting).
  size_t inode_count() const;

 private:
  struct Impl;
  explicit Filesystem(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace s3mount
