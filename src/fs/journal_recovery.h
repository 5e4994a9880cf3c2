// Journal recovery: at mount, what mounts of the same bucket, prefix and endpoint left in the
// journal when their process died (docs/SEMANTICS.md, "Crashes"):
//   - a file closed under -o writeback and not uploaded (kUpload) is uploaded, unless S3 has
//     changed since it was written (the object's ETag is not the one it replaced, or an
//     object appeared where there was none): then it is kept, reported and not overwritten;
//   - staged data of a file that was not closed (kStaged) is kept and reported with its path;
//   - the mount's own multipart uploads that were in progress (kMultipart) are aborted by
//     their recorded upload id (other clients' uploads are never touched).
// Kept records move to the journal's kept/ directory (`s3mount journal list` shows them); a
// record whose upload or abort failed stays where it is and the next mount tries again.
//
// Thread-safety: RecoverJournal runs on the caller's thread (the mount's main thread, before
// it serves); the parts of a large upload run on the uploader's pool.
#pragma once

#include <cstddef>

#include "fs/journal_record.h"
#include "fs/object_uploader.h"
#include "fs/write_journal.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

enum class RecoveryAction {
  kUpload,       // S3 still holds what the file replaced: upload it
  kKeepChanged,  // S3 changed since: keep the data, do not overwrite
  kKeepStaged,   // data of a file never closed: keep and report
  kAbortUpload,  // an orphaned multipart upload of this mount: abort it
  kRetryLater,   // S3 could not be asked: leave the record for the next mount
};

// The decision for `record`, given S3's answer to a HEAD of its key (only asked for kUpload).
RecoveryAction DecideRecovery(const JournalRecord& record, const Result<ObjectInfo>& head);

struct RecoveryReport {
  size_t uploaded = 0;
  size_t kept = 0;
  size_t aborted = 0;
  size_t left = 0;  // left for the next mount (S3 failed)
};

RecoveryReport RecoverJournal(WriteJournal& journal, ObjectStore& store, ObjectUploader& uploader);

}  // namespace s3mount
