// FakeClock: a Clock that only moves when told to (or when someone sleeps on it), recording
// every sleep so tests can check backoff schedules.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <mutex>
#include <vector>

#include "s3mount/common/clock.h"

namespace s3mount::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1'700'000'000)))
      : wall_(start) {}

  WallTime Now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  MonoTime Monotonic() const override {
    std::lock_guard lock(mu_);
    return mono_;
  }
  void SleepFor(std::chrono::nanoseconds duration) override {
    std::lock_guard lock(mu_);
    sleeps_.push_back(duration);
    wall_ += std::chrono::duration_cast<WallTime::duration>(duration);
    mono_ += duration;
  }
  void Advance(std::chrono::nanoseconds duration) {
    std::lock_guard lock(mu_);
    wall_ += std::chrono::duration_cast<WallTime::duration>(duration);
    mono_ += duration;
  }
  std::vector<std::chrono::nanoseconds> sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  WallTime wall_;
  MonoTime mono_{};
  std::vector<std::chrono::nanoseconds> sleeps_;
};

}  // namespace s3mount::testing
