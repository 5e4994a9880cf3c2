// RangeSet: merged disjoint byte ranges.
#include "fs/range_set.h"

#include <algorithm>
#include <iterator>

namespace s3mount {

uint64_t RangeSet::Add(uint64_t begin, uint64_t end) {
  if (begin >= end) return 0;
  uint64_t added = end - begin;
  auto it = spans_.upper_bound(begin);
  if (it != spans_.begin()) {
    auto previous = std::prev(it);
    if (previous->second >= begin) it = previous;
  }
  // `it` is the first span that touches or follows [begin, end).
  while (it != spans_.end() && it->first <= end) {
    const uint64_t overlap_begin = std::max(begin, it->first);
    const uint64_t overlap_end = std::min(end, it->second);
    if (overlap_end > overlap_begin) added -= overlap_end - overlap_begin;
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    it = spans_.erase(it);
  }
  spans_.emplace(begin, end);
  return added;
}

uint64_t RangeSet::TruncateTo(uint64_t size) {
  uint64_t removed = 0;
  auto it = spans_.lower_bound(size);
  if (it != spans_.begin()) {
    auto previous = std::prev(it);
    if (previous->second > size) {
      removed += previous->second - size;
      previous->second = size;
    }
  }
  while (it != spans_.end()) {
    removed += it->second - it->first;
    it = spans_.erase(it);
  }
  return removed;
}

uint64_t RangeSet::total() const {
  uint64_t sum = 0;
  for (const auto& [begin, end] : spans_) sum += end - begin;
  return sum;
}

bool RangeSet::Overlaps(uint64_t begin, uint64_t end) const {
  if (begin >= end) return false;
  auto it = spans_.lower_bound(end);
  if (it == spans_.begin()) return false;
  --it;  // the last span starting before `end`
  return it->second > begin;
}

std::vector<RangeSet::Piece> RangeSet::Split(uint64_t begin, uint64_t end) const {
  std::vector<Piece> pieces;
  uint64_t at = begin;
  auto it = spans_.upper_bound(begin);
  if (it != spans_.begin() && std::prev(it)->second > begin) --it;
  for (; it != spans_.end() && it->first < end && at < end; ++it) {
    if (it->first > at) {
      pieces.push_back({{at, it->first}, false});
      at = it->first;
    }
    const uint64_t stop = std::min(end, it->second);
    pieces.push_back({{at, stop}, true});
    at = stop;
  }
  if (at < end) pieces.push_back({{at, end}, false});
  return pieces;
}

std::vector<ByteSpan> RangeSet::spans() const {
  std::vector<ByteSpan> out;
  out.reserve(spans_.size());
  for (const auto& [begin, end] : spans_) out.push_back({begin, end});
  return out;
}

}  // namespace s3mount
