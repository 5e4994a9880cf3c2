// SystemClock, the real clock; and the default interruptible wait of every Clock.
#include "s3mount/common/clock.h"

#include <thread>

namespace s3mount {

bool Clock::WaitFor(std::condition_variable& /*cv*/, std::unique_lock<std::mutex>& lock,
                    std::chrono::nanoseconds duration, const std::function<bool()>& done) {
  if (done()) return true;
  lock.unlock();
  SleepFor(duration);
  lock.lock();
  return done();
}

WallTime SystemClock::Now() const { return std::chrono::system_clock::now(); }

MonoTime SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

void SystemClock::SleepFor(std::chrono::nanoseconds duration) {
  std::this_thread::sleep_for(duration);
}

bool SystemClock::WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          std::chrono::nanoseconds duration, const std::function<bool()>& done) {
  return cv.wait_for(lock, duration, done);
}

}  // namespace s3mount
