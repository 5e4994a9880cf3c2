// FileReadahead: the readahead state of one open file's reader. It decides, for each read,
// whether the reader is sequential and what to fetch ahead of it; FileReader does the fetching.
// A read at offset 0 fetches the first few MiB at once (most files read from the start are
// read whole, and a small file then costs one GET). While reads stay sequential, a window
// slides ahead of the reader: whenever a step (one request's worth, `max_request`) of
// [reader, reader + window) has not been asked for yet, it is, so a steady number of GETs
// stays in flight back to back; the window doubles with each top-up up to `max_readahead`
// (less while other readers read ahead too: BlockFetcher::ReadaheadLimit), and a seek resets
// it. A read that is not near where the last one ended makes the reader random (window 0).
//
// Thread-safety: Advance may be called concurrently (the kernel issues parallel reads).
// LOCK ORDERING: mu_ is a leaf guarding the readahead state only (BlockFetcher's stream count
// and ReadaheadLimit take only the fetcher's own leaf lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "fs/block_fetcher.h"
#include "fs/readahead/readahead_limits.h"

namespace s3mount {

class FileReadahead {
 public:
  // What one read should fetch.
  struct Plan {
    uint64_t demand_run = 1;     // blocks to fetch together with a missing first block
    uint64_t prefetch_from = 0;  // bytes [prefetch_from, prefetch_to) to fetch ahead
    uint64_t prefetch_to = 0;
    bool random = false;  // the read does not continue a sequential run
  };

  // Reads of an object of `object_size` bytes, fetched through `fetcher`.
  FileReadahead(BlockFetcher& fetcher, uint64_t object_size, size_t max_readahead,
                size_t max_request, size_t first_request = readahead::kFileFirstRequest);
  ~FileReadahead();
  FileReadahead(const FileReadahead&) = delete;
  FileReadahead& operator=(const FileReadahead&) = delete;

  // Updates the state for a read of [offset, end) and says what to fetch.
  Plan Advance(uint64_t offset, uint64_t end);

 private:
  BlockFetcher& fetcher_;
  const uint64_t object_size_;
  const size_t max_readahead_;
  const size_t max_request_;
  const size_t first_request_;
  std::mutex mu_;
  uint64_t next_sequential_ = 0;  // guarded by mu_: where a sequential read would start
  uint64_t window_ = 0;           // guarded by mu_: 0 while reads look random
  uint64_t ahead_end_ = 0;        // guarded by mu_: end of what readahead has asked for
  bool streaming_ = false;        // guarded by mu_: counted in the fetcher's AddStream
};

}  // namespace s3mount
