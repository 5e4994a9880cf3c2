// RequestGate (see request_gate.h): one mutex and one condition variable for the holders and
// the waiters alike.
#include "tests/support/request_gate.h"

#include <algorithm>
#include <set>

namespace s3mount::testing {

bool RequestGate::Pass(const std::string& label) {
  std::unique_lock lock(mu_);
  if (open_ || shut_down_) return !shut_down_;
  held_.push_back(label);
  most_held_ = std::max(most_held_, DistinctHeldLocked());
  changed_.notify_all();
  changed_.wait(lock, [this] { return open_ || shut_down_; });
  held_.erase(std::find(held_.begin(), held_.end(), label));
  changed_.notify_all();
  return !shut_down_;
}

std::size_t RequestGate::WaitUntilHolding(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return DistinctHeldLocked() >= count || shut_down_; });
  return most_held_;
}

void RequestGate::Open() {
  std::lock_guard lock(mu_);
  open_ = true;
  changed_.notify_all();
}

void RequestGate::Shutdown() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  changed_.notify_all();
}

std::size_t RequestGate::held() const {
  std::lock_guard lock(mu_);
  return DistinctHeldLocked();
}

std::size_t RequestGate::DistinctHeldLocked() const {
  return std::set<std::string>(held_.begin(), held_.end()).size();
}

std::size_t RequestGate::most_held() const {
  std::lock_guard lock(mu_);
  return most_held_;
}

}  // namespace s3mount::testing
