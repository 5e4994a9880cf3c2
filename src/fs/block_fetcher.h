// BlockFetcher: brings blocks of object data into the BlockCache. One ranged GET covers a run
// of consecutive blocks and is pinned with If-Match to the ETag the reader opened, so blocks
// of two versions never mix; as the body streams in, each completed block goes into the cache
// and wakes whoever waits for it. A block already cached or on its way is never asked for
// twice, whoever wants it.
//
// A run that covers the whole object, and any run of an object of at most kWholeObjectLimit
// bytes, is one GET without Range, with x-amz-checksum-mode, whose
// body is checked (VerifyingSink: the object's full CRC32C, else its single-part MD5 ETag)
// before any of its blocks is cached or handed out; a mismatch is logged and fetched afresh,
// and after kVerifiedReadAttempts the blocks fail with kChecksumMismatch (EIO). Ranged GETs of
// larger objects carry no checksum from S3 and are protected by TLS only (docs/SEMANTICS.md).
//
// Memory: blocks are filled in recycled buffers (BufferPool), so a steady reader reuses memory
// already faulted in. Every GET reserves room in the cache for its blocks before it is sent
// (BlockCache::Reserve), so blocks cached plus blocks being received stay within the cache's
// capacity. Readahead takes only the room there is (it shrinks, or is not sent); a read that
// needs a block now waits for room, which GETs in flight give back as they deliver (they
// never wait for room themselves). A ranged GET that bypasses the cache reserves its bytes
// too while it runs. A cache smaller than one block is not accounted (readers then hold only
// the blocks they are reading).
//
// Thread-safety: all methods may be called concurrently.
// LOCK ORDERING: mu_, then the BlockCache's own lock (cache lookups happen under mu_ so that
// a block is claimed exactly once); mu_ is never held across a request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fs/readahead/readahead_limits.h"
#include "s3mount/cache/block_cache.h"
#include "s3mount/common/buffer_pool.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

// One version of one object, as an open file sees it.
struct ObjectVersion {
  std::string key;
  std::string etag;
  uint64_t size = 0;
};

class BlockFetcher {
 public:
  // GETs of a whole object whose body fails its check, before giving up with EIO.
  static constexpr int kVerifiedReadAttempts = 3;
  // Objects up to this size are always fetched whole (and verified), never by ranges.
  static constexpr uint64_t kWholeObjectLimit = readahead::kFileFirstRequest;

  // Blocks are filled in buffers taken from `buffers`, and go back to it when released.
  BlockFetcher(ObjectStore& store, BlockCache& cache, ThreadPool& pool, BufferPool& buffers,
               size_t block_size);

  size_t block_size() const { return block_size_; }
  uint64_t BlockCount(const ObjectVersion& object) const;

  // Starts fetching the blocks in [first, last] that are neither cached nor on their way, in
  // GETs of at most `max_request` bytes each, on the pool. Returns at once.
  void Prefetch(const ObjectVersion& object, uint64_t first, uint64_t last, size_t max_request);
  // Block `index`, from the cache, from a fetch on its way, or fetched now together with the
  // following missing blocks up to `index + run - 1`. Bytes [from, to) of the block are the
  // ones the caller serves: a cached block's checksums are checked over them.
  Result<BlockCache::Block> Get(const ObjectVersion& object, uint64_t index, uint64_t run = 1,
                                size_t from = 0, size_t to = SIZE_MAX);
  // Whether every block of [first, last] is cached or on its way.
  bool Covered(const ObjectVersion& object, uint64_t first, uint64_t last);
  // Bytes [offset, offset + length) of the object in one ranged GET on the calling thread,
  // bypassing the cache (for random reads much smaller than a block).
  Result<BlockCache::Block> GetRange(const ObjectVersion& object, uint64_t offset, size_t length);

  // The object's full CRC32C as S3 stores it (HEAD with x-amz-checksum-mode, pinned to the
  // ETag), or nullopt when it has none (or only a composite multipart one).
  Result<std::optional<uint32_t>> StoredChecksum(const ObjectVersion& object);
  // Whether a sequential reader of an object of `object_size` bytes drops the blocks behind it
  // (readahead::kDropBehindShareOfCache), and the dropping itself (cached blocks first..last).
  bool DropsBehind(uint64_t object_size) const;
  void DropBehind(const ObjectVersion& object, uint64_t first, uint64_t last) {
    cache_.EraseBlocks(object.key, object.etag, first, last);
  }
  // Drops every cached block of the object (after its bytes failed a check).
  void Forget(const ObjectVersion& object) { cache_.EraseObject(object.key); }

  // Sequential readers share the cache: readahead lands in it, and blocks fetched ahead must
  // outlive the time their reader takes to reach them. A reader counts itself while it reads
  // ahead, and its window is kept to half the cache divided among those readers (one block
  // at least), so N readers at once do not evict each other's blocks before they are read.
  void AddStream() { streams_.fetch_add(1); }
  void RemoveStream() { streams_.fetch_sub(1); }
  // The readahead window a reader may use now, `wanted` at most.
  uint64_t ReadaheadLimit(uint64_t wanted) const;

 private:
  struct Pending {
    std::optional<Result<BlockCache::Block>> result;
  };
  using PendingMap = std::map<uint64_t, std::shared_ptr<Pending>>;

  // Claims the missing, not-in-flight blocks of [first, last] as contiguous runs, each at
  // most `max_blocks` long; the caller must Fetch each run.
  // Claims at most `max_total` blocks in all.
  std::vector<std::pair<uint64_t, uint64_t>> Claim(const ObjectVersion& object, uint64_t first,
                                                   uint64_t last, uint64_t max_blocks,
                                                   uint64_t max_total);
  // Room in the cache for up to `blocks` blocks (at least one when `wait`); returns how many.
  uint64_t ReserveBlocks(uint64_t blocks, bool wait);
  // Gives back the room of reserved blocks that `runs` do not use.
  void ReleaseUnclaimed(uint64_t reserved, const std::vector<std::pair<uint64_t, uint64_t>>& runs);
  void Fetch(const ObjectVersion& object, uint64_t first, uint64_t last);
  // Blocks first..last from GetWholeVerified (the whole object).
  void FetchWhole(const ObjectVersion& object, uint64_t first, uint64_t last);
  // The whole object's blocks, its body checked against its checksum or ETag.
  Result<std::vector<BlockCache::Block>> GetWholeVerified(const ObjectVersion& object);
  void Complete(const ObjectVersion& object, uint64_t index, Result<BlockCache::Block> result);
  static std::string InFlightKey(const ObjectVersion& object);

  ObjectStore& store_;
  BlockCache& cache_;
  ThreadPool& pool_;
  BufferPool& buffers_;
  const size_t block_size_;
  const bool accounted_;            // the cache holds a block at least: GETs reserve room in it
  std::atomic<size_t> streams_{0};  // readers reading ahead now
  std::mutex mu_;
  std::condition_variable completed_;
  std::map<std::string, PendingMap> in_flight_;  // guarded by mu_; key "etag\nkey"
};

}  // namespace s3mount
