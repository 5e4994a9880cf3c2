// BufferPool: recycles the large byte buffers of the data path (cache blocks, upload parts), so
// that memory the kernel has already mapped and faulted in is filled again instead of being
// mapped, faulted page by page and unmapped for every block. (main keeps glibc from pooling
// large allocations itself, so that freed buffers go back to the kernel and the memory
// budgets bound what the process holds; this pool keeps a bounded few instead.)
//
// A buffer is a std::string whose capacity is the memory: Take hands out an empty one with
// room for `size` bytes, reusing an idle buffer of a close capacity (between `size` and
// size + size / 4, so that what a budget charges by size stays close to what is held);
// Give takes one back. Share wraps a filled buffer as an immutable shared block that comes
// back to the pool when its last holder lets go (the pool may be destroyed before that: the
// buffer is then freed). Idle buffers are kept up to `max_idle_bytes` (beyond it a given
// buffer is freed); buffers smaller than kMinPooledBytes are never kept (the allocator serves
// those from its heaps).
//
// Thread-safety: every method is safe to call concurrently; mu_ is a leaf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace s3mount {

class BufferPool {
 public:
  static constexpr size_t kMinPooledBytes = size_t{256} << 10;

  struct Stats {
    uint64_t takes = 0;     // Take calls for pooled sizes
    uint64_t reused = 0;    // of those, served by an idle buffer
    uint64_t kept = 0;      // buffers given back and kept idle
    uint64_t freed = 0;     // buffers given back and freed (pool full)
    size_t idle_bytes = 0;  // capacity of the idle buffers now
    size_t idle_count = 0;  // idle buffers now
  };

  explicit BufferPool(size_t max_idle_bytes);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // An empty string with capacity() >= size.
  std::string Take(size_t size);
  // Gives `buffer` back (its contents are dropped).
  void Give(std::string buffer);
  // `buffer`, shared read-only; it comes back to the pool when the last holder releases it.
  std::shared_ptr<const std::string> Share(std::string buffer);

  size_t max_idle_bytes() const { return max_idle_bytes_; }
  Stats stats() const;

 private:
  struct Idle {
    explicit Idle(size_t limit) : max_idle_bytes(limit) {}
    std::string Take(size_t size);
    void Give(std::string buffer);

    const size_t max_idle_bytes;
    mutable std::mutex mu;
    std::multimap<size_t, std::string> buffers;  // guarded by mu: by capacity
    Stats stats;                                 // guarded by mu
  };

  const size_t max_idle_bytes_;
  // Shared with the deleters of Share's blocks, which may outlive the pool.
  std::shared_ptr<Idle> idle_;
};

}  // namespace s3mount
