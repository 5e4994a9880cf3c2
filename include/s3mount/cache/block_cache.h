// BlockCache: a memory cache of object data blocks keyed by (key, ETag, block index), with a
// byte budget, in the style of LevelDB's util/cache.h: every block is charged its size
// against the capacity, the least recently used blocks go first, and a block handed out
// stays valid for as long as its holder keeps it, even after it was evicted or erased (the
// handle is a shared_ptr to an immutable string).
//
// Every block carries CRC32Cs computed when it is stored (one per kChecksumChunk bytes) and
// checked when it is handed out: a block whose bytes no longer match (memory corruption, a
// stray write) is dropped and reported as absent, so the caller fetches it again; it is
// counted in Stats::corrupted. Lookup checks the part of the block the caller will serve.
//
// GetOrFetch de-duplicates fetches: concurrent callers wanting the same missing block wait
// for one fetch instead of each issuing a GET. The fetch runs without the cache's lock.
//
// Reservations make the capacity cover blocks on their way as well as blocks stored: a fetcher
// reserves room before it sends a request (evicting least recently used blocks), and each
// block it inserts with InsertReserved turns its reservation into its charge, so the bytes
// stored plus the bytes being received never exceed the capacity.
//
// Thread-safety: every method is safe to call concurrently (one internal mutex).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

// Which block of which version of an object. Blocks of different ETags never mix.
struct BlockKey {
  std::string key;
  std::string etag;
  uint64_t index = 0;

  friend bool operator==(const BlockKey&, const BlockKey&) = default;
  // Ordered by key first, so all blocks of one object are adjacent.
  friend bool operator<(const BlockKey& a, const BlockKey& b) {
    return std::tie(a.key, a.etag, a.index) < std::tie(b.key, b.etag, b.index);
  }
};

struct BlockKeyHash {
  size_t operator()(const BlockKey& block_key) const noexcept;
};

struct BlockCacheOptions {
  size_t capacity_bytes = size_t{256} << 20;
};

class BlockCache {
 public:
  // Immutable once inserted; readers hold it as long as they need it.
  using Block = std::shared_ptr<const std::string>;
  using FetchFunction = std::function<Result<Block>()>;

  struct Stats {
    uint64_t hits = 0;           // lookups (Lookup or GetOrFetch) that found the block
    uint64_t misses = 0;         // lookups that did not
    uint64_t insertions = 0;     // blocks stored (oversize ones are not)
    uint64_t evictions = 0;      // blocks dropped to stay within capacity
    uint64_t fetches = 0;        // calls GetOrFetch made to a fetch function
    uint64_t fetch_waits = 0;    // GetOrFetch callers that waited for another's fetch
    uint64_t reserve_waits = 0;  // Reserve calls that waited for other reservations to end
    uint64_t peak_charged = 0;   // the most bytes stored plus reserved at once
    uint64_t corrupted = 0;      // blocks dropped because their bytes failed their CRC32C
  };

  // Bytes covered by each CRC32C of a block.
  static constexpr size_t kChecksumChunk = size_t{64} << 10;

  explicit BlockCache(BlockCacheOptions options);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // The block, or nullptr if absent (or corrupted: then dropped). Marks it as recently used.
  // Checks the CRC32Cs of the chunks overlapping bytes [from, to) of the block, the bytes the
  // caller is about to serve (by default all of them), outside the cache's lock.
  Block Lookup(const BlockKey& block_key, size_t from = 0, size_t to = SIZE_MAX);
  // Whether the block is cached, as Lookup counts it (hit or miss, recently used), without
  // handing it out or checking it.
  bool Contains(const BlockKey& block_key);

  // Stores `block` (replacing any block with the same key), charges block->size() and evicts
  // least recently used blocks until within capacity. A block larger than the capacity is
  // not kept (and the one it would have replaced is gone). A null block is ignored.
  void Insert(const BlockKey& block_key, Block block);

  // The cached block, or else the result of `fetch`, which is then cached. Concurrent calls
  // for the same missing block run `fetch` once: the others wait and get the same result,
  // error included; after a failure the next call fetches again. `fetch` runs on the calling
  // thread without the cache lock held; it must not return a null block (that is reported
  // as kInvalidArgument) and should not throw (an exception becomes a kUnknown error). It
  // must not call GetOrFetch for the same block (it would wait for itself).
  Result<Block> GetOrFetch(const BlockKey& block_key, const FetchFunction& fetch);

  // Reserves room for up to `max_units` blocks of `unit` bytes about to be fetched, evicting
  // least recently used blocks to make room, and returns how many it reserved. Only other
  // reservations can leave no room; then it returns 0, or with `wait` waits until one ends
  // (each is a request in flight, which ends without waiting for anything) and reserves one
  // at least. A `unit` larger than the capacity is never reserved (0 at once).
  size_t Reserve(size_t unit, size_t max_units, bool wait);
  // Ends a reservation of `bytes` whose block will not be inserted (a failed fetch).
  void Unreserve(size_t bytes);
  // Insert, ending a reservation of `reserved` bytes made for this block.
  void InsertReserved(const BlockKey& block_key, Block block, size_t reserved);

  // Drops the cached blocks first..last of one object version (a sequential reader's blocks
  // behind it, which the kernel's page cache holds now). Holders keep theirs; fetches in flight
  // are not affected. Returns how many were dropped.
  size_t EraseBlocks(const std::string& key, const std::string& etag, uint64_t first,
                     uint64_t last);
  // Drops every block of object `key`, whatever its ETag. Fetches of it in flight deliver
  // their result to their callers but do not cache it.
  void EraseObject(const std::string& key);

  // Test hook: replaces the cached bytes of `block_key` with a copy whose byte `offset` is
  // inverted, keeping the CRC32Cs of the original, as a memory corruption would. False if
  // the block is not cached or is shorter.
  bool CorruptForTesting(const BlockKey& block_key, size_t offset);

  size_t used_bytes() const;
  size_t reserved_bytes() const;
  size_t block_count() const;
  size_t capacity_bytes() const { return options_.capacity_bytes; }
  Stats stats() const;

 private:
  struct Node {
    Block block;
    std::vector<uint32_t> crcs;  // CRC32C of each kChecksumChunk of the block
    std::list<const BlockKey*>::iterator lru_position;  // into lru_
  };
  using BlockMap = std::map<BlockKey, Node>;

  // One fetch in progress; waiters hold it by shared_ptr and wait on `done_cv` with mu_.
  struct InFlight {
    std::condition_variable done_cv;
    bool done = false;
    bool erased = false;  // EraseObject ran meanwhile: do not cache the result
    std::optional<Result<Block>> result;
  };

  // The node of `block_key`, counted as a hit or miss and made most recently used.
  Node* FindLocked(const BlockKey& block_key);
  void InsertLocked(const BlockKey& block_key, Block block, std::vector<uint32_t> crcs);
  static std::vector<uint32_t> ChunkChecksums(const std::string& bytes);
  void EraseLocked(BlockMap::iterator it);
  // Evicts least recently used blocks until stored plus reserved bytes fit the capacity.
  void EvictLocked();
  static Result<Block> RunFetch(const FetchFunction& fetch);

  const BlockCacheOptions options_;

  // LOCK ORDERING: mu_ is the only lock. It is never held while a fetch function runs, and
  // no method calls out of this class while holding it.
  mutable std::mutex mu_;
  BlockMap blocks_;  // ordered so that EraseObject is a range walk
  // Most recently used first; points at the keys of blocks_ (std::map keys do not move).
  std::list<const BlockKey*> lru_;
  size_t used_bytes_ = 0;
  size_t reserved_bytes_ = 0;  // room held for blocks on their way
  std::condition_variable reservation_ended_;
  Stats stats_;
  std::unordered_map<BlockKey, std::shared_ptr<InFlight>, BlockKeyHash> in_flight_;
};

}  // namespace s3mount

template <>
struct std::hash<s3mount::BlockKey> {
  size_t operator()(const s3mount::BlockKey& block_key) const noexcept {
    return s3mount::BlockKeyHash()(block_key);
  }
};
