// ListingCache: TTL-bound, size-bound store of complete directory listings.
#include "fs/listing_cache.h"

namespace s3mount {

void ListingCache::EvictLocked(const std::string& directory) {
  auto it = listings_.find(directory);
  if (it == listings_.end()) return;
  total_entries_ -= it->second.listing->size();
  oldest_first_.erase(it->second.age);
  listings_.erase(it);
}

void ListingCache::Insert(const std::string& directory, Listing listing, MonoTime fetched_at) {
  if (ttl_.count() == 0 || listing->size() > max_total_entries_) return;
  std::lock_guard lock(mu_);
  auto existing = listings_.find(directory);
  if (existing != listings_.end() && existing->second.fetched_at > fetched_at) return;
  EvictLocked(directory);
  while (total_entries_ + listing->size() > max_total_entries_ && !oldest_first_.empty()) {
    EvictLocked(oldest_first_.front());
  }
  total_entries_ += listing->size();
  oldest_first_.push_back(directory);
  listings_[directory] = Stored{std::move(listing), fetched_at, std::prev(oldest_first_.end())};
}

Listing ListingCache::Lookup(const std::string& directory, MonoTime now) {
  std::lock_guard lock(mu_);
  auto it = listings_.find(directory);
  if (it == listings_.end()) return nullptr;
  if (now - it->second.fetched_at >= ttl_) {
    EvictLocked(directory);
    return nullptr;
  }
  return it->second.listing;
}

void ListingCache::Invalidate(const std::string& directory) {
  std::lock_guard lock(mu_);
  EvictLocked(directory);
}

void ListingCache::Clear() {
  std::lock_guard lock(mu_);
  listings_.clear();
  oldest_first_.clear();
  total_entries_ = 0;
}

}  // namespace s3mount
