// WriteJournal: what this mount must not lose if its process dies (kill -9), on disk in the
// cache directory (docs/ARCHITECTURE.md, "Write journal"; docs/SEMANTICS.md, "Crashes").
//
// Layout: `cache_dir`/journal/<hash>/ per (endpoint, bucket, prefix) (JournalDirectoryFor),
// with a `target` file naming them, a `kept/` directory of records recovery set aside, and
// one `mount-PID-N/` directory per running mount holding its `lock` (flock, held for the
// mount's life) and its records (`<id>.rec`, each JournalRecord written to a temporary file
// and renamed over, so a reader sees the old record or the new one, never a torn one). Two
// live mounts of one bucket each write their own directory; a mount directory whose lock is
// free belongs to a mount that is gone, and the next mount recovers it (TakeOrphans).
//
// Thread-safety: every method may be called from many threads. LOCK ORDERING: mu_ is a leaf
// guarding only the id counter; record files are written without it (each id has one writer,
// its owner serializes).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fs/journal_record.h"
#include "s3mount/common/result.h"
#include "s3mount/common/unique_fd.h"
#include "s3mount/fs/journal.h"

namespace s3mount {

class WriteJournal {
 public:
  // Creates this mount's directory under JournalDirectoryFor(cache_dir, target) and locks it.
  static Result<std::unique_ptr<WriteJournal>> Open(const std::string& cache_dir,
                                                    const JournalTarget& target);
  // Unlocks; removes the mount's directory when no record is left (records left, of data
  // kept after a failed upload, are recovered by the next mount like those of a crash).
  ~WriteJournal();
  WriteJournal(const WriteJournal&) = delete;
  WriteJournal& operator=(const WriteJournal&) = delete;

  uint64_t NewId() { return next_id_.fetch_add(1) + 1; }
  // Writes record `id` (replacing it). `durable`: fsync'ed with its directory before it
  // returns, so it survives power loss too (what kill -9 needs is only the rename).
  Status Put(uint64_t id, const JournalRecord& record, bool durable);
  void Remove(uint64_t id);

  const JournalTarget& target() const { return target_; }
  const std::string& target_directory() const { return target_directory_; }
  const std::string& directory() const { return directory_; }

  // The journal of a mount that is gone, locked by the caller while this lives; removed
  // (if empty) when it goes.
  class Orphan {
   public:
    Orphan(std::string directory, UniqueFd lock)
        : directory_(std::move(directory)), lock_(std::move(lock)) {}
    Orphan(Orphan&&) = default;
    ~Orphan();
    struct Entry {
      std::string file;  // the record's file
      JournalRecord record;
    };
    const std::string& directory() const { return directory_; }
    std::vector<Entry> records;

   private:
    std::string directory_;
    UniqueFd lock_;
  };
  // Locks and reads every mount directory of this target whose lock is free. Records that
  // cannot be read are logged and moved to kept/ as they are.
  std::vector<Orphan> TakeOrphans();
  // Moves an orphan's record to kept/, rewritten with `reason`.
  Status Keep(const std::string& file, JournalRecord record, const std::string& reason);

 private:
  WriteJournal(JournalTarget target, std::string target_directory, std::string directory,
               UniqueFd lock)
      : target_(std::move(target)),
        target_directory_(std::move(target_directory)),
        directory_(std::move(directory)),
        lock_(std::move(lock)) {}
  std::string FileOf(uint64_t id) const;

  const JournalTarget target_;
  const std::string target_directory_;
  const std::string directory_;
  UniqueFd lock_;
  std::atomic<uint64_t> next_id_{0};
};

// Writes `text` to `path` atomically: a temporary file beside it, renamed over it; with
// `durable`, the file and the directory are fsync'ed.
Status WriteFileAtomically(const std::string& path, const std::string& text, bool durable);
// The journal's note of a multipart upload in progress (0 when there is no journal or it
// could not be written: the upload goes on without one).
uint64_t NoteMultipartUpload(WriteJournal* journal, const std::string& key,
                             const std::string& upload_id);
void ForgetJournalRecord(WriteJournal* journal, uint64_t id);

}  // namespace s3mount
