// WholeReadCheck: the integrity check of a whole read of an object too large for one verified
// GET (BlockFetcher verifies whole-object GETs; the ranged GETs of larger objects carry no
// checksum from S3). As a reader is served block after block, the CRC32C of each block (as
// served) is recorded; the read that reaches the object's last byte is held back until the
// recorded CRCs, combined, equal the object's full CRC32C as S3 stores it (one HEAD with
// x-amz-checksum-mode). A mismatch drops the object's cached blocks, is logged naming the key
// and fails that final read, and every later one through this reader (the kernel asks again
// for pages whose read failed), with kChecksumMismatch (EIO): a sequential copy of the file
// can then never complete with wrong bytes, though bytes before the end were already served.
// A new open starts afresh.
// No check happens (and the final read is served) when the reader skipped more than
// kMaxMissingBlocks blocks (a random reader: fetching them would cost a whole read), when the
// object has no full CRC32C (uploaded without one, or a composite multipart checksum), or
// when it has more than kMaxBlocks blocks.
//
// Thread-safety: Record and BeforeFinalRead may be called concurrently.
// LOCK ORDERING: mu_ is a leaf, never held across a fetch or a request.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "fs/block_fetcher.h"

namespace s3mount {

class WholeReadCheck {
 public:
  static constexpr uint64_t kMaxMissingBlocks = 4;
  static constexpr uint64_t kMaxBlocks = uint64_t{1} << 16;

  // `object` must outlive the check. Objects of at most `verified_size` bytes are read by
  // one verified GET and need no check.
  WholeReadCheck(BlockFetcher& fetcher, const ObjectVersion& object, uint64_t verified_size);

  // Block `index` as it is being served (its CRC32C is computed once per block).
  void Record(uint64_t index, const BlockCache::Block& block);
  // Before serving a read that ends at the object's end.
  Status BeforeFinalRead();

 private:
  Error MismatchError() const;

  BlockFetcher& fetcher_;
  const ObjectVersion& object_;
  const bool enabled_;
  std::mutex mu_;
  std::vector<std::optional<uint32_t>> crcs_;  // guarded by mu_; per block
  bool verified_ = false;                      // guarded by mu_
  bool failed_ = false;                        // guarded by mu_: a check failed
};

}  // namespace s3mount
