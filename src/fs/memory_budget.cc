// MemoryBudget: a byte-counting semaphore for write buffers, with room kept for uploads.
#include "fs/memory_budget.h"

#include <algorithm>

namespace s3mount {

MemoryBudget::MemoryBudget(uint64_t capacity, uint64_t upload_reserve)
    : capacity_(capacity), stream_limit_(capacity - std::min(upload_reserve, capacity / 2)) {}

bool MemoryBudget::FitsLocked(uint64_t bytes, MemoryUse use) const {
  if (used_ + bytes > capacity_) return false;
  return use != MemoryUse::kStream || stream_used_ + bytes <= stream_limit_;
}

void MemoryBudget::TakeLocked(uint64_t bytes, MemoryUse use) {
  used_ += bytes;
  if (use == MemoryUse::kStream) stream_used_ += bytes;
  peak_used_ = std::max(peak_used_, used_);
}

bool MemoryBudget::TryAcquire(uint64_t bytes, MemoryUse use) {
  std::lock_guard lock(mu_);
  if (!FitsLocked(bytes, use)) return false;
  TakeLocked(bytes, use);
  return true;
}

bool MemoryBudget::AcquireFor(uint64_t bytes, std::chrono::milliseconds timeout, MemoryUse use) {
  std::unique_lock lock(mu_);
  if (!released_.wait_for(lock, timeout, [&] { return FitsLocked(bytes, use); })) return false;
  TakeLocked(bytes, use);
  return true;
}

void MemoryBudget::Release(uint64_t bytes, MemoryUse use) {
  {
    std::lock_guard lock(mu_);
    used_ -= std::min(bytes, used_);
    if (use == MemoryUse::kStream) stream_used_ -= std::min(bytes, stream_used_);
  }
  released_.notify_all();
}

uint64_t MemoryBudget::used() const {
  std::lock_guard lock(mu_);
  return used_;
}

uint64_t MemoryBudget::stream_used() const {
  std::lock_guard lock(mu_);
  return stream_used_;
}

uint64_t MemoryBudget::peak_used() const {
  std::lock_guard lock(mu_);
  return peak_used_;
}

}  // namespace s3mount
