// ListingReadahead: LIST pages and HEADs ahead of a directory reader.
#include "fs/readahead/listing_readahead.h"

#include <algorithm>

#include "fs/readahead/readahead_limits.h"

namespace s3mount {

void ListingReadahead::Advance(DirectoryStream& stream, uint64_t index, ListedHeads heads,
                               ThreadPool& list_pool, PathResolver& resolver,
                               const LocalOverlay& overlay, MetadataPrefetcher& prefetcher) {
  const uint64_t upto =
      index + std::min(readahead::kListingMaxWindow, readahead::kListingFirstWindow + 2 * index);
  const uint64_t known = stream.ReadAhead(upto, list_pool);
  if (heads == ListedHeads::kNone) return;
  if (index < last_index_) prefetched_until_ = index;  // rewound
  last_index_ = index;
  for (uint64_t i = std::max(prefetched_until_, index); i < std::min(upto, known); ++i) {
    const ListedEntry* listed = stream.Peek(i);
    if (listed == nullptr) break;
    const bool wanted =
        heads == ListedHeads::kAll || PathResolver::MayBeDirectoryObject(listed->entry);
    if (wanted && !resolver.KnownOrInFlight(listed->path) &&
        !overlay.IsDeleteQueued(listed->path)) {
      prefetcher.Enqueue(group_, listed->path, listed->entry);
    }
    prefetched_until_ = i + 1;
  }
}

}  // namespace s3mount
