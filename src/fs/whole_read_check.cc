// WholeReadCheck: per-block CRC32Cs of a sequential reader, combined and checked at the end.
#include "fs/whole_read_check.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "s3mount/aws/crc32c.h"

namespace s3mount {

WholeReadCheck::WholeReadCheck(BlockFetcher& fetcher, const ObjectVersion& object,
                               uint64_t verified_size)
    : fetcher_(fetcher),
      object_(object),
      enabled_(object.size > verified_size && fetcher.BlockCount(object) <= kMaxBlocks) {}

void WholeReadCheck::Record(uint64_t index, const BlockCache::Block& block) {
  if (!enabled_) return;
  {
    std::lock_guard lock(mu_);
    if (crcs_.empty()) crcs_.resize(fetcher_.BlockCount(object_));
    if (index >= crcs_.size() || crcs_[index].has_value()) return;
  }
  const uint32_t crc = Crc32c(*block);  // outside the lock
  std::lock_guard lock(mu_);
  crcs_[index] = crc;
}

Status WholeReadCheck::BeforeFinalRead() {
  if (!enabled_) return OkStatus();
  std::vector<uint64_t> missing;
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    if (verified_) return OkStatus();
    failed = failed_;
  }
  if (failed) {
    // The kernel asks again for pages whose read failed: it gets the same answer, and what
    // was fetched meanwhile is dropped too.
    fetcher_.Forget(object_);
    return MismatchError();
  }
  {
    std::lock_guard lock(mu_);
    if (crcs_.empty()) crcs_.resize(fetcher_.BlockCount(object_));
    for (uint64_t index = 0; index < crcs_.size(); ++index) {
      if (!crcs_[index].has_value()) missing.push_back(index);
    }
  }
  if (missing.size() > kMaxMissingBlocks) return OkStatus();  // not a whole read
  for (uint64_t index : missing) {
    // Parallel reads may still be on their way to these blocks: take them from the cache
    // (or fetch them) now.
    auto block = fetcher_.Get(object_, index);
    if (!block.ok()) return std::move(block).error();
    Record(index, *block);
  }
  auto stored = fetcher_.StoredChecksum(object_);
  if (!stored.ok()) return std::move(stored).error();
  if (!stored->has_value()) return OkStatus();  // nothing to check against
  const uint64_t block_size = fetcher_.block_size();
  uint32_t combined = 0;
  {
    std::lock_guard lock(mu_);
    for (uint64_t index = 0; index < crcs_.size(); ++index) {
      const uint64_t length = std::min<uint64_t>(block_size, object_.size - index * block_size);
      combined = Crc32cCombine(combined, crcs_[index].value_or(0), length);
    }
    if (combined == **stored) {
      verified_ = true;
      return OkStatus();
    }
    failed_ = true;  // this reader's final reads fail from now on
  }
  fetcher_.Forget(object_);
  spdlog::warn("read: '{}': the bytes read have CRC32C {}, the object has {}; not serving its end",
               object_.key, Crc32cBase64(combined), Crc32cBase64(**stored));
  return MismatchError();
}

Error WholeReadCheck::MismatchError() const {
  return MakeError(ErrorCode::kChecksumMismatch,
                   "'" + object_.key + "' read whole does not match its CRC32C");
}

}  // namespace s3mount
