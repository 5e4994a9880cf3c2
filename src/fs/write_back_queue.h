// WriteBackQueue: S3 changes that the application no longer waits for (-o writeback): the
// upload of a closed file, the DELETE of an unlinked one. Operations are ordered per key
// (path): those of one key run one after the other, in the order queued, so an unlink then a
// re-create of the same name sends the DELETE before the PUT; different keys run in parallel
// on the queue's own workers. An operation that fails is retried with backoff (on top of the
// store's own retries); after the last attempt its `give_up` keeps what it can and logs.
// Nothing is dropped silently.
//
// Callers order their own steps with Wait (everything queued for a path, or below it, has
// run) and Drain (everything has run; at unmount). Enqueue applies backpressure: it waits
// while `max_queued` operations are queued, or while `over_budget` says the local buffers
// (memory, staging) are too full, until the workers make room.
//
// No FUSE here: the Filesystem queues closures and decides what they do.
//
// Thread-safety: every method may be called from many threads, except from an operation
// (an operation that waits on its own queue could deadlock).
// LOCK ORDERING: mu_ is a leaf: operations, `give_up`, `over_budget` and `between` run
// without it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"
#include "s3mount/common/thread_pool.h"

namespace s3mount {

struct WriteBackOptions {
  size_t threads = 8;        // operations (of different keys) running at once
  size_t max_queued = 1000;  // Enqueue waits while this many are queued or running
  int attempts = 4;          // runs of a failing operation before `give_up`
  std::chrono::nanoseconds first_backoff = std::chrono::seconds(1);  // doubles per attempt
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(30);
  // Optional: true while local buffers are too full to take more (Enqueue then waits, as
  // long as something is queued that will free them).
  std::function<bool()> over_budget;
  // Optional, for tests: called on the worker (without mu_) after each operation of `path`
  // ran, before the next one of that path starts.
  std::function<void(const std::string& path)> between;
};

struct WriteBackOperation {
  std::string path;  // the key it changes (ordering, Wait)
  std::string what;  // "upload", "delete": for the log
  // A queued operation with the same non-empty tag for the same path that has not started
  // yet makes this one redundant: Enqueue drops it (that one will do the work).
  std::string coalesce_tag;
  std::function<Status()> run;
  // After the last failed attempt: keep the data, log where it is.
  std::function<void(const Error&)> give_up;
};

struct WriteBackStats {
  size_t queued = 0;     // queued or running now
  uint64_t done = 0;     // succeeded
  uint64_t failed = 0;   // gave up
  uint64_t retried = 0;  // attempts after a failure
};

class WriteBackQueue {
 public:
  // `clock` paces retries (and must outlive the queue).
  WriteBackQueue(Clock& clock, WriteBackOptions options);
  // Drains, then stops the workers.
  ~WriteBackQueue();
  WriteBackQueue(const WriteBackQueue&) = delete;
  WriteBackQueue& operator=(const WriteBackQueue&) = delete;

  // Queues `operation` after those of its path. Returns false when it was coalesced into
  // one already queued. Waits for room first (backpressure) unless `wait_for_room` is false
  // (a follow-up of an operation already counted: it is not counted against max_queued).
  bool Enqueue(WriteBackOperation operation, bool wait_for_room = true);
  // Waits until nothing is queued or running for `path` or, with `below`, for any path
  // under the directory `path` ("" = the whole mount).
  void Wait(const std::string& path, bool below);
  // Whether an operation for exactly `path` is queued or running.
  bool Has(const std::string& path) const;
  // Waits until the queue is empty, logging progress every `log_every`.
  void Drain(std::chrono::milliseconds log_every = std::chrono::seconds(5));
  WriteBackStats stats() const;  // NOLINT(readability-identifier-naming): accessor

 private:
  struct Entry {
    WriteBackOperation operation;
    bool bounded = true;  // counted against max_queued
    bool started = false;
  };
  // Runs the operations of `path` until its queue is empty.
  void RunKey(const std::string& path);
  Status RunWithRetries(const WriteBackOperation& operation);
  bool BusyLocked(const std::string& path, bool below) const;

  Clock& clock_;
  const WriteBackOptions options_;
  mutable std::mutex mu_;
  std::condition_variable changed_;                   // an operation finished
  std::map<std::string, std::deque<Entry>> by_path_;  // guarded by mu_; non-empty deques
  size_t queued_ = 0;                                 // guarded by mu_
  size_t bounded_ = 0;                                // guarded by mu_: queued_ less the follow-ups
  uint64_t done_ = 0;                                 // guarded by mu_
  uint64_t failed_ = 0;                               // guarded by mu_
  uint64_t retried_ = 0;                              // guarded by mu_
  ThreadPool workers_;                                // last: its tasks use the members above
};

}  // namespace s3mount
