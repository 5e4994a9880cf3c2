// Clock: the only way s3mount reads the time or sleeps, so that TTLs, credential expiry,
// retry backoff and signing dates are testable with a fake clock (tests/fakes/fake_clock.h).
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace s3mount {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Calendar time: signing dates, credential expiry, object mtimes.
  virtual WallTime Now() const = 0;
  // Monotonic time: TTLs, timeouts, rate measurement.
  virtual MonoTime Monotonic() const = 0;
  // Blocks the calling thread (retry backoff). A fake clock advances instead.
  virtual void SleepFor(std::chrono::nanoseconds duration) = 0;
  // A sleep that another thread may cut short: waits on `cv` (`lock` holds its mutex) until
  // `done()` is true or `duration` has passed, and returns done(). For backoffs that Stop
  // must end. This default unlocks, SleepFor(duration)s and locks again, which is what a fake
  // clock wants (the sleep is recorded and advances time); SystemClock really waits on `cv`.
  virtual bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                       std::chrono::nanoseconds duration, const std::function<bool()>& done);
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override;
  MonoTime Monotonic() const override;
  void SleepFor(std::chrono::nanoseconds duration) override;
  bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               std::chrono::nanoseconds duration, const std::function<bool()>& done) override;
};

}  // namespace s3mount
