// ListingCache: complete listings of recently read directories, kept for list_ttl, so that a
// second `ls` of a directory within that time costs no request. Only listings that were read
// to the end are stored, and only up to a total number of entries (larger directories stream
// every time). Any change to a directory (a local write, a change event) forgets it.
//
// Thread-safety: all methods are safe to call concurrently.
// LOCK ORDERING: mu_ is a leaf.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "s3mount/cache/metadata_cache.h"
#include "s3mount/common/clock.h"

namespace s3mount {

struct ListedEntry {
  std::string name;
  std::string path;  // relative to the mount root
  PathEntry entry;   // kFile or kDirectory
};

using Listing = std::shared_ptr<const std::vector<ListedEntry>>;

class ListingCache {
 public:
  ListingCache(std::chrono::nanoseconds ttl, size_t max_total_entries)
      : ttl_(ttl), max_total_entries_(max_total_entries) {}

  // A listing fetched at `fetched_at` (when its first page was asked for).
  void Insert(const std::string& directory, Listing listing, MonoTime fetched_at);
  Listing Lookup(const std::string& directory, MonoTime now);
  void Invalidate(const std::string& directory);
  void Clear();

 private:
  struct Stored {
    Listing listing;
    MonoTime fetched_at;
    std::list<std::string>::iterator age;
  };
  void EvictLocked(const std::string& directory);

  const std::chrono::nanoseconds ttl_;
  const size_t max_total_entries_;
  std::mutex mu_;
  std::map<std::string, Stored> listings_;  // guarded by mu_
  std::list<std::string> oldest_first_;     // guarded by mu_
  size_t total_entries_ = 0;                // guarded by mu_
};

}  // namespace s3mount
