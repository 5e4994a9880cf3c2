// OpenFile: the state of one file while it has open handles (all handles of an inode share
// it): its size and attributes as the application sees them, and where each byte is now:
//   - in the StreamingUpload, for a new or truncated file written sequentially from 0, with a
//     local copy of every byte in the staging file while the staging area has room (so the
//     file can leave streaming, for a write out of order, a read back, a truncate, a rename
//     or an unlink, without its upload being completed: nothing is published before close);
//   - in the staging file, for bytes written out of order (RangeSet of written ranges);
//   - in S3, the `base` version, for bytes below `base_limit` not written locally;
//   - zeros, for the rest (holes and growing truncates).
// Flush makes S3 hold exactly what the application sees (content and s3fs metadata), with
// unchanged ranges copied server-side; on failure nothing local is dropped and the error is
// returned, so the next flush/fsync/close tries again.
//
// A file unlinked while open keeps working from local copies (Detach fetches what is only in
// S3); a renamed one follows its new key (Rename, after the caller flushed it).
//
// A file created by this mount starts without a `base`: S3 does not hold it yet, and its
// first flush uploads it (empty if nothing was written), with the attributes and metadata
// set meanwhile. Until then it is dirty, and a rename just changes its key (RenamePending).
//
// Thread-safety: every public method may be called from many threads. Two mutexes:
//   - mu_ serializes the operations that change the file or move its bytes (Write, Read,
//     Truncate, Flush, the attribute and metadata changes, Rename, Detach) and is held across
//     the file's own requests (this file only, never the filesystem): an upload at close;
//   - view_mu_ is a leaf held only to copy or assign the file's attributes, size, path,
//     metadata and state flags. Those fields are written with both mutexes held and read with
//     either, so the observers (attributes(), metadata(), path(), dirty(), in_store(),
//     detached()) that lookups, stat and listings call never wait for an upload or a write.
// LOCK ORDERING: mu_, then view_mu_ (a leaf); mu_ is taken before any lock of
// StreamingUpload, StagingArea, MemoryBudget.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fs/block_fetcher.h"
#include "fs/file_reader.h"
#include "fs/memory_budget.h"
#include "fs/object_uploader.h"
#include "fs/staging.h"
#include "fs/streaming_upload.h"
#include "fs/write_journal.h"
#include "s3mount/fs/attributes.h"
#include "s3mount/fs/filesystem.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

struct OpenFileServices {
  ObjectStore& store;
  ThreadPool& upload_pool;
  MemoryBudget& memory;
  ObjectUploader& uploader;
  StagingArea& staging;
  BlockFetcher& fetcher;
  size_t max_readahead = 0;
  size_t max_request = 0;
  uint64_t part_size = uint64_t{8} << 20;
  WriteJournal* journal = nullptr;  // null: nothing journaled (docs/SEMANTICS.md, "Crashes")
  BufferPool* buffers = nullptr;    // recycled part buffers; null: plain allocations
};

// What a file is when it is opened.
struct OpenFileInit {
  std::string path;  // relative to the mount root
  std::string key;
  std::optional<ObjectVersion> base;  // the object in S3 now, if any
  Attributes attributes;
  std::string content_type;
  UserMetadata metadata;  // the object's user metadata (xattrs, foreign headers...)
  // Its Cache-Control, Content-Encoding...: kept by a metadata-only rewrite (new bytes are
  // stored without them).
  StoredHeaders stored_headers;
};

class OpenFile {
 public:
  OpenFile(const OpenFileServices& services, OpenFileInit init);
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  Result<size_t> Write(uint64_t offset, std::string_view data, WallTime now);
  Result<std::vector<DataSlice>> Read(uint64_t offset, size_t size);
  Status Truncate(uint64_t size, WallTime now);

  // Uploads pending content and metadata. Returns the object as now stored, or nullopt when
  // there was nothing to upload (clean, or unlinked) and no earlier upload went unreported
  // (a stream completed by a read or an out-of-order write stores the object too).
  // `stored(path, object)`, if given, is called with what was stored before the file's
  // mutex is released, so that recording it cannot race with a Detach (unlink) or Rename.
  using StoredCallback = std::function<void(const std::string& path, const ObjectInfo& object)>;
  Result<std::optional<ObjectInfo>> Flush(WallTime now, const StoredCallback& stored = {});
  bool dirty() const;
  // At a close under -o writeback, before it returns: puts what the file holds on disk (its
  // staging file fsync'ed) with a durable journal record, so that the next mount uploads it
  // if this process dies first. Fails (and the caller uploads now instead) when the bytes are
  // not all local (a stream sent parts without a local copy) or the disk refuses. A no-op
  // without a journal or with nothing to upload.
  Status Acknowledge();
  // Whether S3 holds (or held, until an unlink) a version of this file: false for a file
  // created by this mount that was not uploaded yet.
  bool in_store() const;

  Attributes attributes() const;
  UserMetadata metadata() const;
  // truncate/chmod/chown/utimens, applied locally (uploaded by the next Flush). Returns
  // whether the file was dirty before: if not, the caller flushes now; if so, the pending
  // flush carries the change. Atomic with respect to a Flush.
  Result<bool> ChangeAttributes(const AttributeChanges& changes, WallTime now);
  // Edits the user metadata (xattrs) under the file's lock; same return as ChangeAttributes.
  // Nothing changes when `edit` fails.
  using MetadataEdit = std::function<Status(UserMetadata&)>;
  Result<bool> ChangeMetadata(const MetadataEdit& edit, WallTime now);

  std::string path() const;
  // The caller copied the (flushed) object to `key`; `etag` is the copy's.
  void Rename(std::string path, std::string key, const std::string& etag);
  // For a file not in S3 yet: follows a rename with no request (its first upload goes to
  // `key`). False when it cannot: S3 holds it, or a multipart upload under the old key began.
  // A Content-Type equal to `old_name_type` (derived from the old name) becomes
  // `new_name_type`; any other was set explicitly and stays.
  Result<bool> RenamePending(std::string path, std::string key, std::string_view old_name_type,
                             std::string_view new_name_type);
  // The object is about to be deleted: fetch what only S3 holds, then stop uploading.
  Status Detach();
  bool detached() const;
  // At the last close, when Flush failed for good: keeps what is held locally on disk and
  // says where, for the log.
  std::string Salvage();

 private:
  class Source;
  Status EnsureStagingLocked();
  Status TruncateLocked(uint64_t size, WallTime now);
  // Out of streaming mode without publishing anything (see open_file.cc).
  Status LeaveStreamingLocked();
  // Copies a streamed write into the staging file; drops the copy when it cannot be kept.
  void MirrorLocked(uint64_t offset, std::string_view data);
  Result<std::optional<ObjectInfo>> FlushLocked(WallTime now);
  Status ReadBaseLocked(uint64_t offset, size_t size, char* out);
  Status ReadLocked(uint64_t offset, size_t size, char* out);
  UserMetadata UploadMetadataLocked() const;
  ObjectInfo StoredLocked(const PutObjectResponse& put, WallTime now, UserMetadata metadata) const;
  // `stored` is the new base version, unreported until Flush hands it to its caller.
  std::optional<ObjectInfo> NewBaseLocked(ObjectInfo stored);
  // An upload Flush has not handed to its caller yet still has
  // to reach the Filesystem's caches: the file is dirty until then.
  bool DirtyLocked() const {
    return !detached_ && (content_dirty_ || metadata_dirty_ || unreported_.has_value());
  }
  // Records a content change of `new_size` bytes at `now` (mu_ held; takes view_mu_).
  void ContentChangedLocked(uint64_t new_size, WallTime now);
  // Makes the journal record say what this file must not lose now: the whole file to upload
  // once a close was acknowledged (and until it is uploaded), else its staging file's bytes,
  // else nothing (the record goes).
  Status JournalLocked(bool durable = false);
  // Drops the staging file, and its journal record first.
  void DropStagingLocked();
  // After a failed last upload: the record stays when the file goes (the data is kept).
  void KeepJournalLocked();

  const OpenFileServices services_;
  mutable std::mutex mu_;
  // A leaf: see the thread-safety note. "viewed" fields: written with mu_ and view_mu_ held,
  // read with either.
  mutable std::mutex view_mu_;
  std::string path_;                   // viewed
  std::string key_;                    // guarded by mu_
  std::optional<ObjectVersion> base_;  // guarded by mu_
  uint64_t base_limit_ = 0;            // guarded by mu_: bytes of base_ still part of the file
  uint64_t size_ = 0;                  // viewed
  Attributes attributes_;              // viewed (size in size_)
  std::string content_type_;           // guarded by mu_
  StoredHeaders stored_headers_;       // guarded by mu_
  UserMetadata metadata_;              // viewed
  bool content_dirty_ = false;         // viewed
  bool metadata_dirty_ = false;        // viewed
  bool times_set_ = false;             // utimens set mtime since the last upload; guarded by mu_
  bool detached_ = false;              // viewed
  bool in_store_ = false;              // viewed
  // What the last upload stored, until Flush returns it to the caller.
  std::optional<ObjectInfo> unreported_;     // viewed
  std::unique_ptr<StreamingUpload> stream_;  // guarded by mu_
  std::unique_ptr<StagingFile> staging_;     // guarded by mu_
  bool mirrored_ = false;  // guarded by mu_: staging_ holds every byte stream_ was given
  std::unique_ptr<FileReader> reader_;  // guarded by mu_: reads of base_
  // The write journal (guarded by mu_): this file's record id (0: none), whether a close was
  // acknowledged before the upload (write-back), whether the record outlives the file (kept
  // after a failed upload).
  uint64_t journal_id_ = 0;
  bool acknowledged_ = false;
  bool journal_kept_ = false;
};

}  // namespace s3mount
