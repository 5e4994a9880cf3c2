// ChangeListener: receive, parse, apply, acknowledge; backoff on feed failures.
#include "s3mount/events/change_listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace s3mount {

ChangeListener::ChangeListener(ChangeFeed& feed, Clock& clock, ChangeListenerOptions options,
                               ApplyFunction apply, RecoveredFunction recovered)
    : feed_(feed),
      clock_(clock),
      options_(std::move(options)),
      apply_(std::move(apply)),
      recovered_(std::move(recovered)) {}

ChangeListener::~ChangeListener() { Stop(); }

void ChangeListener::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void ChangeListener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  feed_.Interrupt();
  if (thread_.joinable()) thread_.join();
}

ChangeListenerStats ChangeListener::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool ChangeListener::SleepUnlessStopped(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return !clock_.WaitFor(stop_cv_, lock, delay, [&] { return stopping_; });
}

void ChangeListener::Run() {
  spdlog::info("listening for changes on {}", feed_.Describe());
  int failures = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    auto batch = feed_.Receive();
    if (!batch.ok()) {
      ++failures;
      std::chrono::milliseconds delay = options_.retry_base;
      for (int i = 1; i < failures && delay < options_.retry_max; ++i) delay *= 2;
      delay = std::min(delay, options_.retry_max);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.receive_errors;
        if (stopping_) break;
      }
      spdlog::warn(
          "change notifications from {} failed ({} in a row; retrying in {} ms; cached "
          "metadata expires by its TTLs meanwhile): {}",
          feed_.Describe(), failures, delay.count(), batch.error().ToString());
      if (!SleepUnlessStopped(delay)) break;
      continue;
    }
    if (failures > 0) Recovered(failures);
    failures = 0;
    HandleBatch(*batch);
  }
  spdlog::debug("change listener on {} stopped", feed_.Describe());
}

void ChangeListener::Recovered(int failures) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.recoveries;
  }
  if (!recovered_) {
    spdlog::info("change notifications from {} flow again", feed_.Describe());
    return;
  }
  spdlog::warn(
      "change notifications from {} flow again after {} failed attempts: changes made "
      "meanwhile may have been missed, so the cached metadata and listings are dropped",
      feed_.Describe(), failures);
  try {
    recovered_();
  } catch (const std::exception& e) {
    spdlog::error("dropping the caches after {} recovered failed: {}", feed_.Describe(), e.what());
  }
}

void ChangeListener::HandleBatch(const std::vector<FeedMessage>& batch) {
  if (batch.empty()) return;
  ChangeListenerStats counted;
  for (const FeedMessage& message : batch) {
    ++counted.messages;
    auto parsed = ParseS3EventMessage(message.body);
    if (!parsed.ok()) {
      ++counted.malformed;
      spdlog::warn("change notification {} from {} ignored: {}", message.id, feed_.Describe(),
                   parsed.error().message);
      continue;
    }
    for (const ObjectChange& change : parsed->changes) {
      if (!IsChangeRelevant(change, options_.bucket, options_.prefix)) {
        ++counted.ignored;
        continue;
      }
      ++counted.applied;
      try {
        apply_(change);
      } catch (const std::exception& e) {
        spdlog::error("applying the change to {} failed: {}", change.key, e.what());
      }
    }
  }
  Status acknowledged = feed_.Acknowledge(batch);
  if (!acknowledged.ok()) {
    ++counted.acknowledge_errors;
    spdlog::warn(
        "change notifications from {} could not be acknowledged (they will come "
        "again): {}",
        feed_.Describe(), acknowledged.error().ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.messages += counted.messages;
  stats_.applied += counted.applied;
  stats_.ignored += counted.ignored;
  stats_.malformed += counted.malformed;
  stats_.acknowledge_errors += counted.acknowledge_errors;
}

}  // namespace s3mount
