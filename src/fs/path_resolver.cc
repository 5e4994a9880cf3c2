// PathResolver: cache first, then HEAD and LIST side by side.
#include "fs/path_resolver.h"

#include <future>
#include <mutex>

#include "s3mount/fs/metadata_codec.h"

namespace s3mount {

PathResolver::PathResolver(ObjectStore& store, Clock& clock, ThreadPool& pool, MetadataCache& cache,
                           const KeyMapper& keys, bool object_metadata)
    : store_(store),
      clock_(clock),
      pool_(pool),
      cache_(cache),
      keys_(keys),
      object_metadata_(object_metadata) {}

bool PathResolver::Sufficient(const PathEntry& entry, bool need_metadata) const {
  if (entry.kind == PathKind::kMissing || entry.has_user_metadata) return true;
  if (MayBeDirectoryObject(entry)) return false;
  return !need_metadata && !object_metadata_;
}

bool PathResolver::MayBeDirectoryObject(const PathEntry& entry) {
  if (entry.has_user_metadata || entry.object.key.empty() || entry.object.key.ends_with('/')) {
    return false;
  }
  if (entry.kind == PathKind::kDirectory) return !entry.marker_present;
  return entry.kind == PathKind::kFile && entry.object.size == 0;
}

bool PathResolver::IsDirectoryObjectEntry(const PathEntry& entry) {
  return entry.kind == PathKind::kDirectory && entry.marker_present && !entry.object.key.empty() &&
         !entry.object.key.ends_with('/');
}

bool PathResolver::Describes(const PathEntry& known, PathKind listed_kind) {
  return known.kind == listed_kind ||
         (listed_kind == PathKind::kFile && IsDirectoryObjectEntry(known));
}

Result<PathEntry> PathResolver::Resolve(const std::string& path, bool need_metadata) {
  if (path.empty()) {
    PathEntry root;
    root.kind = PathKind::kDirectory;
    return root;
  }
  if (auto cached = cache_.Lookup(path, clock_.Monotonic());
      cached && Sufficient(*cached, need_metadata)) {
    return *cached;
  }
  return Fetch(path, need_metadata || object_metadata_);
}

Result<PathEntry> PathResolver::ResolveListed(const std::string& path, const PathEntry& listed) {
  if (auto cached = cache_.Lookup(path, clock_.Monotonic()); cached && Sufficient(*cached)) {
    return *cached;
  }
  if (Sufficient(listed)) {
    cache_.Insert(path, listed);
    return listed;
  }
  auto entry = HeadListed(path, listed.kind);
  S3M_RETURN_IF_ERROR(entry);
  if (entry->kind == PathKind::kMissing) cache_.Insert(path, *entry);
  return entry;
}

bool PathResolver::KnownOrInFlight(const std::string& path) {
  std::lock_guard lock(flight_mu_);
  if (in_flight_.contains(path)) return true;
  auto cached = cache_.Lookup(path, clock_.Monotonic());
  return cached.has_value() && Sufficient(*cached, true);
}

Result<PathEntry> PathResolver::HeadListed(const std::string& path, const PathEntry& listed) {
  const PathKind kind = listed.kind;
  std::promise<Result<PathEntry>> promise;
  {
    std::unique_lock lock(flight_mu_);
    if (auto it = in_flight_.find(path); it != in_flight_.end()) {
      auto answer = it->second;
      lock.unlock();
      return answer.get();
    }
    // Checked under flight_mu_: a HEAD that just finished cached its answer before leaving.
    if (auto cached = cache_.Lookup(path, clock_.Monotonic());
        cached && Describes(*cached, kind) && Sufficient(*cached, true)) {
      return *cached;
    }
    in_flight_.emplace(path, promise.get_future().share());
  }
  const MonoTime started = clock_.Monotonic();
  auto entry = kind == PathKind::kDirectory
                   ? HeadDirectory(path, started, MayBeDirectoryObject(listed))
                   : HeadFile(path, started);
  // Without its marker, a directory is there only while something is below it: the listing
  // that named it may be older than `started`, so S3 is asked (the answer is cached as of
  // `started`, and must not carry the listing's word past a later change).
  if (entry.ok() && entry->kind == PathKind::kDirectory && !entry->marker_present) {
    auto below = store_.ListObjects({.prefix = keys_.KeyFor(path) + "/", .max_keys = 1});
    if (!below.ok()) {
      entry = std::move(below).error();
    } else if (below->objects.empty() && below->common_prefixes.empty()) {
      entry->kind = PathKind::kMissing;
    }
  }
  // A file that vanished since the listing is left for the caller (and Resolve) to judge.
  if (entry.ok() && entry->kind != PathKind::kMissing) cache_.Insert(path, *entry);
  std::lock_guard lock(flight_mu_);
  promise.set_value(entry);
  in_flight_.erase(path);
  return entry;
}

Result<PathEntry> PathResolver::HeadFile(const std::string& path, MonoTime started) {
  auto head = store_.HeadObject({.key = keys_.KeyFor(path)});
  PathEntry entry;
  entry.fetched_at = started;
  if (head.ok()) {
    entry.object = std::move(head).value();
    entry.has_user_metadata = true;
    // An object other tools made for a directory (s3fs, consoles): it is the directory's
    // marker (docs/SEMANTICS.md, "Directory objects").
    const bool directory = IsDirectoryObject(entry.object);
    entry.kind = directory ? PathKind::kDirectory : PathKind::kFile;
    entry.marker_present = directory;
  } else if (head.error().code == ErrorCode::kNotFound) {
    entry.kind = PathKind::kMissing;
  } else {
    return std::move(head).error();
  }
  return entry;
}

Result<PathEntry> PathResolver::HeadDirectory(const std::string& path, MonoTime started,
                                              bool object_first) {
  if (object_first) {
    auto object = HeadFile(path, started);
    if (!object.ok() || object->kind == PathKind::kDirectory) return object;
  }
  PathEntry entry;
  entry.kind = PathKind::kDirectory;
  entry.fetched_at = started;
  entry.has_user_metadata = true;  // with or without a marker, we now know all there is
  auto marker = store_.HeadObject({.key = keys_.KeyFor(path) + "/"});
  if (marker.ok()) {
    entry.marker_present = true;
    entry.object = std::move(marker).value();
  } else if (marker.error().code != ErrorCode::kNotFound) {
    return std::move(marker).error();
  }
  return entry;
}

Result<PathEntry> PathResolver::Fetch(const std::string& path, bool need_metadata) {
  const MonoTime started = clock_.Monotonic();
  const std::string key = keys_.KeyFor(path);
  auto listing = std::make_shared<std::promise<Result<ListObjectsPage>>>();
  auto listed = listing->get_future();
  S3M_RETURN_IF_ERROR(pool_.Submit([this, key, listing] {
    listing->set_value(store_.ListObjects({.prefix = key + "/", .max_keys = 1}));
  }));
  auto file = HeadFile(path, started);
  auto below = listed.get();
  if (!below.ok()) return std::move(below).error();
  if (!file.ok()) return std::move(file).error();

  PathEntry entry = std::move(file).value();
  // A directory object is the directory's marker (a `key/` marker beside it is not HEADed).
  if (entry.kind != PathKind::kDirectory &&
      (!below->objects.empty() || !below->common_prefixes.empty())) {
    const bool marker = !below->objects.empty() && below->objects.front().key == key + "/";
    if (marker && need_metadata) {
      auto directory = HeadDirectory(path, started);
      S3M_RETURN_IF_ERROR(directory);
      entry = std::move(directory).value();
    } else {
      entry = PathEntry{};
      entry.kind = PathKind::kDirectory;
      entry.fetched_at = started;
      entry.marker_present = marker;
      entry.has_user_metadata = !marker;
      if (marker) entry.object = below->objects.front();
    }
  }
  cache_.Insert(path, entry);
  return entry;
}

}  // namespace s3mount
