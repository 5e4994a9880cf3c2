// LookupReadahead: metadata readahead for lookups that follow a directory's listing. A program
// that reads a directory and then looks its entries up one by one (`rm -r`, `cat dir/*`,
// `cp -r`, `du`) makes the kernel send one LOOKUP per name; when the kernel read the listing
// with plain READDIR (it switches from READDIRPLUS to READDIR once a program stops looking
// entries up between reads), none of those names is described yet, and with per-object
// metadata each LOOKUP waits for its own HEAD: one round trip per file, in series.
//
// Once a few consecutive lookups of one directory followed its cached listing, the next
// entries of that listing are HEADed ahead by the MetadataPrefetcher (single-flight: a lookup
// that reaches a name in flight joins its HEAD). The window grows while lookups stay in order
// and a jump elsewhere cancels what is queued. Order is judged by names, not positions, so
// that a listing that changes under the reader (each `rm` removes the entry just looked up)
// still counts as followed.
//
// It never changes an answer: a prefetched HEAD is cached as any HEAD is, with the time it
// was sent, so an answer that raced with a change loses. A wrong guess costs the window's
// HEADs.
//
// Thread-safety: all methods may be called concurrently.
// LOCK ORDERING: mu_ is a leaf (released before the resolver or the prefetcher is called).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "fs/listing_cache.h"
#include "fs/path_resolver.h"
#include "fs/readahead/metadata_prefetcher.h"

namespace s3mount {

struct LookupReadaheadOptions {
  size_t max_window = 64;  // entries HEADed ahead of the last lookup at most; 0: off
  size_t trigger = 2;      // in-order lookups before prefetching starts
};

class LookupReadahead {
 public:
  LookupReadahead(ListingCache& listings, PathResolver& resolver, MetadataPrefetcher& prefetcher,
                  LookupReadaheadOptions options);

  // `name` in `directory` (both relative to the mount root) is being looked up at `now`.
  void LookingUp(const std::string& directory, const std::string& name, MonoTime now);

  // HEADs queued so far (each one a request unless the answer was cached meanwhile).
  uint64_t queued() const;

 private:
  // One directory being looked up in listing order.
  struct Stream {
    std::string last;   // the last name looked up
    std::string ahead;  // names up to this one were queued already
    size_t run = 0;     // consecutive lookups in listing order, ending at `last`
    size_t window = 0;  // entries wanted ahead of `last`; 0 while not prefetching
    MetadataPrefetcher::Group group;
    uint64_t used = 0;  // when it was last used, in lookups, for eviction
  };

  Stream& StreamLocked(const std::string& directory);

  ListingCache& listings_;
  PathResolver& resolver_;
  MetadataPrefetcher& prefetcher_;
  const LookupReadaheadOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Stream> streams_;  // guarded by mu_; bounded (kFollowedDirectories)
  uint64_t lookups_ = 0;                   // guarded by mu_
  uint64_t queued_ = 0;                    // guarded by mu_
};

}  // namespace s3mount
