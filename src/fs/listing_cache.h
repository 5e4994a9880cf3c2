// ListingCache: complete listings of recently read directories, kept for list_ttl, so that a
// second `ls` of a directory within that time costs no request, and a lookup of a name the
// listing does not have costs none either. Only listings that were read to the end are
// stored, and only up to a total number of entries (larger directories stream every time). A
// local change to an entry is applied to the cached listing; a change event forgets it. A
// listing whose LIST started before the directory's latest change is not stored.
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
#include <unordered_map>
#include <utility>
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

  // A listing fetched at `fetched_at` (when its first page was asked for). It is dropped if
  // the directory changed locally after that time (Upsert/Erase/Invalidate).
  void Insert(const std::string& directory, Listing listing, MonoTime fetched_at);
  Listing Lookup(const std::string& directory, MonoTime now);
  void Invalidate(const std::string& directory, MonoTime now);
  void Clear(MonoTime now);

  // A local change to one entry of a cached listing, applied in place (copy on write:
  // directory handles reading the old listing keep it) instead of forgetting the listing.
  void Upsert(const std::string& directory, const ListedEntry& entry, MonoTime now);
  void Erase(const std::string& directory, const std::string& name, MonoTime now);

  // What a fresh cached listing of `directory` says of `name`: nullopt when there is no such
  // listing; else the entry, or an entry of kind kMissing when the listing does not have it.
  std::optional<PathEntry> Find(const std::string& directory, const std::string& name,
                                MonoTime now);
  // A fresh cached listing of `directory` and where `name` is in it; nullopt when there is
  // no such listing or it does not have `name`.
  std::optional<std::pair<Listing, size_t>> Locate(const std::string& directory,
                                                   const std::string& name, MonoTime now);
  // How many directories a fresh cached listing of `directory` has (for its link count);
  // nullopt when there is no such listing.
  std::optional<size_t> SubdirectoryCount(const std::string& directory, MonoTime now) const;

 private:
  struct Stored {
    Listing listing;
    MonoTime fetched_at;
    std::list<std::string>::iterator age;
    std::unordered_map<std::string, size_t> index;  // name -> position in listing
    size_t subdirectories = 0;                      // entries of kind kDirectory
  };
  static size_t CountSubdirectories(const std::vector<ListedEntry>& entries);
  static std::unordered_map<std::string, size_t> IndexOf(const std::vector<ListedEntry>& entries);
  void EvictLocked(const std::string& directory);
  void MarkChangedLocked(const std::string& directory, MonoTime now);

  const std::chrono::nanoseconds ttl_;
  const size_t max_total_entries_;
  mutable std::mutex mu_;
  std::map<std::string, Stored> listings_;  // guarded by mu_
  std::list<std::string> oldest_first_;     // guarded by mu_
  size_t total_entries_ = 0;                // guarded by mu_
  // When each directory last changed locally, for ttl_ (older listings are stale anyway).
  std::map<std::string, MonoTime> changed_;  // guarded by mu_
  MonoTime cleared_at_{};                    // guarded by mu_
};

}  // namespace s3mount
