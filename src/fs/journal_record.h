// JournalRecord: one entry of the write journal (docs/ARCHITECTURE.md, "Write journal"): what
// a mount must not lose if its process dies, with enough to act on it at the next mount.
//   - kUpload: a file whose close returned under -o writeback and whose upload has not run:
//     its key, its bytes (ranges of a local data file, the rest from the object it replaced
//     up to `base_limit`, zeros after that), its Content-Type and s3fs metadata, and the ETag
//     of the object it replaced (none for a new file). Recovery uploads it unless S3 changed.
//   - kStaged: bytes of a file not closed yet (or whose upload failed) in a local data file:
//     kept and reported, never uploaded.
//   - kMultipart: a multipart upload in progress: aborted by recovery.
// The text form is one `field value` per line, values %-escaped, so that a record written by
// hand or cut short is refused as a whole rather than misread.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/range_set.h"
#include "s3mount/common/result.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

enum class JournalKind { kUpload, kStaged, kMultipart };

struct JournalRecord {
  JournalKind kind = JournalKind::kStaged;
  std::string key;                // the S3 key
  std::string path;               // the file's path in the mount, for the log
  std::string data_file;          // local bytes of the file ("" = none)
  std::vector<ByteSpan> written;  // the ranges of the file that `data_file` holds
  uint64_t size = 0;              // the file's size
  // kUpload: the object S3 held when the file was written (the one it replaces), nullopt for
  // a file that did not exist; bytes below `base_limit` not in `written` are that object's.
  std::optional<std::string> replaces_etag;
  uint64_t base_limit = 0;
  std::string content_type;
  UserMetadata metadata;
  std::string upload_id;    // kMultipart
  std::string kept_reason;  // why it is kept rather than acted on ("" while live)

  bool operator==(const JournalRecord&) const = default;
};

std::string_view JournalKindName(JournalKind kind);
std::string EncodeJournalRecord(const JournalRecord& record);
// kInvalidResponse when `text` is not a whole record.
Result<JournalRecord> DecodeJournalRecord(std::string_view text);

}  // namespace s3mount
