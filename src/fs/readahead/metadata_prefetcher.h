// MetadataPrefetcher: HEADs of listed entries run in the background, ahead of a readdirplus
// reader, so that the network stays busy while the kernel consumes one reply and asks for
// the next. Each HEAD goes through PathResolver::HeadListed, which is single-flight and
// answers from the cache: a path already known or in flight costs no second request, and a
// reader that reaches a path before its turn HEADs it itself (the queued task then finds it
// cached). A background failure only leaves the path unknown; the reader asks again.
//
// Work is queued per group (one per directory handle); cancelling a group drops its queued
// HEADs (those in flight finish and are cached). Callers bound how much they queue.
//
// Thread-safety: all methods may be called concurrently.
// LOCK ORDERING: mu_ is a leaf (never held while calling the resolver).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "fs/path_resolver.h"
#include "s3mount/common/thread_pool.h"

namespace s3mount {

class MetadataPrefetcher {
 public:
  // Cancelled when set; shared by the queued tasks of one group.
  using Group = std::shared_ptr<std::atomic<bool>>;

  // `threads` HEADs in flight at most (at least 1).
  MetadataPrefetcher(PathResolver& resolver, size_t threads);
  ~MetadataPrefetcher();
  MetadataPrefetcher(const MetadataPrefetcher&) = delete;
  MetadataPrefetcher& operator=(const MetadataPrefetcher&) = delete;

  static Group NewGroup() { return std::make_shared<std::atomic<bool>>(false); }
  static void Cancel(const Group& group) { group->store(true); }

  // Queues a HEAD of `path` (listed as `listed`) unless its group is cancelled by the time a
  // worker gets to it. Returns at once.
  void Enqueue(const Group& group, std::string path, PathEntry listed);
  // Drops everything queued and waits for the HEADs in flight. Idempotent.
  void Shutdown();

  // Tasks queued or running (for tests and logs).
  size_t pending() const { return pending_.load(); }

 private:
  PathResolver& resolver_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> pending_{0};
  ThreadPool pool_;  // last: its workers use the members above
};

}  // namespace s3mount
