// MetadataCache: what s3mount knows about paths in the bucket (is "dir/file" a file, a
// directory or missing, and with which object), so that lookups and getattr do not cost a
// HEAD or LIST each. A plain data structure in the style of gcsfuse's stat cache:
//   - positive entries (files, directories) live for `positive_ttl`, negative entries
//     (missing paths) for `negative_ttl`, both measured from when the request that produced
//     them was sent (`PathEntry::fetched_at`); the caller passes `now` to every lookup;
//   - an entry is never replaced by an older one, and an answer fetched before a local change
//     or a change event (MarkChanged) is dropped, so a slow reply cannot undo a newer fact;
//   - a LIST result (no user metadata) does not replace a HEAD result for the same ETag;
//   - at most `max_entries` entries, evicted least recently used first.
//
// A path is an object key relative to the bucket, without a trailing slash ("dir/file",
// "dir"); "" is the root.
//
// Thread-safety: every method is safe to call concurrently (one internal mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "s3mount/common/clock.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

struct MetadataCacheOptions {
  size_t max_entries = 100000;
  std::chrono::nanoseconds positive_ttl{std::chrono::seconds(60)};
  std::chrono::nanoseconds negative_ttl{std::chrono::seconds(5)};
  // How many MarkChanged records are kept. Beyond it the oldest are folded into one
  // cache-wide watermark (Inserts fetched before it are dropped, whatever their path), which
  // keeps the bookkeeping bounded at the price of occasionally not caching a good answer.
  size_t max_change_marks = 10000;
};

enum class PathKind { kFile, kDirectory, kMissing };

struct PathEntry {
  PathKind kind = PathKind::kMissing;
  // kFile: the object. kDirectory: the `dir/` marker object if there is one
  // (marker_present), or a directory object `dir` without the '/' (application/x-directory),
  // else empty. kMissing: empty.
  ObjectInfo object;
  bool marker_present = false;  // kDirectory only
  // True when `object` came from HEAD/GET (user metadata known); false when it came from a
  // LIST (size, ETag and mtime only).
  bool has_user_metadata = false;
  // When the request that produced this entry was SENT, so that an answer that raced with a
  // local change is recognisably older than the change.
  MonoTime fetched_at{};
};

class MetadataCache {
 public:
  explicit MetadataCache(MetadataCacheOptions options);
  MetadataCache(const MetadataCache&) = delete;
  MetadataCache& operator=(const MetadataCache&) = delete;

  // Stores `entry` for `path`, unless it is stale:
  //   - a newer entry (by fetched_at) is already cached for the path;
  //   - the path was MarkChanged at a time after entry.fetched_at (or the entry predates the
  //     watermark of forgotten change marks);
  //   - the entry is a kFile without user metadata and the cached one is a kFile (or a
  //     directory whose marker is the same key: a directory object) with user metadata for
  //     the same ETag (a LIST must not erase what a HEAD learnt), unless the cached one had
  //     expired (positive_ttl) by the time the new one was fetched.
  // Note: an in-place metadata change (CopyObject with REPLACE) keeps the ETag; the caller
  // must MarkChanged after its own, and remote ones show when the HEAD result expires.
  // Returns whether the entry was stored.
  bool Insert(const std::string& path, PathEntry entry);

  // The entry if present and not expired: positive_ttl for kFile/kDirectory, negative_ttl
  // for kMissing, measured from fetched_at (expired when now - fetched_at >= ttl). A hit
  // marks the path as recently used.
  std::optional<PathEntry> Lookup(const std::string& path, MonoTime now) const;

  // Forgets one path. Does not guard against older answers still in flight: use
  // MarkChanged for that.
  void Invalidate(const std::string& path);

  // Forgets `path_prefix` itself and every path under "path_prefix/" (not "path_prefix2/x").
  // "" forgets everything.
  void InvalidatePrefix(const std::string& path_prefix);

  // Marks everything fetched before `time` about `path` as stale (after a local write or a
  // change event): the cached entry goes if it was fetched before `time`, and later Inserts
  // for the path with fetched_at < time are dropped.
  void MarkChanged(const std::string& path, MonoTime time);

  // MarkChanged for every path at once: forgets everything, and later Inserts fetched before
  // `time` are dropped (a change feed that recovered may have missed any change).
  void MarkAllChanged(MonoTime time);

  // Number of cached entries (expired ones included until evicted or replaced).
  size_t size() const;
  // Number of MarkChanged records kept (bounded by max_change_marks).
  size_t change_mark_count() const;

 private:
  struct Node {
    PathEntry entry;
    std::list<const std::string*>::iterator lru_position;  // into lru_
  };
  using EntryMap = std::map<std::string, Node>;

  bool IsStaleLocked(const std::string& path, const PathEntry& entry) const;
  void EraseLocked(EntryMap::iterator it);
  void EvictLocked();
  void RecordChangeLocked(const std::string& path, MonoTime time);

  const MetadataCacheOptions options_;

  // LOCK ORDERING: mu_ is the only lock; no method calls out of this class while holding it.
  mutable std::mutex mu_;
  // Ordered so that InvalidatePrefix is a range walk.
  EntryMap entries_;
  // Most recently used first; points at the keys of entries_ (std::map keys do not move).
  // Lookup reorders it, hence mutable.
  mutable std::list<const std::string*> lru_;
  // path -> time of its latest MarkChanged, and the same records ordered by time (oldest
  // first) to forget the oldest when there are too many.
  std::unordered_map<std::string, MonoTime> change_marks_;
  std::set<std::pair<MonoTime, std::string>> change_order_;
  // Inserts fetched before this are dropped for every path: the newest time among the
  // change marks forgotten to stay within max_change_marks.
  MonoTime change_watermark_ = MonoTime::min();
};

}  // namespace s3mount
