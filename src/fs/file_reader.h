// FileReader: the read side of one open file. It serves reads from the block cache through
// the BlockFetcher. A read at offset 0 fetches the first few MiB at once (most files read
// from the start are read whole, and a small file then costs one GET). While reads stay
// sequential, a readahead window slides ahead of the reader: whenever a step (one request's
// worth, `max_request`) of [reader, reader + window) has not been asked for yet, it is, so a
// steady number of GETs stays in flight back to back; the window doubles with each top-up up
// to `max_readahead` (less while other readers read ahead too: BlockFetcher::ReadaheadLimit),
// and a seek resets it. So a sequential reader finds its blocks already
// fetched by ranged GETs running in parallel. A read that looks random (not
// near where the last one ended) and is small fetches only its own bytes, rounded out to
// pages, in one ranged GET that bypasses the block cache: a 4 KiB random read costs 4 KiB,
// not a 1 MiB block. (The kernel's page cache keeps what it was given.)
//
// Thread-safety: Read may be called concurrently (the kernel issues parallel reads).
// LOCK ORDERING: mu_ is a leaf guarding the readahead state only.
#pragma once

#include <mutex>
#include <vector>

#include "fs/block_fetcher.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

class FileReader {
 public:
  FileReader(BlockFetcher& fetcher, ObjectVersion object, size_t max_readahead, size_t max_request,
             size_t first_request = size_t{4} << 20);

  // Random reads are fetched in whole pages of this size.
  static constexpr uint64_t kRandomReadAlign = 4096;
  // How far from where the last read ended a read may start and still begin a sequential run.
  static constexpr uint64_t kRandomSlack = uint64_t{64} << 10;

  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const ObjectVersion& object() const { return object_; }
  Result<std::vector<DataSlice>> Read(uint64_t offset, size_t size);

 private:
  struct Plan {
    uint64_t demand_run = 1;     // blocks to fetch together with a missing first block
    uint64_t prefetch_from = 0;  // bytes [prefetch_from, prefetch_to) to fetch ahead
    uint64_t prefetch_to = 0;
    bool random = false;  // the read does not continue a sequential run
  };
  // Updates the readahead state for a read of [offset, end) and says what to fetch.
  Plan Advance(uint64_t offset, uint64_t end);
  // A small random read of [offset, end) not covered by the cache: its own pages, one GET.
  Result<std::vector<DataSlice>> ReadRandom(uint64_t offset, uint64_t end);

  BlockFetcher& fetcher_;
  const ObjectVersion object_;
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
