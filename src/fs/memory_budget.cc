// MemoryBudget: a byte-counting semaphore for write buffers.
#include "fs/memory_budget.h"

namespace s3mount {

bool MemoryBudget::TryAcquire(uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (used_ + bytes > capacity_) return false;
  used_ += bytes;
  return true;
}

bool MemoryBudget::AcquireFor(uint64_t bytes, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!released_.wait_for(lock, timeout, [&] { return used_ + bytes <= capacity_; })) return false;
  used_ += bytes;
  return true;
}

void MemoryBudget::Release(uint64_t bytes) {
  {
    std::lock_guard lock(mu_);
    used_ = bytes > used_ ? 0 : used_ - bytes;
  }
  released_.notify_all();
}

uint64_t MemoryBudget::used() const {
  std::lock_guard lock(mu_);
  return used_;
}

}  // namespace s3mount
