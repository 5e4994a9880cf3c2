// FileReader: assembling a read from cached blocks, as FileReadahead plans it.
#include "fs/file_reader.h"

#include <algorithm>

namespace s3mount {

FileReader::FileReader(BlockFetcher& fetcher, ObjectVersion object, size_t max_readahead,
                       size_t max_request, size_t first_request)
    : fetcher_(fetcher),
      object_(std::move(object)),
      max_request_(max_request),
      readahead_(fetcher, object_.size, max_readahead, max_request, first_request),
      check_(fetcher, object_, std::max<uint64_t>(first_request, BlockFetcher::kWholeObjectLimit)),
      drops_behind_(fetcher.DropsBehind(object_.size)) {}

void FileReader::DropBehind(uint64_t offset) {
  if (offset < readahead::kDropBehindLag) return;
  const uint64_t upto = (offset - readahead::kDropBehindLag) / fetcher_.block_size();
  uint64_t from = dropped_until_.load();
  while (from < upto && !dropped_until_.compare_exchange_weak(from, upto)) {
  }
  if (from < upto) fetcher_.DropBehind(object_, from, upto - 1);
}

Result<std::vector<DataSlice>> FileReader::ReadRandom(uint64_t offset, uint64_t end) {
  const uint64_t from = offset / readahead::kRandomReadAlign * readahead::kRandomReadAlign;
  const uint64_t to =
      std::min<uint64_t>((end + readahead::kRandomReadAlign - 1) / readahead::kRandomReadAlign *
                             readahead::kRandomReadAlign,
                         object_.size);
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
  const FileReadahead::Plan plan = readahead_.Advance(offset, end);
  if (plan.random && end - offset <= block_size / 2 && !fetcher_.Covered(object_, first, last)) {
    return ReadRandom(offset, end);
  }
  if (plan.prefetch_to > plan.prefetch_from) {
    fetcher_.Prefetch(object_, plan.prefetch_from / block_size, (plan.prefetch_to - 1) / block_size,
                      max_request_);
  }
  for (uint64_t index = first; index <= last; ++index) {
    const uint64_t run = std::max(last - index + 1, index == first ? plan.demand_run : 1);
    const uint64_t block_start = index * block_size;
    const uint64_t from = std::max(offset, block_start) - block_start;
    auto block = fetcher_.Get(object_, index, run, static_cast<size_t>(from),
                              static_cast<size_t>(end - block_start));
    if (!block.ok()) return std::move(block).error();
    const uint64_t to = std::min<uint64_t>(end - block_start, (*block)->size());
    if (to <= from) break;
    check_.Record(index, *block);
    slices.push_back({*block, static_cast<size_t>(from), static_cast<size_t>(to - from)});
  }
  if (end == object_.size) S3M_RETURN_IF_ERROR(check_.BeforeFinalRead());
  if (drops_behind_ && !plan.random) DropBehind(offset);
  return slices;
}

}  // namespace s3mount
