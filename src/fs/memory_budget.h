// MemoryBudget: the bytes of write buffers (parts being filled or uploaded) all open files
// may hold together. Writers take bytes before buffering and give them back once a part is
// uploaded; a writer that cannot get bytes waits for its own uploads or spills to disk, so
// memory stays bounded whatever the number of open files.
//
// Thread-safety: all methods are safe to call concurrently.
// LOCK ORDERING: mu_ is a leaf.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace s3mount {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t capacity) : capacity_(capacity) {}

  // Takes `bytes` if they are free now.
  bool TryAcquire(uint64_t bytes);
  // Takes `bytes`, waiting up to `timeout` for them to be released.
  bool AcquireFor(uint64_t bytes, std::chrono::milliseconds timeout);
  void Release(uint64_t bytes);

  uint64_t capacity() const { return capacity_; }
  uint64_t used() const;

 private:
  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  uint64_t used_ = 0;  // guarded by mu_
};

}  // namespace s3mount
