// PathResolver: what a path in the mount is right now (a file, a directory, or nothing),
// from the metadata cache when it is fresh and detailed enough, else from S3: a HEAD of the
// key and a one-key LIST of "key/" run at the same time; a directory (a marker or any key
// below it) wins over a file of the same name (docs/SEMANTICS.md). Answers are cached with
// the time their requests were sent, so an answer that raced with a change loses.
//
// A key without a trailing '/' that is a directory object (IsDirectoryObject: Content-Type
// application/x-directory and the like) is a directory whose marker is that object. A LIST
// does not give Content-Types, so a zero-byte key a listing shows as a file is only known
// once a HEAD described it (MayBeDirectoryObject); other listed files never need one for it.
//
// Metadata HEADs of listed entries are single-flight: while one is in flight for a path, a
// second caller waits for its answer instead of sending another.
//
// Thread-safety: all methods may be called concurrently; no lock is held across requests.
// LOCK ORDERING: flight_mu_, then the metadata cache's lock.
#pragma once

#include <future>
#include <mutex>
#include <string>
#include <unordered_map>

#include "s3mount/cache/metadata_cache.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/thread_pool.h"
#include "s3mount/fs/path_rules.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

class PathResolver {
 public:
  // With `object_metadata`, a file is only known once a HEAD (not a LIST) has described it.
  PathResolver(ObjectStore& store, Clock& clock, ThreadPool& pool, MetadataCache& cache,
               const KeyMapper& keys, bool object_metadata);

  // With `need_metadata`, a file or directory marker is HEADed if only a LIST described it
  // (for xattrs), whatever `object_metadata` says.
  Result<PathEntry> Resolve(const std::string& path, bool need_metadata = false);
  // As Resolve, when a fresh complete listing of the parent said what `path` is (`listed`,
  // kMissing if it is not listed): no LIST is needed, and a HEAD only for metadata.
  Result<PathEntry> ResolveListed(const std::string& path, const PathEntry& listed);
  // Whether a cached entry says enough to answer without asking S3 again.
  bool Sufficient(const PathEntry& entry, bool need_metadata = false) const;
  // The metadata of a path a listing showed as `listed` (kFile: HEAD of the key; kDirectory:
  // HEAD of its marker, and without one a one-key LIST below it, since the listing may be
  // older than the HEAD; a directory that hid a zero-byte key of its name HEADs that key
  // first, as it may be the directory object), cached when found. Answered from the cache
  // when it is sufficient; joins a HEAD already in flight for the path (single-flight).
  // kMissing: it is gone.
  Result<PathEntry> HeadListed(const std::string& path, const PathEntry& listed);
  Result<PathEntry> HeadListed(const std::string& path, PathKind kind) {
    return HeadListed(path, PathEntry{.kind = kind});
  }
  // Whether a listed entry may yet turn out to be a directory object: a file of zero bytes
  // without '/' at the end of its key, or a directory that hid such a key of its own name
  // (its `object`), described by a LIST only.
  static bool MayBeDirectoryObject(const PathEntry& entry);
  // Whether `entry` is a directory described by a directory object without a trailing '/'.
  static bool IsDirectoryObjectEntry(const PathEntry& entry);
  // Whether `known` describes what a listing showed as `listed_kind` (a listed file may be a
  // directory object).
  static bool Describes(const PathEntry& known, PathKind listed_kind);
  // Whether HeadListed would answer from the cache or an in-flight HEAD (no new request).
  bool KnownOrInFlight(const std::string& path);

  const KeyMapper& keys() const { return keys_; }

 private:
  Result<PathEntry> Fetch(const std::string& path, bool need_metadata);
  // HEAD of "key/" for a directory the listing reported: its marker, if any.
  // With `object_first`, a HEAD of the key without '/' first: a directory object wins.
  Result<PathEntry> HeadDirectory(const std::string& path, MonoTime started,
                                  bool object_first = false);
  Result<PathEntry> HeadFile(const std::string& path, MonoTime started);

  ObjectStore& store_;
  Clock& clock_;
  ThreadPool& pool_;
  MetadataCache& cache_;
  const KeyMapper& keys_;
  const bool object_metadata_;

  std::mutex flight_mu_;
  // HEADs of HeadListed in flight, by path.
  std::unordered_map<std::string, std::shared_future<Result<PathEntry>>>
      in_flight_;  // guarded by flight_mu_
};

}  // namespace s3mount
