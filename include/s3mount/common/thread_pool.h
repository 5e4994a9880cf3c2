// ThreadPool: a fixed set of worker threads running queued tasks, for work that must not
// block a FUSE request thread (readahead GETs, parallel HEADs). Tasks must not throw.
//
// Thread-safety: Submit may be called from any thread, including from a task.
// LOCK ORDERING: mu_ is a leaf; tasks run without it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace s3mount {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  // Runs the tasks already queued, then joins the workers (Shutdown).
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  // Runs the tasks already queued and joins the workers; tasks submitted later never run.
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

}  // namespace s3mount
