// SystemClock: the real clock.
#include "s3mount/common/clock.h"

#include <thread>

namespace s3mount {

WallTime SystemClock::Now() const { return std::chrono::system_clock::now(); }

MonoTime SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

void SystemClock::SleepFor(std::chrono::nanoseconds duration) {
  std::this_thread::sleep_for(duration);
}

}  // namespace s3mount
