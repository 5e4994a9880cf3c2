// Keeping or giving back the pages of a worker's receive buffer after a write (see the header).
#include "fuse/write_buffer_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace s3mount {
namespace {

std::atomic<int> resident_buffers{0};

// Whether the calling worker keeps its buffer resident; counted while the thread lives.
class ResidentSlot {
 public:
  ResidentSlot() = default;
  ResidentSlot(const ResidentSlot&) = delete;
  ResidentSlot& operator=(const ResidentSlot&) = delete;
  ~ResidentSlot() {
    if (held_) resident_buffers.fetch_sub(1);
  }
  bool HeldOrTaken() {
    if (held_) return true;
    if (resident_buffers.fetch_add(1) < kResidentWriteBuffers) {
      held_ = true;
      return true;
    }
    resident_buffers.fetch_sub(1);
    return false;
  }

 private:
  bool held_ = false;
};

void ReleaseWholePages(const char* buffer, size_t size) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t at = reinterpret_cast<uintptr_t>(buffer);
  const size_t skip = static_cast<size_t>((page - at % page) % page);  // to the first whole page
  if (size <= skip) return;
  const size_t length = (size - skip) / page * page;
  if (length == 0) return;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): libfuse hands the buffer as const.
  (void)madvise(const_cast<char*>(buffer + skip), length, MADV_DONTNEED);
}

}  // namespace

void AfterWriteCopied(const char* buffer, size_t size) {
  thread_local ResidentSlot slot;
  if (!slot.HeldOrTaken()) ReleaseWholePages(buffer, size);
}

int ResidentWriteBuffers() { return resident_buffers.load(); }

}  // namespace s3mount
