// FileReader: sequential detection, readahead and assembling a read from cached blocks.
#include "fs/file_reader.h"

#include <algorithm>

namespace s3mount {

FileReader::FileReader(BlockFetcher& fetcher, ObjectVersion object, size_t max_readahead,
                       size_t max_request, size_t first_request)
    : fetcher_(fetcher),
      object_(std::move(object)),
      max_readahead_(max_readahead),
      max_request_(max_request),
      first_request_(first_request) {}

FileReader::~FileReader() {
  if (streaming_) fetcher_.RemoveStream();
}

FileReader::Plan FileReader::Advance(uint64_t offset, uint64_t end) {
  const uint64_t block = fetcher_.block_size();
  Plan plan;
  std::lock_guard lock(mu_);
  // The kernel may deliver parallel reads slightly out of order: near the expected offset
  // still counts as sequential. A random reader must continue where it stopped (give or take
  // kRandomSlack) to start a run: two random reads that merely land within a block of each
  // other should not start a readahead.
  const uint64_t slack = window_ > 0 ? std::max<uint64_t>(window_ / 2, block) : kRandomSlack;
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
  if (window_ > 0 && ahead_end_ < object_.size) {
    // A sliding window: [end, end + window) is kept asked for, topped up whenever a step's
    // worth is missing, so GETs stay in flight back to back instead of in bursts.
    const uint64_t from = std::max(ahead_end_, end);
    uint64_t to = std::min<uint64_t>(end + window_, object_.size);
    if (to < object_.size) to = to / block * block;
    const uint64_t step = std::max<uint64_t>(std::min<uint64_t>(max_request_, window_ / 2), 1);
    if (to > from && (to - from >= step || to == object_.size)) {
      plan.prefetch_from = from;
      plan.prefetch_to = to;
      ahead_end_ = to;
      window_ = fetcher_.ReadaheadLimit(std::min<uint64_t>(window_ * 2, max_readahead_));
    }
  }
  plan.random = window_ == 0;
  return plan;
}

Result<std::vector<DataSlice>> FileReader::ReadRandom(uint64_t offset, uint64_t end) {
  const uint64_t from = offset / kRandomReadAlign * kRandomReadAlign;
  const uint64_t to = std::min<uint64_t>(
      (end + kRandomReadAlign - 1) / kRandomReadAlign * kRandomReadAlign, object_.size);
  auto bytes = fetcher_.GetRange(object_, from, static_cast<size_t>(to - from));
  if (!bytes.ok()) return std::move(bytes).error();
  return std::vector<DataSlice>{
      {*bytes, static_cast<size_t>(offset - from), static_cast<size_t>(end - offset)}};
}

Result<std::vector<DataSlice>> FileReader::Read(uint64_t offset, size_t size) {
  std::vector<DataSlice> slices;
  if (offset >= object_.size || size == 0) return slices;
  const uint64_t end = std::min<uint64_t>(offset + size, object_.size);
  const uint64_t block_size = fetcher_.block_size();
  const uint64_t first = offset / block_size;
  const uint64_t last = (end - 1) / block_size;
  const Plan plan = Advance(offset, end);
  if (plan.random && end - offset <= block_size / 2 && !fetcher_.Covered(object_, first, last)) {
    return ReadRandom(offset, end);
  }
  if (plan.prefetch_to > plan.prefetch_from) {
    fetcher_.Prefetch(object_, plan.prefetch_from / block_size, (plan.prefetch_to - 1) / block_size,
                      max_request_);
  }
  for (uint64_t index = first; index <= last; ++index) {
    const uint64_t run = std::max(last - index + 1, index == first ? plan.demand_run : 1);
    auto block = fetcher_.Get(object_, index, run);
    if (!block.ok()) return std::move(block).error();
    const uint64_t block_start = index * block_size;
    const uint64_t from = std::max(offset, block_start) - block_start;
    const uint64_t to = std::min<uint64_t>(end - block_start, (*block)->size());
    if (to <= from) break;
    slices.push_back({*block, static_cast<size_t>(from), static_cast<size_t>(to - from)});
  }
  return slices;
}

}  // namespace s3mount
