// ObjectUploader: writes a whole object of known size to S3 from an UploadSource (an open
// file's staging file, its previous version in S3 and zeros), as one PUT when it is small and
// as a multipart upload otherwise. Parts run in parallel on the upload pool under the memory
// budget; a part whose bytes are unchanged from the previous version of the object is copied
// server-side (UploadPartCopy, pinned by If-Match) instead of uploaded. A multipart upload
// that fails is aborted; the source is untouched, so the caller still holds every byte.
//
// Part sizes: at least `part_size`, and large enough that the object fits in 10,000 parts
// (S3's limit), so objects up to 5 TiB upload.
//
// Thread-safety: Upload may be called concurrently for different objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "fs/memory_budget.h"
#include "fs/write_journal.h"
#include "s3mount/common/result.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

inline constexpr uint64_t kMaxObjectSize = uint64_t{5} << 40;  // S3's 5 TiB
inline constexpr uint64_t kMaxPartSize = uint64_t{5} << 30;    // S3's 5 GiB
inline constexpr uint64_t kMaxCopySize = uint64_t{5} << 30;    // CopyObject's limit

// Where the bytes of the object come from. Read may be called from several threads at once.
class UploadSource {
 public:
  virtual ~UploadSource() = default;
  virtual uint64_t size() const = 0;
  // Fills `out` with bytes [offset, offset + size).
  virtual Status Read(uint64_t offset, size_t size, char* out) = 0;
  // Whether bytes [offset, offset + size) equal those of the copy source at the same offsets.
  virtual bool Unchanged(uint64_t offset, uint64_t size) const = 0;
};

struct UploadTarget {
  std::string key;
  std::string content_type;
  UserMetadata metadata;
  // The previous version, for server-side copies of unchanged parts.
  std::optional<std::string> copy_source_key;
  std::string copy_source_etag;
};

struct UploaderOptions {
  uint64_t part_size = uint64_t{8} << 20;
  // Notes each multipart upload while it is open (null: none): a crash leaves it to be
  // aborted by the next mount.
  WriteJournal* journal = nullptr;
};

class ObjectUploader {
 public:
  ObjectUploader(ObjectStore& store, ThreadPool& pool, MemoryBudget& memory,
                 UploaderOptions options)
      : store_(store), pool_(pool), memory_(memory), options_(options) {}

  Result<PutObjectResponse> Upload(const UploadTarget& target, UploadSource& source);

  // The part size for an object of `size` bytes.
  uint64_t PartSizeFor(uint64_t size) const;

  // Copies `source_key` (of `size` bytes, pinned to `etag` when not empty) to
  // `destination_key`, keeping or replacing its metadata: one CopyObject up to 5 GiB, a
  // multipart copy above.
  Result<CopyObjectResponse> Copy(const CopyObjectRequest& request, uint64_t size);

 private:
  Result<PutObjectResponse> UploadMultipart(const UploadTarget& target, UploadSource& source);
  Result<CopyObjectResponse> CopyMultipart(const CopyObjectRequest& request, uint64_t size);

  ObjectStore& store_;
  ThreadPool& pool_;
  MemoryBudget& memory_;
  const UploaderOptions options_;
};

}  // namespace s3mount
