// StreamFor: the per-directory reader streams of the readaheads (DirectoryReadahead,
// LookupReadahead), kept in a small map whose least recently used entry makes room.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace s3mount {

// The stream of `directory` in `streams`, made if missing. When `limit` streams are kept
// already, the one used least recently goes first (`evicted` sees it). The stream's `used`
// is set to `now` (a counter of uses, not a time). Not thread-safe: callers hold their lock.
template <typename Stream, typename Evicted>
Stream& StreamFor(std::map<std::string, Stream>& streams, const std::string& directory,
                  size_t limit, uint64_t now, Evicted&& evicted) {
  auto it = streams.find(directory);
  if (it == streams.end()) {
    if (streams.size() >= limit && !streams.empty()) {
      auto oldest = std::min_element(
          streams.begin(), streams.end(),
          [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
      std::forward<Evicted>(evicted)(oldest->first, oldest->second);
      streams.erase(oldest);
    }
    it = streams.emplace(directory, Stream{}).first;
  }
  it->second.used = now;
  return it->second;
}

}  // namespace s3mount
