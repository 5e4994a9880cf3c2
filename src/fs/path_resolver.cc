// PathResolver: cache first, then HEAD and LIST side by side.
#include "fs/path_resolver.h"

#include <condition_variable>
#include <future>
#include <mutex>

namespace s3mount {

PathResolver::PathResolver(ObjectStore& store, Clock& clock, ThreadPool& pool, MetadataCache& cache,
                           const KeyMapper& keys, bool object_metadata, size_t parallelism)
    : store_(store),
      clock_(clock),
      pool_(pool),
      cache_(cache),
      keys_(keys),
      object_metadata_(object_metadata),
      parallelism_(parallelism == 0 ? 1 : parallelism) {}

bool PathResolver::Sufficient(const PathEntry& entry, bool need_metadata) const {
  if (entry.kind == PathKind::kMissing || entry.has_user_metadata) return true;
  return !need_metadata && !object_metadata_;
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
  const MonoTime started = clock_.Monotonic();
  auto entry =
      listed.kind == PathKind::kDirectory ? HeadDirectory(path, started) : HeadFile(path, started);
  S3M_RETURN_IF_ERROR(entry);
  cache_.Insert(path, *entry);
  return entry;
}

Result<PathEntry> PathResolver::HeadFile(const std::string& path, MonoTime started) {
  auto head = store_.HeadObject({.key = keys_.KeyFor(path)});
  PathEntry entry;
  entry.fetched_at = started;
  if (head.ok()) {
    entry.kind = PathKind::kFile;
    entry.object = std::move(head).value();
    entry.has_user_metadata = true;
  } else if (head.error().code == ErrorCode::kNotFound) {
    entry.kind = PathKind::kMissing;
  } else {
    return std::move(head).error();
  }
  return entry;
}

Result<PathEntry> PathResolver::HeadDirectory(const std::string& path, MonoTime started) {
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
  pool_.Submit([this, key, listing] {
    listing->set_value(store_.ListObjects({.prefix = key + "/", .max_keys = 1}));
  });
  auto file = HeadFile(path, started);
  auto below = listed.get();
  if (!below.ok()) return std::move(below).error();
  if (!file.ok()) return std::move(file).error();

  PathEntry entry = std::move(file).value();
  if (!below->objects.empty() || !below->common_prefixes.empty()) {
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

void PathResolver::FetchMetadata(const std::vector<std::pair<std::string, PathKind>>& paths) {
  std::mutex mu;
  std::condition_variable done;
  size_t next = 0;
  size_t finished = 0;
  const size_t workers = std::min(parallelism_, paths.size());
  // Each worker takes the next path until none is left; the caller waits for all.
  auto work = [&] {
    while (true) {
      size_t index = 0;
      {
        std::lock_guard lock(mu);
        if (next == paths.size()) break;
        index = next++;
      }
      const auto& [path, kind] = paths[index];
      const MonoTime started = clock_.Monotonic();
      auto entry =
          kind == PathKind::kDirectory ? HeadDirectory(path, started) : HeadFile(path, started);
      // A file that vanished since the listing is left for Resolve to find out.
      if (entry.ok() && entry->kind != PathKind::kMissing) {
        cache_.Insert(path, std::move(entry).value());
      }
    }
    std::lock_guard lock(mu);
    ++finished;
    done.notify_all();
  };
  for (size_t i = 1; i < workers; ++i) pool_.Submit(work);
  if (workers > 0) work();
  std::unique_lock lock(mu);
  done.wait(lock, [&] { return finished == workers; });
}

}  // namespace s3mount
