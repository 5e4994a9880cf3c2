// BlockCache: the LRU map of data blocks with a byte budget, and the in-flight table that
// lets concurrent readers of a missing block share one fetch, and the CRC32Cs of cached blocks.
#include "s3mount/cache/block_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <iterator>
#include <string_view>
#include <utility>

#include "s3mount/aws/crc32c.h"

namespace s3mount {

size_t BlockKeyHash::operator()(const BlockKey& block_key) const noexcept {
  size_t hash = std::hash<std::string_view>()(block_key.key);
  // Boost's hash_combine.
  auto combine = [&hash](size_t value) {
    hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  };
  combine(std::hash<std::string_view>()(block_key.etag));
  combine(std::hash<uint64_t>()(block_key.index));
  return hash;
}

BlockCache::BlockCache(BlockCacheOptions options) : options_(options) {}

std::vector<uint32_t> BlockCache::ChunkChecksums(const std::string& bytes) {
  std::vector<uint32_t> crcs;
  crcs.reserve((bytes.size() + kChecksumChunk - 1) / kChecksumChunk);
  for (size_t at = 0; at < bytes.size(); at += kChecksumChunk) {
    crcs.push_back(Crc32c(std::string_view(bytes).substr(at, kChecksumChunk)));
  }
  return crcs;
}

BlockCache::Block BlockCache::Lookup(const BlockKey& block_key, size_t from, size_t to) {
  Block block;
  std::vector<uint32_t> crcs;
  size_t first_chunk = 0;
  {
    std::lock_guard lock(mu_);
    Node* node = FindLocked(block_key);
    if (node == nullptr) return nullptr;
    block = node->block;
    to = std::min(to, block->size());
    if (from >= to) return block;  // nothing of it will be served
    first_chunk = from / kChecksumChunk;
    const size_t end_chunk = (to + kChecksumChunk - 1) / kChecksumChunk;
    crcs.assign(node->crcs.begin() + static_cast<std::ptrdiff_t>(first_chunk),
                node->crcs.begin() + static_cast<std::ptrdiff_t>(end_chunk));
  }
  // Checked without the lock: other readers go on meanwhile.
  const std::string_view bytes(*block);
  bool intact = true;
  for (size_t i = 0; i < crcs.size() && intact; ++i) {
    intact = Crc32c(bytes.substr((first_chunk + i) * kChecksumChunk, kChecksumChunk)) == crcs[i];
  }
  if (intact) return block;
  spdlog::warn("cache: block {} of '{}' failed its CRC32C check; dropped, fetching it again",
               block_key.index, block_key.key);
  std::lock_guard lock(mu_);
  if (auto it = blocks_.find(block_key); it != blocks_.end() && it->second.block == block) {
    EraseLocked(it);
  }
  ++stats_.corrupted;
  return nullptr;
}

bool BlockCache::Contains(const BlockKey& block_key) {
  std::lock_guard lock(mu_);
  return FindLocked(block_key) != nullptr;
}

void BlockCache::Insert(const BlockKey& block_key, Block block) {
  std::vector<uint32_t> crcs;
  if (block != nullptr) crcs = ChunkChecksums(*block);  // before taking the lock
  std::lock_guard lock(mu_);
  InsertLocked(block_key, std::move(block), std::move(crcs));
}

Result<BlockCache::Block> BlockCache::GetOrFetch(const BlockKey& block_key,
                                                 const FetchFunction& fetch) {
  std::shared_ptr<InFlight> flight;
  for (;;) {
    if (Block block = Lookup(block_key)) return block;
    std::unique_lock lock(mu_);
    if (blocks_.contains(block_key)) continue;  // inserted meanwhile: check it and serve it
    auto [it, first] = in_flight_.try_emplace(block_key);
    if (!first) {
      flight = it->second;  // keeps it alive after the fetcher drops it from in_flight_
      ++stats_.fetch_waits;
      flight->done_cv.wait(lock, [&flight] { return flight->done; });
      return *flight->result;
    }
    it->second = std::make_shared<InFlight>();
    flight = it->second;
    ++stats_.fetches;
    break;
  }
  Result<Block> result = RunFetch(fetch);
  std::vector<uint32_t> crcs;
  if (result.ok()) crcs = ChunkChecksums(**result);
  std::lock_guard lock(mu_);
  if (result.ok() && !flight->erased) InsertLocked(block_key, *result, std::move(crcs));
  in_flight_.erase(block_key);  // a failure is not remembered: the next call retries
  flight->result = result;
  flight->done = true;
  flight->done_cv.notify_all();
  return result;
}

bool BlockCache::CorruptForTesting(const BlockKey& block_key, size_t offset) {
  std::lock_guard lock(mu_);
  auto it = blocks_.find(block_key);
  if (it == blocks_.end() || offset >= it->second.block->size()) return false;
  auto copy = std::make_shared<std::string>(*it->second.block);
  (*copy)[offset] = static_cast<char>(~(*copy)[offset]);
  it->second.block = std::move(copy);
  return true;
}

size_t BlockCache::EraseBlocks(const std::string& key, const std::string& etag, uint64_t first,
                               uint64_t last) {
  std::vector<Block> released;  // freed after the lock is let go
  std::lock_guard lock(mu_);
  auto it = blocks_.lower_bound(BlockKey{.key = key, .etag = etag, .index = first});
  while (it != blocks_.end() && it->first.key == key && it->first.etag == etag &&
         it->first.index <= last) {
    auto next = std::next(it);
    released.push_back(it->second.block);
    EraseLocked(it);
    it = next;
  }
  return released.size();
}

void BlockCache::EraseObject(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = blocks_.lower_bound(BlockKey{.key = key, .etag = "", .index = 0});
  while (it != blocks_.end() && it->first.key == key) {
    auto next = std::next(it);
    EraseLocked(it);
    it = next;
  }
  for (auto& [flight_key, flight] : in_flight_) {
    if (flight_key.key == key) flight->erased = true;
  }
}

size_t BlockCache::Reserve(size_t unit, size_t max_units, bool wait) {
  std::unique_lock lock(mu_);
  const size_t capacity = options_.capacity_bytes;
  if (unit == 0 || max_units == 0 || unit > capacity) return 0;
  if (reserved_bytes_ + unit > capacity) {
    if (!wait) return 0;
    ++stats_.reserve_waits;
    reservation_ended_.wait(lock, [&] { return reserved_bytes_ + unit <= capacity; });
  }
  const size_t units = std::min(max_units, (capacity - reserved_bytes_) / unit);
  reserved_bytes_ += units * unit;
  EvictLocked();
  return units;
}

void BlockCache::Unreserve(size_t bytes) {
  {
    std::lock_guard lock(mu_);
    reserved_bytes_ -= std::min(bytes, reserved_bytes_);
  }
  reservation_ended_.notify_all();
}

void BlockCache::InsertReserved(const BlockKey& block_key, Block block, size_t reserved) {
  std::vector<uint32_t> crcs;
  if (block != nullptr) crcs = ChunkChecksums(*block);  // before taking the lock
  {
    std::lock_guard lock(mu_);
    reserved_bytes_ -= std::min(reserved, reserved_bytes_);
    InsertLocked(block_key, std::move(block), std::move(crcs));
  }
  reservation_ended_.notify_all();
}

size_t BlockCache::used_bytes() const {
  std::lock_guard lock(mu_);
  return used_bytes_;
}

size_t BlockCache::reserved_bytes() const {
  std::lock_guard lock(mu_);
  return reserved_bytes_;
}

size_t BlockCache::block_count() const {
  std::lock_guard lock(mu_);
  return blocks_.size();
}

BlockCache::Stats BlockCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

BlockCache::Node* BlockCache::FindLocked(const BlockKey& block_key) {
  auto it = blocks_.find(block_key);
  if (it == blocks_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second.lru_position);
  return &it->second;
}

void BlockCache::InsertLocked(const BlockKey& block_key, Block block, std::vector<uint32_t> crcs) {
  if (block == nullptr) return;
  if (auto it = blocks_.find(block_key); it != blocks_.end()) EraseLocked(it);
  const size_t charge = block->size();
  if (charge > options_.capacity_bytes) return;
  auto inserted = blocks_.emplace(block_key, Node{std::move(block), std::move(crcs), {}}).first;
  lru_.push_front(&inserted->first);
  inserted->second.lru_position = lru_.begin();
  used_bytes_ += charge;
  ++stats_.insertions;
  EvictLocked();
}

void BlockCache::EvictLocked() {
  // Reservations never exceed the capacity; an inserted block fits it alone, so this stops
  // before evicting the block just inserted unless reservations need its room too.
  while (used_bytes_ + reserved_bytes_ > options_.capacity_bytes && !lru_.empty()) {
    EraseLocked(blocks_.find(*lru_.back()));
    ++stats_.evictions;
  }
  stats_.peak_charged = std::max<uint64_t>(stats_.peak_charged, used_bytes_ + reserved_bytes_);
}

void BlockCache::EraseLocked(BlockMap::iterator it) {
  used_bytes_ -= it->second.block->size();
  lru_.erase(it->second.lru_position);
  blocks_.erase(it);
}

Result<BlockCache::Block> BlockCache::RunFetch(const FetchFunction& fetch) {
  try {
    Result<Block> result = fetch();
    if (result.ok() && *result == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, "block fetch returned no block");
    }
    return result;
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kUnknown, std::string("block fetch threw: ") + e.what());
  } catch (...) {
    return MakeError(ErrorCode::kUnknown, "block fetch threw a non-standard exception");
  }
}

}  // namespace s3mount
