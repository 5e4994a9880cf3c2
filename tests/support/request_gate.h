// RequestGate: holds the threads that pass it until it is opened, and counts how many
// different requests (by label) it holds at once, so a test can show how many requests a
// client has in flight together (the FaultProxy's Fault::Hold() sends requests through one,
// labelled with their target). A request the client gave up on and sent again while held
// (after its transfer timeout) counts once.
//
//   proxy->AddFault(Fault::Hold().OnMethod("GET").Times(64));
//   ... start 64 readers ...
//   EXPECT_EQ(proxy->gate().WaitUntilHolding(64, std::chrono::seconds(30)), 64u);
//   proxy->gate().Open();
//
// Thread-safety: every method may be called from any thread. mu_ is a leaf.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace s3mount::testing {

class RequestGate {
 public:
  // Blocks until Open() or Shutdown(), counted as held meanwhile under `label` (the request
  // target, say). Returns false if the gate was shut down (the caller should give up).
  bool Pass(const std::string& label);
  // Waits until `count` different labels are held at once or `timeout` passes (a guard against a
  // client that never gets there, not a measure of speed); returns the most held at once.
  std::size_t WaitUntilHolding(std::size_t count, std::chrono::milliseconds timeout);
  // Lets every held caller go, and every later one through at once.
  void Open();
  // Like Open, but Pass returns false (the proxy is stopping).
  void Shutdown();

  // Different labels held now, and the most held at once so far.
  std::size_t held() const;
  std::size_t most_held() const;

 private:
  std::size_t DistinctHeldLocked() const;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = false;
  bool shut_down_ = false;
  std::vector<std::string> held_;  // guarded by mu_
  std::size_t most_held_ = 0;
};

}  // namespace s3mount::testing
