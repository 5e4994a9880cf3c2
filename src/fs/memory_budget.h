// MemoryBudget: the bytes of write buffers (parts being filled or uploaded) all open files
// may hold together (`write_buffer=`). Writers take bytes before buffering and give them back
// once a part is uploaded; a writer that cannot get bytes waits for its own uploads or spills
// to disk, so memory stays bounded whatever the number of open files.
//
// Two uses share it. Streams (StreamingUpload: the tails and parts of files still open) may
// hold at most stream_limit(), and may hold it for as long as their files stay open. Uploads
// of closed files (ObjectUploader parts) may use the whole capacity, and what they take comes
// back when their request ends; the room streams cannot take (upload_reserve(), one part) is
// therefore always given back in the end, so an upload that waits for a part of that size
// never waits for ever, and never has to go over the budget to make progress.
//
// Thread-safety: all methods are safe to call concurrently.
// LOCK ORDERING: mu_ is a leaf.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace s3mount {

enum class MemoryUse {
  kUpload,  // a part of an upload in progress: given back when its request ends
  kStream,  // a stream's tail or part: may be held while its file stays open
};

class MemoryBudget {
 public:
  // `upload_reserve`: what streams leave to uploads (at most half the capacity).
  explicit MemoryBudget(uint64_t capacity, uint64_t upload_reserve = 0);

  // Takes `bytes` if they are free now.
  bool TryAcquire(uint64_t bytes, MemoryUse use = MemoryUse::kUpload);
  // Takes `bytes`, waiting up to `timeout` for them to be released.
  bool AcquireFor(uint64_t bytes, std::chrono::milliseconds timeout,
                  MemoryUse use = MemoryUse::kUpload);
  void Release(uint64_t bytes, MemoryUse use = MemoryUse::kUpload);

  uint64_t capacity() const { return capacity_; }
  uint64_t upload_reserve() const { return capacity_ - stream_limit_; }
  uint64_t stream_limit() const { return stream_limit_; }
  uint64_t used() const;
  uint64_t stream_used() const;
  uint64_t peak_used() const;  // the most bytes held at once

 private:
  bool FitsLocked(uint64_t bytes, MemoryUse use) const;
  void TakeLocked(uint64_t bytes, MemoryUse use);

  const uint64_t capacity_;
  const uint64_t stream_limit_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  uint64_t used_ = 0;         // guarded by mu_: all uses
  uint64_t stream_used_ = 0;  // guarded by mu_: the part of used_ held by streams
  uint64_t peak_used_ = 0;    // guarded by mu_
};

}  // namespace s3mount
