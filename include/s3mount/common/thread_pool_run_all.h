// RunAll: the template behind ThreadPool's "run these and wait" helper (see thread_pool.h).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace s3mount {

template <typename StatusT>
StatusT RunAll(ThreadPool& pool, std::vector<std::function<StatusT()>> tasks) {
  struct Shared {
    std::mutex mu;
    std::condition_variable done;
    size_t pending = 0;
    std::optional<StatusT> first_error;
  };
  auto shared = std::make_shared<Shared>();
  shared->pending = tasks.size();
  auto finish = [shared](StatusT status) {
    std::lock_guard lock(shared->mu);
    if (!status.ok() && !shared->first_error) shared->first_error = std::move(status);
    if (--shared->pending == 0) shared->done.notify_all();
  };
  for (auto& task : tasks) {
    Status submitted = pool.Submit([finish, task = std::move(task)] { finish(task()); });
    if (!submitted.ok()) finish(StatusT(std::move(submitted).error()));
  }
  std::unique_lock lock(shared->mu);
  shared->done.wait(lock, [&] { return shared->pending == 0; });
  if (shared->first_error) return std::move(*shared->first_error);
  return StatusT::Ok();
}

}  // namespace s3mount
