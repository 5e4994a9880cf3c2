// HandleTable: the mount's open handles. Directory handles (a listing being read); file
// handles; and per inode with writing (or adopted) handles, the OpenFile they all share,
// with how many handles use it and whether write-back holds a lookup reference for it
// (a closed file whose upload is still queued). A read-only handle of a file nobody writes
// reads on its own through a FileReader pinned to one version of the object, until an
// unlink or replacement makes it join the inode's OpenFile (AdoptReaders).
//
// It only keeps these maps: it never sends a request, never waits for a file, and never
// calls into another component; the Filesystem acts on what it returns (e.g. gives back a
// lookup reference a retired record held).
//
// Thread-safety: every method may be called from any thread.
// LOCK ORDERING: mu_ is taken after an OpenFile's operation mutex (a flush records what it
// stored) and before an OpenFile's view mutex (dirty() is asked under it); factories passed
// in run under mu_ and only construct objects.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fs/directory_stream.h"
#include "fs/file_reader.h"
#include "fs/open_file.h"
#include "fs/readahead/listing_readahead.h"

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
  ListingReadahead readahead;  // Advance guarded by mu; cancelled at release
};

// Fixed at open, except `attached`, `reader` and `delivered`, which the HandleTable changes
// under its lock.
struct FileHandle {
  InodeId inode = 0;
  std::string path;
  bool writable = false;
  // The open told the kernel to keep its page cache: pages of the pinned version may be read
  // from it without reaching `reader`, so the handle cannot move to another version.
  bool kernel_cache_kept = false;
  // Counted in the inode's OpenFile record (reads and writes go through its OpenFile);
  // otherwise the handle reads one version of the object through `reader`.
  bool attached = false;
  std::shared_ptr<FileReader> reader;
  // Bytes read through `reader` were returned (read without the lock once set).
  std::atomic<bool> delivered{false};
};

class HandleTable {
 public:
  using FileFactory = std::function<std::shared_ptr<OpenFile>()>;

  uint64_t AddDirectory(std::shared_ptr<DirectoryHandle> handle);
  std::shared_ptr<DirectoryHandle> DirectoryOf(uint64_t id) const;
  // Removes the handle and returns it (null if unknown).
  std::shared_ptr<DirectoryHandle> TakeDirectory(uint64_t id);

  // A file handle. An attached one must have been counted by AttachHandle/AttachNewFile.
  uint64_t AddFile(std::shared_ptr<FileHandle> handle);
  std::shared_ptr<FileHandle> FileOf(uint64_t id) const;
  struct Released {
    std::shared_ptr<FileHandle> handle;  // null if the id was unknown
    std::shared_ptr<OpenFile> last;      // the inode's OpenFile, if this was its last handle
  };
  Released TakeFile(uint64_t id);
  std::shared_ptr<FileReader> ReaderOf(const FileHandle& handle) const;
  // A read through `used` succeeded: records that the handle delivered bytes, unless it
  // reads through another reader by now (ReplaceUndelivered, ReadersFollow): false then, and
  // the read must be done again.
  bool MarkDelivered(FileHandle& handle, const FileReader* used);
  // The version `used` reads is gone: if the handle has delivered nothing, it reads through
  // `make()` from now on (unless another read replaced `used` already: its reader then).
  // Null if the handle has delivered bytes (or reads through an OpenFile).
  std::shared_ptr<FileReader> ReplaceUndelivered(
      FileHandle& handle, const FileReader* used,
      const std::function<std::shared_ptr<FileReader>()>& make);

  std::shared_ptr<OpenFile> OpenFileOf(InodeId inode) const;
  // Whether the inode has an OpenFile or any handle.
  bool HasHandles(InodeId inode) const;
  std::vector<std::pair<InodeId, std::shared_ptr<OpenFile>>> OpenFiles() const;
  // Counts one more handle of the inode's OpenFile, made by `make` if it has none. `seen` is
  // the OpenFile the caller found (OpenFileOf), or null if it found none: when the inode's
  // OpenFile is no longer that one (retired since, by a write-back upload), nothing is
  // attached and the result is null: the caller looks again.
  std::shared_ptr<OpenFile> AttachHandle(InodeId inode, const OpenFile* seen,
                                         const FileFactory& make);
  // A file just created: `file` with one handle. False, and nothing changes, when the inode
  // has an OpenFile already (still open under a name S3 lost).
  bool AttachNewFile(InodeId inode, std::shared_ptr<OpenFile> file);
  // Whether some read-only handle of the inode reads on its own.
  bool HasOwnReaders(InodeId inode) const;
  // Every read-only handle of the inode joins its OpenFile, made by `make(version)` from the
  // version the first of them reads if there is none. The OpenFile, or null if there is
  // neither an OpenFile nor a reader.
  std::shared_ptr<OpenFile> AdoptReaders(
      InodeId inode, const std::function<std::shared_ptr<OpenFile>(const ObjectVersion&)>& make);
  // The read-only handles of the inode that read on their own read through `make()` now (a
  // new version was stored).
  void ReadersFollow(InodeId inode, const std::function<std::shared_ptr<FileReader>()>& make);

  // Write-back: whether the inode's record has no handles and holds no lookup reference yet
  // (a last close whose upload is queued); MarkHeld records that it holds one now, false if
  // that is no longer so (the caller gives the reference back).
  bool NeedsHold(InodeId inode) const;
  bool MarkHeld(InodeId inode);
  // Erases the inode's record if it has no handles and its OpenFile is `file` (any, when
  // null) and, with `clean_only`, is not dirty.
  enum class Retire { kErased, kInUse, kDirty };
  struct Retired {
    Retire outcome = Retire::kInUse;
    bool inode_held = false;  // kErased: the record held a lookup reference, to give back
  };
  Retired RetireIdle(InodeId inode, const OpenFile* file, bool clean_only);
  // How many records RetireIdle has erased so far: an answer resolved before a retirement may
  // predate the upload that retired the record (the caches know the upload by then).
  uint64_t retirements() const;  // NOLINT(readability-identifier-naming): accessor

 private:
  struct Record {
    std::shared_ptr<OpenFile> file;
    size_t handles = 0;
    bool inode_held = false;
  };

  mutable std::mutex mu_;
  uint64_t next_handle_ = 1;                                          // guarded by mu_
  std::map<uint64_t, std::shared_ptr<DirectoryHandle>> directories_;  // guarded by mu_
  std::map<uint64_t, std::shared_ptr<FileHandle>> files_;             // guarded by mu_
  std::map<InodeId, Record> open_files_;                              // guarded by mu_
  uint64_t retirements_ = 0;                                          // guarded by mu_
};

}  // namespace s3mount
