// MetadataCache: the path -> PathEntry map behind lookup and getattr, with TTLs, newer-wins
// ordering, change marks and LRU eviction (see the header for the rules).
#include "s3mount/cache/metadata_cache.h"

#include <algorithm>
#include <iterator>

namespace s3mount {

MetadataCache::MetadataCache(MetadataCacheOptions options) : options_(options) {}

bool MetadataCache::IsStaleLocked(const std::string& path, const PathEntry& entry) const {
  if (entry.fetched_at < change_watermark_) return true;
  if (auto mark = change_marks_.find(path);
      mark != change_marks_.end() && entry.fetched_at < mark->second) {
    return true;
  }
  auto it = entries_.find(path);
  if (it == entries_.end()) return false;
  const PathEntry& cached = it->second.entry;
  if (cached.fetched_at > entry.fetched_at) return true;
  // A LIST (no user metadata) must not erase what a HEAD learnt about the same object
  // version, unless the HEAD's answer had already expired when the LIST was sent. The HEAD
  // may have found the listed "file" to be a directory object (same key and ETag).
  // A directory a listing showed beside a zero-byte key of its name carries that key too.
  const bool directory_object = cached.kind == PathKind::kDirectory && cached.marker_present &&
                                !entry.object.key.empty() && cached.object.key == entry.object.key;
  const bool same_object = entry.kind == PathKind::kFile
                               ? cached.kind == PathKind::kFile || directory_object
                               : entry.kind == PathKind::kDirectory && directory_object;
  const bool list_over_head = !entry.has_user_metadata && same_object && cached.has_user_metadata &&
                              cached.object.etag == entry.object.etag;
  return list_over_head && entry.fetched_at - cached.fetched_at < options_.positive_ttl;
}

bool MetadataCache::Insert(const std::string& path, PathEntry entry) {
  std::lock_guard lock(mu_);
  if (options_.max_entries == 0 || IsStaleLocked(path, entry)) return false;
  if (auto it = entries_.find(path); it != entries_.end()) {
    it->second.entry = std::move(entry);
    lru_.splice(lru_.begin(), lru_, it->second.lru_position);
    return true;
  }
  auto inserted = entries_.emplace(path, Node{std::move(entry), {}}).first;
  lru_.push_front(&inserted->first);
  inserted->second.lru_position = lru_.begin();
  EvictLocked();
  return true;
}

std::optional<PathEntry> MetadataCache::Lookup(const std::string& path, MonoTime now) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(path);
  if (it == entries_.end()) return std::nullopt;
  const PathEntry& entry = it->second.entry;
  const std::chrono::nanoseconds ttl =
      entry.kind == PathKind::kMissing ? options_.negative_ttl : options_.positive_ttl;
  if (now - entry.fetched_at >= ttl) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru_position);
  return entry;
}

void MetadataCache::Invalidate(const std::string& path) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(path); it != entries_.end()) EraseLocked(it);
}

void MetadataCache::InvalidatePrefix(const std::string& path_prefix) {
  std::lock_guard lock(mu_);
  if (path_prefix.empty()) {
    entries_.clear();
    lru_.clear();
    return;
  }
  if (auto it = entries_.find(path_prefix); it != entries_.end()) EraseLocked(it);
  // Everything under "prefix/" is one contiguous range of the ordered map; "prefix2/x" and
  // "prefix.txt" sort outside it.
  const std::string under = path_prefix + "/";
  auto it = entries_.lower_bound(under);
  while (it != entries_.end() && it->first.starts_with(under)) {
    auto next = std::next(it);
    EraseLocked(it);
    it = next;
  }
}

void MetadataCache::MarkChanged(const std::string& path, MonoTime time) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(path); it != entries_.end() && it->second.entry.fetched_at < time) {
    EraseLocked(it);
  }
  RecordChangeLocked(path, time);
}

size_t MetadataCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void MetadataCache::MarkAllChanged(MonoTime time) {
  std::lock_guard lock(mu_);
  entries_.clear();
  lru_.clear();
  if (time <= change_watermark_) return;
  change_watermark_ = time;
  // Marks older than the watermark say nothing it does not.
  while (!change_order_.empty() && change_order_.begin()->first <= time) {
    change_marks_.erase(change_order_.begin()->second);
    change_order_.erase(change_order_.begin());
  }
}

size_t MetadataCache::change_mark_count() const {
  std::lock_guard lock(mu_);
  return change_marks_.size();
}

void MetadataCache::EraseLocked(EntryMap::iterator it) {
  lru_.erase(it->second.lru_position);
  entries_.erase(it);
}

void MetadataCache::EvictLocked() {
  while (entries_.size() > options_.max_entries && !lru_.empty()) {
    auto it = entries_.find(*lru_.back());
    EraseLocked(it);
  }
}

void MetadataCache::RecordChangeLocked(const std::string& path, MonoTime time) {
  if (time <= change_watermark_) return;  // the watermark already says as much
  auto [mark, inserted] = change_marks_.try_emplace(path, time);
  if (!inserted) {
    if (mark->second >= time) return;
    change_order_.erase({mark->second, path});
    mark->second = time;
  }
  change_order_.emplace(time, path);
  // Too many marks: fold the oldest into the watermark. That drops late answers for other
  // paths too, but only ones sent before the folded change, and never keeps a stale one.
  while (change_order_.size() > options_.max_change_marks) {
    change_watermark_ = std::max(change_watermark_, change_order_.begin()->first);
    change_marks_.erase(change_order_.begin()->second);
    change_order_.erase(change_order_.begin());
  }
  // Marks no newer than the watermark add nothing to it.
  while (!change_order_.empty() && change_order_.begin()->first <= change_watermark_) {
    change_marks_.erase(change_order_.begin()->second);
    change_order_.erase(change_order_.begin());
  }
}

}  // namespace s3mount
