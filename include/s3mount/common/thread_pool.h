// ThreadPool: a fixed set of worker threads running queued tasks, for work that must not
// block a FUSE request thread (readahead GETs, parallel HEADs). Tasks must not throw.
// Once Shutdown has begun, Submit refuses new tasks with an error (kCancelled): the caller
// must then do without the task (release what it reserved for it, or do the work itself),
// never wait for it.
//
// Thread-safety: Submit may be called from any thread, including from a task.
// LOCK ORDERING: mu_ is a leaf; tasks run without it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  // Runs the tasks already queued, then joins the workers (Shutdown).
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`; kCancelled (and `task` is dropped unrun) once Shutdown has begun.
  [[nodiscard]] Status Submit(std::function<void()> task);
  // Runs the tasks already queued and joins the workers; later Submits are refused. Tasks
  // still running may Submit no more (their follow-ups are refused too).
  // Owners call it before destroying what the tasks use. Idempotent; not from a task.
  void Shutdown();
  size_t size() const { return workers_.size(); }

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> workers_;
};

// Runs every task on `pool` and waits for all of them; returns the first error (every task
// still runs; one the pool refuses counts as its refusal's error). Call it from outside the pool (a
// task waiting on its own pool can deadlock).
template <typename StatusT>
StatusT RunAll(ThreadPool& pool, std::vector<std::function<StatusT()>> tasks);

}  // namespace s3mount

#include "s3mount/common/thread_pool_run_all.h"
