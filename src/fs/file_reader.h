// FileReader: the read side of one open file. It serves reads from the block cache through
// the BlockFetcher, fetching what its FileReadahead plans (a first stretch from offset 0, a
// sliding window ahead of a sequential reader: see fs/readahead/file_readahead.h), so a
// sequential reader finds its blocks already fetched by ranged GETs running in parallel. A
// read that looks random (not near where the last one ended) and is small fetches only its
// own bytes, rounded out to pages, in one ranged GET that bypasses the block cache: a 4 KiB
// random read costs 4 KiB, not a 1 MiB block. (The kernel's page cache keeps what it was
// given.)
//
// Memory: a sequential reader of an object too large to keep (BlockFetcher::DropsBehind)
// drops the blocks it has read, readahead::kDropBehindLag behind it, so one scan does not
// fill the cache (and the process) with bytes the kernel already holds.
//
// Integrity: a first read that covers a small object is one GET checked against the object's
// checksum (BlockFetcher); for larger objects, WholeReadCheck holds back the read that reaches
// the end of a sequential whole read until the blocks served match the object's CRC32C.
//
// Thread-safety: Read may be called concurrently (the kernel issues parallel reads).
// LOCK ORDERING: FileReader has no lock of its own; FileReadahead's is a leaf.
#pragma once

#include <atomic>
#include <vector>

#include "fs/block_fetcher.h"
#include "fs/readahead/file_readahead.h"
#include "fs/whole_read_check.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

class FileReader {
 public:
  FileReader(BlockFetcher& fetcher, ObjectVersion object, size_t max_readahead, size_t max_request,
             size_t first_request = readahead::kFileFirstRequest);

  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const ObjectVersion& object() const { return object_; }
  Result<std::vector<DataSlice>> Read(uint64_t offset, size_t size);

 private:
  // A small random read of [offset, end) not covered by the cache: its own pages, one GET.
  Result<std::vector<DataSlice>> ReadRandom(uint64_t offset, uint64_t end);
  // A sequential reader now at `offset` drops the cached blocks it has left behind.
  void DropBehind(uint64_t offset);

  BlockFetcher& fetcher_;
  const ObjectVersion object_;
  const size_t max_request_;
  FileReadahead readahead_;
  WholeReadCheck check_;
  const bool drops_behind_;
  std::atomic<uint64_t> dropped_until_{0};  // blocks below this index were dropped
};

}  // namespace s3mount
