// LookupReadahead: in-order lookup detection per directory, feeding the MetadataPrefetcher.
#include "fs/readahead/lookup_readahead.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "fs/readahead/readahead_limits.h"
#include "fs/readahead/reader_streams.h"

namespace s3mount {
namespace {

// Whether `name`, at `position` of `listing`, follows `last` in listing order: it sorts
// after it, with at most kMaxInOrderStep listed names in between (`last` itself may be gone).
bool Follows(const std::vector<ListedEntry>& listing, size_t position, const std::string& name,
             const std::string& last) {
  if (!(last < name)) return false;
  for (size_t between = 0; between <= readahead::kMaxInOrderStep; ++between) {
    if (position <= between) return true;
    if (listing[position - between - 1].name <= last) return true;
  }
  return false;
}

}  // namespace

LookupReadahead::LookupReadahead(ListingCache& listings, PathResolver& resolver,
                                 MetadataPrefetcher& prefetcher, LookupReadaheadOptions options)
    : listings_(listings), resolver_(resolver), prefetcher_(prefetcher), options_(options) {}

uint64_t LookupReadahead::queued() const {
  std::lock_guard lock(mu_);
  return queued_;
}

void LookupReadahead::LookingUp(const std::string& directory, const std::string& name,
                                MonoTime now) {
  if (options_.max_window == 0) return;
  auto located = listings_.Locate(directory, name, now);
  std::vector<std::pair<std::string, PathEntry>> wanted;
  MetadataPrefetcher::Group group;
  {
    std::lock_guard lock(mu_);
    ++lookups_;
    if (!located.has_value()) {
      // Not in a fresh listing (new, or the listing expired): nothing to follow.
      if (auto it = streams_.find(directory); it != streams_.end()) {
        if (it->second.group) MetadataPrefetcher::Cancel(it->second.group);
        streams_.erase(it);
      }
      return;
    }
    const auto& [listing, position] = *located;
    Stream& stream = StreamLocked(directory);
    if (stream.run > 0 && name == stream.last) return;  // looked up again
    if (stream.run == 0 || !Follows(*listing, position, name, stream.last)) {
      if (stream.group) MetadataPrefetcher::Cancel(stream.group);  // drops what is queued
      stream.group = MetadataPrefetcher::NewGroup();
      stream.run = 0;
      stream.window = 0;
      stream.ahead = name;
    }
    stream.last = name;
    ++stream.run;
    if (stream.run < std::max<size_t>(options_.trigger, 1)) return;
    stream.window =
        readahead::GrowWindow(stream.window, readahead::kLookupFirstWindow, options_.max_window);
    const size_t end = std::min(listing->size(), position + 1 + stream.window);
    for (size_t i = position + 1; i < end; ++i) {
      const ListedEntry& entry = (*listing)[i];
      if (entry.name <= stream.ahead) continue;  // queued by an earlier lookup
      stream.ahead = entry.name;
      wanted.emplace_back(entry.path, entry.entry);
    }
    group = stream.group;
  }
  for (auto& [path, listed] : wanted) {
    if (resolver_.KnownOrInFlight(path)) continue;
    prefetcher_.Enqueue(group, std::move(path), std::move(listed));
    std::lock_guard lock(mu_);
    ++queued_;
  }
}

LookupReadahead::Stream& LookupReadahead::StreamLocked(const std::string& directory) {
  return StreamFor(streams_, directory, readahead::kFollowedDirectories, lookups_,
                   [](const std::string&, Stream& gone) {
                     if (gone.group) MetadataPrefetcher::Cancel(gone.group);
                   });
}

}  // namespace s3mount
