// What happens to the pages of a libfuse worker's receive buffer after a write's data has been
// copied out of it. Each worker keeps a receive buffer of max_write (1 MiB) for as long as it
// lives, and a 1 MiB write leaves all of it resident: with max_threads=64 that would be 64 MiB
// held by idle buffers. Giving the pages back after every write (MADV_DONTNEED) bounds that,
// but then the next write into the same buffer faults in 256 fresh pages, which cost a
// sequential writer a large share of the daemon's CPU. So the first kResidentWriteBuffers
// workers that serve writes keep their buffers resident (a steady writer is served by a few
// workers), and every other worker gives its pages back after each write.
//
// Thread-safety: called from any worker thread; the count of resident buffers is atomic and a
// worker's own state is thread-local (given back when the worker thread ends).
#pragma once

#include <cstddef>

namespace s3mount {

inline constexpr int kResidentWriteBuffers = 8;

// After a write of `size` bytes at `buffer` (inside the calling worker's receive buffer) was
// copied: keeps the pages if this worker may keep its buffer resident, else gives back the whole
// pages inside the data (never the request header or malloc's bookkeeping around it).
void AfterWriteCopied(const char* buffer, size_t size);

// Workers whose receive buffers are kept resident now (for tests).
int ResidentWriteBuffers();

}  // namespace s3mount
