// ListingReadahead: the readahead of one directory handle's READDIR(PLUS) reader. As the
// reader reaches entry `index`, the LIST pages are read ahead up to a window that grows with
// what it has consumed (kListingFirstWindow, up to kListingMaxWindow entries ahead), and, when
// the entries need a HEAD each (readdirplus with per-object metadata; or, in readdirplus
// without it, the zero-byte keys that may be directory objects), those HEADs are queued on the
// MetadataPrefetcher for the entries already listed in that window, so the reply being built
// waits only for its own entries' answers. A name whose DELETE is queued (write-back) gets no
// HEAD: it is shown as gone, and the answer would only describe what is being deleted. A rewind (a
// smaller index) starts the HEADs over from there. Release cancels what is still queued.
//
// Thread-safety: Advance is called under the directory handle's lock (DirectoryHandle::mu);
// Cancel may be called from any thread.
#pragma once

#include <cstdint>

#include "fs/directory_stream.h"
#include "fs/local_overlay.h"
#include "fs/path_resolver.h"
#include "fs/readahead/metadata_prefetcher.h"
#include "s3mount/common/thread_pool.h"

namespace s3mount {

// Which listed entries the reader HEADs.
enum class ListedHeads {
  kNone,
  kInDoubt,  // only those PathResolver::MayBeDirectoryObject
  kAll,
};

class ListingReadahead {
 public:
  // The reader is at entry `index` of `stream`: LIST pages are read ahead on `list_pool`;
  // the listed entries `heads` selects that `resolver` does not know yet, and that `overlay`
  // has no DELETE queued for, are queued on `prefetcher`.
  void Advance(DirectoryStream& stream, uint64_t index, ListedHeads heads, ThreadPool& list_pool,
               PathResolver& resolver, const LocalOverlay& overlay, MetadataPrefetcher& prefetcher);
  // Drops the HEADs still queued (the handle is released); those in flight finish.
  void Cancel() const { MetadataPrefetcher::Cancel(group_); }

 private:
  uint64_t prefetched_until_ = 0;  // entries below it have had their HEADs queued
  uint64_t last_index_ = 0;        // the entry the last reply started at (smaller: a rewind)
  const MetadataPrefetcher::Group group_ = MetadataPrefetcher::NewGroup();
};

}  // namespace s3mount
