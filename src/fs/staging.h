// Staging: local files that hold the bytes of open files written out of order (random
// offsets, appends to existing objects, growing truncates) until they are uploaded. They live
// in one private directory (mode 0700) and together may hold at most `capacity` bytes;
// a write that would pass it fails with kNoSpace (ENOSPC). A staging file is removed when its
// owner drops it, unless it is kept because its data could not be uploaded (Keep), in which
// case it stays on disk under its logged name.
//
// Thread-safety: StagingArea is safe to use concurrently. A StagingFile is used by one owner
// at a time (its OpenFile serializes access); its byte accounting goes to the shared area.
// LOCK ORDERING: StagingArea::mu_ is a leaf.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "fs/range_set.h"
#include "s3mount/common/result.h"

namespace s3mount {

class StagingFile;

// A failed system call on a local file: kNoSpace for a full disk or quota, else kUnknown,
// with `what` and strerror(error_number).
Error SystemError(const std::string& what, int error_number);

class StagingArea {
 public:
  // Creates `directory` (and parents) if needed with mode 0700 and checks it is writable.
  static Result<std::unique_ptr<StagingArea>> Create(const std::string& directory,
                                                     uint64_t capacity);
  StagingArea(const StagingArea&) = delete;
  StagingArea& operator=(const StagingArea&) = delete;

  // A new empty staging file; `label` (the file's path in the mount) goes into its name.
  Result<std::unique_ptr<StagingFile>> NewFile(std::string_view label);

  const std::string& directory() const { return directory_; }
  uint64_t capacity() const { return capacity_; }
  uint64_t used() const;

 private:
  friend class StagingFile;
  StagingArea(std::string directory, uint64_t capacity)
      : directory_(std::move(directory)), capacity_(capacity) {}
  bool Charge(uint64_t bytes);
  void Refund(uint64_t bytes);

  const std::string directory_;
  const uint64_t capacity_;
  mutable std::mutex mu_;
  uint64_t used_ = 0;         // guarded by mu_
  uint64_t next_serial_ = 0;  // guarded by mu_
};

class StagingFile {
 public:
  ~StagingFile();
  StagingFile(const StagingFile&) = delete;
  StagingFile& operator=(const StagingFile&) = delete;

  // Writes `data` at `offset`, charging the area for bytes not written before.
  Status Write(uint64_t offset, std::string_view data);
  // Reads exactly [offset, offset + size) into `out` (bytes never written read as zeros).
  Status Read(uint64_t offset, size_t size, char* out) const;
  // Forgets (and frees) everything at or beyond `size`.
  Status TruncateTo(uint64_t size);
  // The byte ranges written and not truncated away.
  const RangeSet& written() const { return written_; }
  const std::string& path() const { return path_; }
  // Makes what was written reach the disk (fsync): before a write-back close is acknowledged.
  Status Sync();
  // Leaves the file on disk when this object goes (its data could not be uploaded).
  void Keep() { keep_ = true; }

 private:
  friend class StagingArea;
  StagingFile(StagingArea& area, std::string path, int fd)
      : area_(area), path_(std::move(path)), fd_(fd) {}

  StagingArea& area_;
  const std::string path_;
  int fd_ = -1;
  RangeSet written_;
  bool keep_ = false;
};

}  // namespace s3mount
