// BufferPool: idle large buffers kept by capacity, handed out again by the closest fit.
#include "s3mount/common/buffer_pool.h"

#include <utility>

namespace s3mount {

BufferPool::BufferPool(size_t max_idle_bytes)
    : max_idle_bytes_(max_idle_bytes), idle_(std::make_shared<Idle>(max_idle_bytes)) {}

std::string BufferPool::Take(size_t size) { return idle_->Take(size); }

void BufferPool::Give(std::string buffer) { idle_->Give(std::move(buffer)); }

std::shared_ptr<const std::string> BufferPool::Share(std::string buffer) {
  std::weak_ptr<Idle> idle = idle_;
  return {new std::string(std::move(buffer)), [idle = std::move(idle)](const std::string* shared) {
            std::unique_ptr<std::string> owned(const_cast<std::string*>(shared));
            if (auto pool = idle.lock()) pool->Give(std::move(*owned));
          }};
}

BufferPool::Stats BufferPool::stats() const {
  std::lock_guard lock(idle_->mu);
  return idle_->stats;
}

std::string BufferPool::Idle::Take(size_t size) {
  if (size >= kMinPooledBytes) {
    std::unique_lock lock(mu);
    ++stats.takes;
    // The smallest idle buffer that holds `size`, if it is not much larger.
    if (auto it = buffers.lower_bound(size); it != buffers.end() && it->first <= size + size / 4) {
      std::string buffer = std::move(it->second);
      stats.idle_bytes -= it->first;
      --stats.idle_count;
      ++stats.reused;
      buffers.erase(it);
      return buffer;
    }
  }
  std::string buffer;
  buffer.reserve(size);
  return buffer;
}

void BufferPool::Idle::Give(std::string buffer) {
  const size_t capacity = buffer.capacity();
  if (capacity < kMinPooledBytes) return;
  buffer.clear();
  std::unique_lock lock(mu);
  if (stats.idle_bytes + capacity > max_idle_bytes) {
    ++stats.freed;
    lock.unlock();  // the buffer is freed outside the lock
    return;
  }
  stats.idle_bytes += capacity;
  ++stats.idle_count;
  ++stats.kept;
  buffers.emplace(capacity, std::move(buffer));
}

}  // namespace s3mount
