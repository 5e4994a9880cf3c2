// ListingCache: TTL-bound, size-bound store of complete directory listings.
#include "fs/listing_cache.h"

#include <algorithm>

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
  if (fetched_at < cleared_at_) return;
  if (auto changed = changed_.find(directory);
      changed != changed_.end() && fetched_at < changed->second) {
    return;
  }
  auto existing = listings_.find(directory);
  if (existing != listings_.end() && existing->second.fetched_at > fetched_at) return;
  EvictLocked(directory);
  while (total_entries_ + listing->size() > max_total_entries_ && !oldest_first_.empty()) {
    EvictLocked(oldest_first_.front());
  }
  total_entries_ += listing->size();
  oldest_first_.push_back(directory);
  auto index = IndexOf(*listing);
  const size_t subdirectories = CountSubdirectories(*listing);
  listings_[directory] = Stored{std::move(listing), fetched_at, std::prev(oldest_first_.end()),
                                std::move(index), subdirectories};
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

void ListingCache::Invalidate(const std::string& directory, MonoTime now) {
  std::lock_guard lock(mu_);
  EvictLocked(directory);
  MarkChangedLocked(directory, now);
}

void ListingCache::Clear(MonoTime now) {
  std::lock_guard lock(mu_);
  listings_.clear();
  oldest_first_.clear();
  total_entries_ = 0;
  changed_.clear();
  cleared_at_ = now;
}

void ListingCache::MarkChangedLocked(const std::string& directory, MonoTime now) {
  changed_[directory] = now;
  // Marks older than the TTL protect nothing: a listing that old is not served.
  for (auto it = changed_.begin(); it != changed_.end();) {
    it = now - it->second >= ttl_ ? changed_.erase(it) : std::next(it);
  }
}

std::unordered_map<std::string, size_t> ListingCache::IndexOf(
    const std::vector<ListedEntry>& entries) {
  std::unordered_map<std::string, size_t> index;
  index.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) index.emplace(entries[i].name, i);
  return index;
}

size_t ListingCache::CountSubdirectories(const std::vector<ListedEntry>& entries) {
  return static_cast<size_t>(std::count_if(entries.begin(), entries.end(), [](const auto& listed) {
    return listed.entry.kind == PathKind::kDirectory;
  }));
}

void ListingCache::Upsert(const std::string& directory, const ListedEntry& entry, MonoTime now) {
  std::lock_guard lock(mu_);
  MarkChangedLocked(directory, now);
  auto it = listings_.find(directory);
  if (it == listings_.end()) return;
  Stored& stored = it->second;
  auto copy = std::make_shared<std::vector<ListedEntry>>(*stored.listing);
  const bool is_directory = entry.entry.kind == PathKind::kDirectory;
  if (auto at = stored.index.find(entry.name); at != stored.index.end()) {
    const bool was_directory = (*copy)[at->second].entry.kind == PathKind::kDirectory;
    if (was_directory) --stored.subdirectories;
    if (is_directory) ++stored.subdirectories;
    (*copy)[at->second] = entry;
  } else {
    if (is_directory) ++stored.subdirectories;
    stored.index.emplace(entry.name, copy->size());
    copy->push_back(entry);
    ++total_entries_;
  }
  stored.listing = std::move(copy);
}

void ListingCache::Erase(const std::string& directory, const std::string& name, MonoTime now) {
  std::lock_guard lock(mu_);
  MarkChangedLocked(directory, now);
  auto it = listings_.find(directory);
  if (it == listings_.end()) return;
  Stored& stored = it->second;
  auto at = stored.index.find(name);
  if (at == stored.index.end()) return;
  auto copy = std::make_shared<std::vector<ListedEntry>>(*stored.listing);
  if ((*copy)[at->second].entry.kind == PathKind::kDirectory) --stored.subdirectories;
  copy->erase(copy->begin() + static_cast<std::ptrdiff_t>(at->second));
  --total_entries_;
  stored.index = IndexOf(*copy);
  stored.listing = std::move(copy);
}

std::optional<PathEntry> ListingCache::Find(const std::string& directory, const std::string& name,
                                            MonoTime now) {
  std::lock_guard lock(mu_);
  auto it = listings_.find(directory);
  if (it == listings_.end()) return std::nullopt;
  if (now - it->second.fetched_at >= ttl_) {
    EvictLocked(directory);
    return std::nullopt;
  }
  auto at = it->second.index.find(name);
  if (at == it->second.index.end()) {
    return PathEntry{.kind = PathKind::kMissing, .fetched_at = it->second.fetched_at};
  }
  return (*it->second.listing)[at->second].entry;
}

std::optional<std::pair<Listing, size_t>> ListingCache::Locate(const std::string& directory,
                                                               const std::string& name,
                                                               MonoTime now) {
  std::lock_guard lock(mu_);
  auto it = listings_.find(directory);
  if (it == listings_.end() || now - it->second.fetched_at >= ttl_) return std::nullopt;
  auto at = it->second.index.find(name);
  if (at == it->second.index.end()) return std::nullopt;
  return std::make_pair(it->second.listing, at->second);
}

std::optional<size_t> ListingCache::SubdirectoryCount(const std::string& directory,
                                                      MonoTime now) const {
  std::lock_guard lock(mu_);
  auto it = listings_.find(directory);
  if (it == listings_.end() || now - it->second.fetched_at >= ttl_) return std::nullopt;
  return it->second.subdirectories;
}

}  // namespace s3mount
