// WriteBackQueue: per-path ordered background S3 changes, retried, drained at unmount.
#include "fs/write_back_queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace s3mount {

WriteBackQueue::WriteBackQueue(Clock& clock, WriteBackOptions options)
    : clock_(clock),
      options_(std::move(options)),
      workers_(std::max<size_t>(options_.threads, 1)) {}

WriteBackQueue::~WriteBackQueue() {
  Drain();
  workers_.Shutdown();
}

bool WriteBackQueue::Enqueue(WriteBackOperation operation, bool wait_for_room) {
  std::unique_lock lock(mu_);
  if (!operation.coalesce_tag.empty()) {
    auto it = by_path_.find(operation.path);
    if (it != by_path_.end()) {
      for (const Entry& entry : it->second) {
        if (!entry.started && entry.operation.coalesce_tag == operation.coalesce_tag) return false;
      }
    }
  }
  // Backpressure: room in the queue, and local buffers not over budget while uploads that
  // will free them are queued.
  while (wait_for_room) {
    if (bounded_ >= std::max<size_t>(options_.max_queued, 1)) {
      changed_.wait(lock);
      continue;
    }
    if (queued_ == 0 || !options_.over_budget) break;
    lock.unlock();
    const bool over = options_.over_budget();
    lock.lock();
    if (!over || queued_ == 0) break;
    changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  const std::string path = operation.path;
  std::deque<Entry>& entries = by_path_[path];
  const bool idle = entries.empty();
  entries.push_back(Entry{.operation = std::move(operation), .bounded = wait_for_room});
  ++queued_;
  if (wait_for_room) ++bounded_;
  lock.unlock();
  if (!idle) return true;
  if (Status submitted = workers_.Submit([this, path] { RunKey(path); }); !submitted.ok()) {
    // Only an Enqueue racing the destructor gets here: run it on this thread, not drop it.
    spdlog::error("write-back of '{}' runs on the caller's thread: {}", path,
                  submitted.error().ToString());
    RunKey(path);
  }
  return true;
}

void WriteBackQueue::RunKey(const std::string& path) {
  for (;;) {
    const WriteBackOperation* operation = nullptr;
    {
      std::lock_guard lock(mu_);
      auto it = by_path_.find(path);
      if (it == by_path_.end() || it->second.empty()) return;
      Entry& front = it->second.front();
      front.started = true;
      operation = &front.operation;  // a deque keeps references across push_back
    }
    Status status = RunWithRetries(*operation);
    if (!status.ok() && operation->give_up) operation->give_up(status.error());
    bool last = false;
    {
      std::lock_guard lock(mu_);
      auto it = by_path_.find(path);
      if (it->second.front().bounded) --bounded_;
      it->second.pop_front();
      --queued_;
      ++(status.ok() ? done_ : failed_);
      if (it->second.empty()) {
        by_path_.erase(it);
        last = true;
      }
    }
    changed_.notify_all();
    if (options_.between) options_.between(path);
    if (last) return;
  }
}

Status WriteBackQueue::RunWithRetries(const WriteBackOperation& operation) {
  std::chrono::nanoseconds backoff = options_.first_backoff;
  const int attempts = std::max(options_.attempts, 1);
  for (int attempt = 1;; ++attempt) {
    Status status = operation.run();
    if (status.ok() || attempt == attempts) return status;
    spdlog::warn("write-back {} of '{}' failed (attempt {} of {}): {}; retrying in {} ms",
                 operation.what, operation.path, attempt, attempts, status.error().ToString(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
    {
      std::lock_guard lock(mu_);
      ++retried_;
    }
    clock_.SleepFor(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool WriteBackQueue::BusyLocked(const std::string& path, bool below) const {
  if (by_path_.contains(path)) return true;
  if (!below) return false;
  const std::string prefix = path.empty() ? path : path + "/";
  auto it = by_path_.lower_bound(prefix);
  return it != by_path_.end() && it->first.starts_with(prefix);
}

void WriteBackQueue::Wait(const std::string& path, bool below) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return !BusyLocked(path, below); });
}

bool WriteBackQueue::Has(const std::string& path) const {
  std::lock_guard lock(mu_);
  return by_path_.contains(path);
}

void WriteBackQueue::Drain(std::chrono::milliseconds log_every) {
  std::unique_lock lock(mu_);
  while (queued_ > 0) {
    spdlog::info("write-back: waiting for {} queued operation(s) (uploads, deletes) to reach S3",
                 queued_);
    changed_.wait_for(lock, log_every, [this] { return queued_ == 0; });
  }
}

WriteBackStats WriteBackQueue::stats() const {
  std::lock_guard lock(mu_);
  return WriteBackStats{.queued = queued_, .done = done_, .failed = failed_, .retried = retried_};
}

}  // namespace s3mount
