// DirectoryReadahead: readahead across the files of one directory. A program that opens the
// files of a directory one after another in the order of its listing (`cat dir/*`, `tar c
// dir`, `cp -r`) pays one round trip per file, however small the files are. Once a few
// consecutive read-only opens followed the cached listing, the next small files of that
// listing are fetched ahead, whole, into the block cache, by the same ETag-pinned GETs the
// file's own first read would make (BlockFetcher): a later open of such a file finds its
// blocks cached. The window of files ahead grows while opens stay in order (up to a count and
// a number of bytes) and a jump elsewhere resets it, as a file's readahead does.
//
// It never changes what a read returns: blocks are keyed by the ETag the listing gave, and an
// open reads the version it resolved; if the object changed in between, the keys differ and
// the prefetched blocks are simply never used (the GET itself is pinned with If-Match, so a
// changed object yields no blocks at all). A wrong guess costs at most the window's GETs.
//
// Thread-safety: all methods may be called concurrently.
// LOCK ORDERING: mu_, then the ThreadPool's own lock (Submit under mu_); mu_ is never held
// across a request or a BlockFetcher call.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fs/block_fetcher.h"
#include "fs/listing_cache.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/path_rules.h"

namespace s3mount {

struct DirectoryReadaheadOptions {
  size_t max_files = 32;                       // files fetched ahead at most; 0: off
  uint64_t max_file_size = uint64_t{1} << 20;  // larger files are left to their own readahead
  uint64_t max_bytes = uint64_t{16} << 20;     // bytes of the files ahead, together
  size_t max_in_flight = 4;                    // prefetch GETs at once
  size_t trigger = 2;                          // in-order opens before prefetching starts
};

class DirectoryReadahead {
 public:
  // Prefetch GETs run on `pool` (the data pool: its owner shuts it down before the fetcher
  // and this object go away).
  DirectoryReadahead(BlockFetcher& fetcher, ListingCache& listings, ThreadPool& pool,
                     const KeyMapper& keys, DirectoryReadaheadOptions options);

  // `path` (relative to the mount root) was opened read-only as `object`, at `now`.
  // `kernel_cached`: the kernel keeps its page cache of this version, so reads may never
  // reach the mount; the files after it are then likely cached too and are not fetched.
  void Opened(const std::string& path, const ObjectVersion& object, MonoTime now,
              bool kernel_cached = false);

  // Prefetches started so far (each one a GET unless the blocks were cached meanwhile).
  uint64_t started() const;
  // Waits until no prefetch is queued or running (for tests).
  void WaitIdle();

 private:
  // One directory being read in listing order.
  struct Stream {
    std::weak_ptr<const std::vector<ListedEntry>> listing;  // positions refer to this one
    size_t last = 0;                                        // position of the last open
    size_t run = 0;     // consecutive opens in listing order, ending at `last`
    size_t window = 0;  // files wanted ahead of `last`; 0 while not prefetching
    size_t ahead = 0;   // positions before this one were considered for prefetching
    uint64_t used = 0;  // when it was last used, in opens, for eviction
  };
  struct Job {
    std::string directory;
    size_t position = 0;
    ObjectVersion object;
  };

  // Updates `stream` for an open at `position` of `listing`; queues what to fetch.
  void AdvanceLocked(const std::string& directory, Stream& stream, const Listing& listing,
                     size_t position);
  bool Eligible(const ListedEntry& entry) const;
  // Drops the queued (not started) jobs of `directory` at or before `position` (all: SIZE_MAX).
  void DropQueuedLocked(const std::string& directory, size_t position);
  Stream& StreamLocked(const std::string& directory);
  void PumpLocked();
  void Run(const ObjectVersion& object);

  BlockFetcher& fetcher_;
  ListingCache& listings_;
  ThreadPool& pool_;
  const KeyMapper& keys_;
  const DirectoryReadaheadOptions options_;
  mutable std::mutex mu_;
  std::condition_variable idle_;           // queue_ empty and nothing in flight
  std::map<std::string, Stream> streams_;  // guarded by mu_; bounded (kFollowedDirectories)
  std::deque<Job> queue_;                  // guarded by mu_; waiting for a slot
  size_t in_flight_ = 0;                   // guarded by mu_
  uint64_t opens_ = 0;                     // guarded by mu_
  uint64_t started_ = 0;                   // guarded by mu_
};

}  // namespace s3mount
