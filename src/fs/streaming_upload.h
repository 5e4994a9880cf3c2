// StreamingUpload: a new (or truncated) file written sequentially from offset 0 goes to S3
// while the application writes. Bytes collect in a tail buffer; each time the tail fills a
// part, the part is handed to the upload pool (the multipart upload is created with the
// first one) and the writer carries on. Part sizes grow (8 MiB for parts 1-1000, doubling
// every 1,000 parts) so that 10,000 parts reach S3's 5 TiB limit. A file that never fills
// a part is one PUT at Finish.
//
// Memory: the tail and the parts in flight (kMaxPartsInFlight at most) are charged to the
// shared MemoryBudget. When the
// budget is exhausted, Append waits for this upload's own parts; when it has none in flight
// it says so (kNoSpace) and the caller spills the file to a staging file instead.
//
// Failures: a part that fails (after the store's retries) keeps its bytes; Finish uploads it
// again before completing, so a later flush/fsync can succeed. Nothing is dropped until the
// upload completes or is aborted; Salvage writes what is still held to a local file.
// After a Complete that failed, nothing (part or Complete) is sent to the upload before
// ListParts shows it still open (CheckCompletion); an upload found completed or gone takes
// nothing more: Append says kNoSpace (the caller leaves streaming, with its local copy) and
// Finish kNoSuchUpload (the caller uploads the file anew from its local copy), unless S3 holds
// exactly the object this stream would complete.
//
// Thread-safety: the owner (an OpenFile) serializes calls; part tasks report through mu_.
// LOCK ORDERING: mu_ is a leaf.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fs/memory_budget.h"
#include "fs/object_uploader.h"
#include "fs/staging.h"
#include "fs/write_journal.h"
#include "s3mount/common/buffer_pool.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/s3/object_store.h"
#include "s3mount/s3/outcome_check.h"

namespace s3mount {

class StreamingUpload {
 public:
  // Parts of one file uploading at once; the writer waits for one to finish beyond that.
  static constexpr size_t kMaxPartsInFlight = 4;

  StreamingUpload(ObjectStore& store, ThreadPool& pool, MemoryBudget& memory,
                  ObjectUploader& uploader, std::string key, uint64_t first_part_size);
  // Aborts the multipart upload unless it completed or was salvaged.
  ~StreamingUpload();
  StreamingUpload(const StreamingUpload&) = delete;
  StreamingUpload& operator=(const StreamingUpload&) = delete;

  // Metadata sent with the multipart upload's creation (if it has not started yet), without
  // the s3fs mtime and ctime headers: the writes that follow change both, and an object
  // without them shows its Last-Modified, the completion time, which is after the last write.
  void SetInitialMetadata(std::string content_type, UserMetadata metadata);
  // The journal that notes the multipart upload while it is open (a crash leaves it to be
  // aborted by the next mount); null: none.
  void SetJournal(WriteJournal* journal) { journal_ = journal; }
  // Where part buffers come from and go back to once uploaded; null: plain allocations.
  void SetBuffers(BufferPool* buffers) { buffers_ = buffers; }
  // Appends at size(). kNoSpace: no memory and no part in flight (spill to staging).
  Status Append(std::string_view data);
  // Writes at `offset` in [tail_offset(), size()], extending the file if needed.
  Status WriteTail(uint64_t offset, std::string_view data);
  // Completes the object with `metadata`, fixed up by a server-side copy of the whole object
  // if it differs from what the multipart upload was created with. When `times_from_writes`
  // (mtime and ctime are only those of the writes, nobody set them) those two headers are
  // left out instead of copied for. Returns what was stored. On error everything is kept for
  // a retry.
  struct Finished {
    PutObjectResponse response;
    UserMetadata metadata;  // what the object carries
  };
  Result<Finished> Finish(const std::string& content_type, const UserMetadata& metadata,
                          bool times_from_writes);

  uint64_t size() const { return tail_offset_ + tail_.size(); }
  // Bytes before this offset were handed to part uploads.
  uint64_t tail_offset() const { return tail_offset_; }
  const std::string& tail() const { return tail_; }
  bool started() const { return upload_id_.has_value(); }
  const std::string& key() const { return key_; }
  // Gives up the tail (only valid when !started()); releases its memory.
  std::string TakeTail();
  // Writes the bytes still held (failed parts and the tail) into `file` at their offsets and
  // leaves the multipart upload open (it holds the parts already uploaded). Returns a
  // description for the log.
  std::string Salvage(StagingFile& file);

 private:
  struct HeldPart {
    uint64_t offset = 0;
    std::shared_ptr<const std::string> bytes;
    uint64_t charged = 0;  // memory held for it
  };
  uint64_t PartSize(int number) const;
  Status StartIfNeeded();
  // After a failed Complete: asks S3 whether the upload is still open (clears complete_sent_)
  // or completed/gone (sets gone_).
  Result<CompletionState> ResolveEarlierComplete();
  // Sends what is still held and completes the upload (sets resolved_), unless an earlier
  // Complete is found to have applied.
  Status CompleteUpload();
  Status HandOffTail();
  // A part's upload ended (on the pool, or refused by it): done, or kept for Finish to retry.
  void PartDone(int number, HeldPart held, Result<std::string> etag);
  Status ChargeTail(uint64_t bytes);
  void WaitForParts();
  void ReleaseAll();

  ObjectStore& store_;
  ThreadPool& pool_;
  MemoryBudget& memory_;
  ObjectUploader& uploader_;
  const std::string key_;
  const uint64_t first_part_size_;
  std::string content_type_;
  UserMetadata initial_metadata_;
  std::optional<std::string> upload_id_;
  int next_part_ = 1;
  uint64_t tail_offset_ = 0;
  std::string tail_;
  uint64_t tail_charged_ = 0;  // memory held for the tail
  bool finished_ = false;
  bool salvaged_ = false;
  bool complete_sent_ = false;  // a Complete failed and its outcome is not known yet
  bool gone_ = false;           // the upload completed or vanished: send nothing, abort nothing
  std::optional<PutObjectResponse> resolved_;  // the completed object (ours)
  WriteJournal* journal_ = nullptr;
  BufferPool* buffers_ = nullptr;
  uint64_t journal_note_ = 0;  // the upload's journal record

  std::mutex mu_;
  std::condition_variable part_done_;
  size_t in_flight_ = 0;               // guarded by mu_
  std::map<int, CompletedPart> done_;  // guarded by mu_
  std::map<int, HeldPart> failed_;     // guarded by mu_
  std::optional<Error> part_error_;    // guarded by mu_
};

}  // namespace s3mount
