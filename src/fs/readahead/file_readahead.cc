// FileReadahead: sequential detection and the sliding readahead window of one reader.
#include "fs/readahead/file_readahead.h"

#include <algorithm>

namespace s3mount {

FileReadahead::FileReadahead(BlockFetcher& fetcher, uint64_t object_size, size_t max_readahead,
                             size_t max_request, size_t first_request)
    : fetcher_(fetcher),
      object_size_(object_size),
      max_readahead_(max_readahead),
      max_request_(max_request),
      first_request_(first_request) {}

FileReadahead::~FileReadahead() {
  if (streaming_) fetcher_.RemoveStream();
}

FileReadahead::Plan FileReadahead::Advance(uint64_t offset, uint64_t end) {
  const uint64_t block = fetcher_.block_size();
  Plan plan;
  std::lock_guard lock(mu_);
  // The kernel may deliver parallel reads slightly out of order: near the expected offset
  // still counts as sequential. A random reader must continue where it stopped (give or take
  // kRandomSlack) to start a run: two random reads that merely land within a block of each
  // other should not start a readahead.
  const uint64_t slack =
      window_ > 0 ? std::max<uint64_t>(window_ / 2, block) : readahead::kRandomSlack;
  const bool sequential = offset + slack >= next_sequential_ && offset <= next_sequential_ + slack;
  if (offset == 0 && window_ == 0) {
    // Reading from the start: fetch a first stretch at once and expect more.
    plan.demand_run = std::max<uint64_t>(1, first_request_ / block);
    ahead_end_ = plan.demand_run * block;
    window_ = 2 * first_request_;
  } else if (!sequential) {
    window_ = 0;
    ahead_end_ = 0;
  } else if (window_ == 0) {
    window_ = 2 * block;  // a sequential run starting mid-file
    ahead_end_ = end;
  }
  next_sequential_ = std::max(end, sequential ? next_sequential_ : end);
  if ((window_ > 0) != streaming_) {
    streaming_ = window_ > 0;
    if (streaming_) {
      fetcher_.AddStream();
    } else {
      fetcher_.RemoveStream();
    }
  }
  if (window_ > 0) window_ = fetcher_.ReadaheadLimit(window_);
  if (window_ > 0 && ahead_end_ < object_size_) {
    // A sliding window: [end, end + window) is kept asked for, topped up whenever a step's
    // worth is missing, so GETs stay in flight back to back instead of in bursts.
    const uint64_t from = std::max(ahead_end_, end);
    uint64_t to = std::min<uint64_t>(end + window_, object_size_);
    if (to < object_size_) to = to / block * block;
    const uint64_t step = std::max<uint64_t>(std::min<uint64_t>(max_request_, window_ / 2), 1);
    if (to > from && (to - from >= step || to == object_size_)) {
      plan.prefetch_from = from;
      plan.prefetch_to = to;
      ahead_end_ = to;
      window_ = fetcher_.ReadaheadLimit(std::min<uint64_t>(window_ * 2, max_readahead_));
    }
  }
  plan.random = window_ == 0;
  return plan;
}

}  // namespace s3mount
