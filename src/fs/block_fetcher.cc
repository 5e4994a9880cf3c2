// BlockFetcher: ranged, ETag-pinned GETs sliced into cached blocks, with in-flight tracking.
#include "fs/block_fetcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>

#include "s3mount/aws/crc32c.h"
#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/verifying_sink.h"

namespace s3mount {
namespace {

// Cuts a GET's body into blocks and hands each one over as soon as it is complete.
class BlockSlicer final : public ObjectSink {
 public:
  using Deliver = std::function<void(uint64_t index, BlockCache::Block block)>;
  BlockSlicer(BufferPool& buffers, uint64_t first, uint64_t object_size, size_t block_size,
              Deliver deliver)
      : buffers_(buffers),
        next_(first),
        object_size_(object_size),
        block_size_(block_size),
        deliver_(std::move(deliver)) {
    StartBlock();
  }
  ~BlockSlicer() override { buffers_.Give(std::move(current_)); }
  BlockSlicer(const BlockSlicer&) = delete;
  BlockSlicer& operator=(const BlockSlicer&) = delete;

  Status Begin(const GetObjectResponse& /*response*/) override { return OkStatus(); }
  Status Append(std::string_view bytes) override {
    while (!bytes.empty()) {
      if (expected_ == 0) {
        return MakeError(ErrorCode::kInvalidResponse, "object is longer than its size said");
      }
      // The buffer is taken when the block's first bytes arrive (a run ends before the object).
      if (current_.empty() && current_.capacity() < expected_) current_ = buffers_.Take(expected_);
      const size_t take = std::min(bytes.size(), expected_ - current_.size());
      current_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (current_.size() == expected_) {
        deliver_(next_, buffers_.Share(std::move(current_)));
        ++next_;
        StartBlock();
      }
    }
    return OkStatus();
  }
  uint64_t next() const { return next_; }

 private:
  void StartBlock() {
    const uint64_t start = next_ * block_size_;
    expected_ = start >= object_size_ ? 0 : std::min<uint64_t>(block_size_, object_size_ - start);
    current_ = std::string();
  }

  BufferPool& buffers_;
  uint64_t next_;
  const uint64_t object_size_;
  const size_t block_size_;
  Deliver deliver_;
  std::string current_;
  size_t expected_ = 0;
};

BlockKey KeyOf(const ObjectVersion& object, uint64_t index) {
  return BlockKey{object.key, object.etag, index};
}

Error StaleIfGone(Error error) {
  if (error.code == ErrorCode::kPreconditionFailed || error.code == ErrorCode::kNotFound) {
    error.code = ErrorCode::kStale;  // the version this reader opened is gone
  }
  return error;
}

}  // namespace

BlockFetcher::BlockFetcher(ObjectStore& store, BlockCache& cache, ThreadPool& pool,
                           BufferPool& buffers, size_t block_size)
    : store_(store),
      cache_(cache),
      pool_(pool),
      buffers_(buffers),
      block_size_(block_size),
      accounted_(cache.capacity_bytes() >= block_size) {}

bool BlockFetcher::DropsBehind(uint64_t object_size) const {
  return accounted_ && object_size > cache_.capacity_bytes() / readahead::kDropBehindShareOfCache;
}

uint64_t BlockFetcher::ReserveBlocks(uint64_t blocks, bool wait) {
  if (!accounted_) return blocks;
  return cache_.Reserve(block_size_, static_cast<size_t>(blocks), wait);
}

void BlockFetcher::ReleaseUnclaimed(uint64_t reserved,
                                    const std::vector<std::pair<uint64_t, uint64_t>>& runs) {
  uint64_t claimed = 0;
  for (const auto& [first, last] : runs) claimed += last - first + 1;
  if (accounted_ && reserved > claimed) cache_.Unreserve((reserved - claimed) * block_size_);
}

uint64_t BlockFetcher::ReadaheadLimit(uint64_t wanted) const {
  const uint64_t capacity = cache_.capacity_bytes();
  if (capacity == 0) return wanted;  // no cache: the readers hold what they fetch
  const uint64_t share = capacity / 2 / std::max<size_t>(streams_.load(), 1);
  return std::min(wanted, std::max<uint64_t>(share, block_size_));
}

uint64_t BlockFetcher::BlockCount(const ObjectVersion& object) const {
  return (object.size + block_size_ - 1) / block_size_;
}

std::string BlockFetcher::InFlightKey(const ObjectVersion& object) {
  return object.etag + "\n" + object.key;
}

std::vector<std::pair<uint64_t, uint64_t>> BlockFetcher::Claim(const ObjectVersion& object,
                                                               uint64_t first, uint64_t last,
                                                               uint64_t max_blocks,
                                                               uint64_t max_total) {
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  std::lock_guard lock(mu_);
  PendingMap& pending = in_flight_[InFlightKey(object)];
  uint64_t total = 0;
  for (uint64_t index = first; index <= last && total < max_total; ++index) {
    if (pending.contains(index) || cache_.Contains(KeyOf(object, index))) continue;
    ++total;
    pending.emplace(index, std::make_shared<Pending>());
    if (!runs.empty() && runs.back().second + 1 == index &&
        runs.back().second - runs.back().first + 1 < max_blocks) {
      runs.back().second = index;
    } else {
      runs.emplace_back(index, index);
    }
  }
  // A short last run joins the one before it: one GET instead of a small extra one.
  if (runs.size() >= 2 && runs.back().first == runs[runs.size() - 2].second + 1 &&
      runs.back().second - runs.back().first + 1 < max_blocks / 2) {
    runs[runs.size() - 2].second = runs.back().second;
    runs.pop_back();
  }
  if (pending.empty()) in_flight_.erase(InFlightKey(object));
  return runs;
}

void BlockFetcher::Complete(const ObjectVersion& object, uint64_t index,
                            Result<BlockCache::Block> result) {
  // Every fetched block had its room reserved: it becomes the block's charge, or is freed.
  if (result.ok()) {
    if (accounted_) {
      cache_.InsertReserved(KeyOf(object, index), *result, block_size_);
    } else {
      cache_.Insert(KeyOf(object, index), *result);
    }
  } else if (accounted_) {
    cache_.Unreserve(block_size_);
  }
  std::lock_guard lock(mu_);
  auto map = in_flight_.find(InFlightKey(object));
  if (map == in_flight_.end()) return;
  auto it = map->second.find(index);
  if (it != map->second.end()) {
    it->second->result = std::move(result);
    map->second.erase(it);
  }
  if (map->second.empty()) in_flight_.erase(map);
  completed_.notify_all();
}

void BlockFetcher::Fetch(const ObjectVersion& object, uint64_t first, uint64_t last) {
  const uint64_t start = first * block_size_;
  const uint64_t end = std::min<uint64_t>((last + 1) * block_size_, object.size);  // exclusive
  if ((start == 0 && end == object.size) || object.size <= kWholeObjectLimit) {
    // A small object is always fetched whole and verified, whichever blocks are missing: a
    // ranged GET of it after its verified GET failed would serve what the check refused.
    FetchWhole(object, first, last);
    return;
  }
  BlockSlicer slicer(
      buffers_, first, object.size, block_size_,
      [&](uint64_t index, BlockCache::Block block) { Complete(object, index, std::move(block)); });
  spdlog::trace("fetch: '{}' blocks {}-{} ({} bytes)", object.key, first, last, end - start);
  auto got = store_.GetObject(
      {.key = object.key, .range = ByteRange{start, end - 1}, .if_match = object.etag}, slicer);
  Error error = got.ok() ? MakeError(ErrorCode::kInvalidResponse, "object is shorter than its size")
                         : StaleIfGone(std::move(got).error());
  for (uint64_t index = slicer.next(); index <= last; ++index) Complete(object, index, error);
}

Result<std::vector<BlockCache::Block>> BlockFetcher::GetWholeVerified(const ObjectVersion& object) {
  Error error = MakeError(ErrorCode::kUnknown, "no attempt");
  for (int attempt = 1; attempt <= kVerifiedReadAttempts; ++attempt) {
    std::vector<BlockCache::Block> blocks;
    BlockSlicer slicer(buffers_, 0, object.size, block_size_,
                       [&](uint64_t, BlockCache::Block block) {
                         blocks.push_back(std::move(block));  // held back until the body checks out
                       });
    VerifyingSink verifying(slicer);
    auto got = store_.GetObject({.key = object.key, .if_match = object.etag, .checksum_mode = true},
                                verifying);
    if (!got.ok()) return StaleIfGone(std::move(got).error());
    if (blocks.size() != BlockCount(object)) {
      return MakeError(ErrorCode::kInvalidResponse, "object is shorter than its size");
    }
    Status verified = verifying.Verify();
    if (verified.ok()) return blocks;
    error = std::move(verified).error();
    spdlog::warn("read: '{}': {} (attempt {} of {}){}", object.key, error.message, attempt,
                 kVerifiedReadAttempts,
                 attempt < kVerifiedReadAttempts ? "; fetching it again" : "");
  }
  return error;
}

void BlockFetcher::FetchWhole(const ObjectVersion& object, uint64_t first, uint64_t last) {
  spdlog::trace("fetch: '{}' whole ({} bytes), verified", object.key, object.size);
  auto blocks = GetWholeVerified(object);
  for (uint64_t index = first; index <= last; ++index) {
    if (blocks.ok()) {
      Complete(object, index, (*blocks)[index]);
    } else {
      Complete(object, index, blocks.error());
    }
  }
}

void BlockFetcher::Prefetch(const ObjectVersion& object, uint64_t first, uint64_t last,
                            size_t max_request) {
  if (object.size == 0) return;
  last = std::min(last, BlockCount(object) - 1);
  if (first > last) return;
  const uint64_t max_blocks = std::max<uint64_t>(1, max_request / block_size_);
  // Readahead takes only the room there is now.
  const uint64_t reserved = ReserveBlocks(last - first + 1, /*wait=*/false);
  if (reserved == 0) return;
  const auto runs = Claim(object, first, last, max_blocks, reserved);
  ReleaseUnclaimed(reserved, runs);
  for (const auto& [run_first, run_last] : runs) {
    Status submitted =
        pool_.Submit([this, object, from = run_first, to = run_last] { Fetch(object, from, to); });
    if (!submitted.ok()) {
      // Readers may already wait for these claimed blocks: give them the refusal.
      for (uint64_t index = run_first; index <= run_last; ++index) {
        Complete(object, index, submitted.error());
      }
    }
  }
}

bool BlockFetcher::Covered(const ObjectVersion& object, uint64_t first, uint64_t last) {
  std::lock_guard lock(mu_);
  auto map = in_flight_.find(InFlightKey(object));
  for (uint64_t index = first; index <= last; ++index) {
    const bool pending = map != in_flight_.end() && map->second.contains(index);
    if (!pending && !cache_.Contains(KeyOf(object, index))) return false;
  }
  return true;
}

Result<std::optional<uint32_t>> BlockFetcher::StoredChecksum(const ObjectVersion& object) {
  auto head =
      store_.HeadObject({.key = object.key, .if_match = object.etag, .checksum_mode = true});
  if (!head.ok()) return StaleIfGone(std::move(head).error());
  return ParseCrc32cBase64(head->checksum_crc32c);
}

Result<BlockCache::Block> BlockFetcher::GetRange(const ObjectVersion& object, uint64_t offset,
                                                 size_t length) {
  spdlog::trace("fetch: '{}' range {}+{}", object.key, offset, length);
  if (offset == 0 && length == object.size) {
    // The whole object: fetched in one verified GET, like a first read from offset 0.
    auto blocks = GetWholeVerified(object);
    if (!blocks.ok()) return std::move(blocks).error();
    if (blocks->size() == 1) return blocks->front();
    auto joined = std::make_shared<std::string>();
    joined->reserve(length);
    for (const auto& block : *blocks) joined->append(*block);
    return BlockCache::Block(std::move(joined));
  }
  // Its bytes count against the cache's room while they are received.
  const bool reserved = accounted_ && cache_.Reserve(length, 1, /*wait=*/true) == 1;
  auto bytes = std::make_shared<std::string>(length, '\0');
  BufferSink sink(std::span<char>(bytes->data(), length));
  auto got = store_.GetObject(
      {.key = object.key, .range = ByteRange{offset, offset + length - 1}, .if_match = object.etag},
      sink);
  if (reserved) cache_.Unreserve(length);
  if (!got.ok()) return StaleIfGone(std::move(got).error());
  if (sink.size() != length) {
    return MakeError(ErrorCode::kInvalidResponse, "ranged GET returned " +
                                                      std::to_string(sink.size()) + " bytes of " +
                                                      std::to_string(length));
  }
  return BlockCache::Block(std::move(bytes));
}

Result<BlockCache::Block> BlockFetcher::Get(const ObjectVersion& object, uint64_t index,
                                            uint64_t run, size_t from, size_t to) {
  const uint64_t last = std::min(index + std::max<uint64_t>(run, 1) - 1, BlockCount(object) - 1);
  // The cached block's checksum is checked outside mu_; a corrupted one is dropped (a miss).
  if (auto block = cache_.Lookup(KeyOf(object, index), from, to)) return block;
  std::shared_ptr<Pending> waiting;
  std::vector<std::pair<uint64_t, uint64_t>> claimed;
  {
    std::unique_lock lock(mu_);
    if (auto block = cache_.Lookup(KeyOf(object, index), from, to)) return block;
    auto map = in_flight_.find(InFlightKey(object));
    if (map != in_flight_.end()) {
      auto it = map->second.find(index);
      if (it != map->second.end()) waiting = it->second;
    }
    if (waiting) {
      completed_.wait(lock, [&] { return waiting->result.has_value(); });
      return *waiting->result;
    }
  }
  // Room for the run, as much as there is, and for one block at least (waiting for it).
  const uint64_t reserved = ReserveBlocks(last - index + 1, /*wait=*/true);
  claimed = Claim(object, index, last, last - index + 1, reserved);
  ReleaseUnclaimed(reserved, claimed);
  if (claimed.empty() || claimed.front().first != index) {
    // Someone else claimed this block first: fetch what was claimed, then wait for them.
    for (const auto& [run_first, run_last] : claimed) Fetch(object, run_first, run_last);
    return Get(object, index, 1, from, to);
  }
  {
    std::lock_guard lock(mu_);
    waiting = in_flight_[InFlightKey(object)].at(index);
  }
  for (const auto& [run_first, run_last] : claimed) Fetch(object, run_first, run_last);
  std::unique_lock lock(mu_);
  completed_.wait(lock, [&] { return waiting->result.has_value(); });
  return *waiting->result;
}

}  // namespace s3mount
