// ChangeListener: the thread that keeps a mount fresh from S3 event notifications. It takes
// batches from a ChangeFeed (SQS, Redis), parses each body (s3_event.h), hands every change to
// the mount's bucket and prefix to `apply` (the filesystem's invalidation and the kernel
// notifications), and acknowledges every message once handled, relevant or not, malformed or
// not. A feed that fails (unreachable, access denied, throttled) is retried with exponential
// backoff (slept on the Clock, so tests see the schedule on a FakeClock, and cut short by
// Stop) and logged with its reason; the mount meanwhile relies on its cache TTLs. When the
// feed works again, events sent meanwhile may be lost (a Redis channel delivers only to
// connected subscribers; an SQS queue's messages may expire): `recovered` is called first
// (the mount drops its caches), and a warning names the feed. Nothing here is fatal to the
// mount.
//
//   ChangeListener listener(*feed, clock, {.bucket = "b", .prefix = ""},
//                           [&](const ObjectChange& c) { Invalidate(c); });
//   listener.Start();
//   ...
//   listener.Stop();  // interrupts the feed's wait and joins the thread
//
// Thread-safety: Start, Stop and the destructor from one owning thread; stats() from any.
// `apply` runs on the listener's thread, with no lock of the listener held.
// LOCK ORDERING: mu_ (stop flag, stats) is a leaf, never held across the feed or `apply`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/events/change_feed.h"
#include "s3mount/events/s3_event.h"

namespace s3mount {

struct ChangeListenerOptions {
  std::string bucket;
  std::string prefix;  // the mount's prefix: "" or "a/b/"
  // Wait after the first failed Receive; doubles per consecutive failure up to retry_max.
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_max{60000};
};

struct ChangeListenerStats {
  uint64_t messages = 0;        // bodies received
  uint64_t applied = 0;         // changes handed to `apply`
  uint64_t ignored = 0;         // changes for other buckets or keys outside the prefix
  uint64_t malformed = 0;       // bodies that did not parse
  uint64_t receive_errors = 0;  // failed Receive calls
  uint64_t acknowledge_errors = 0;
  uint64_t recoveries = 0;  // a Receive that worked after failed ones
};

class ChangeListener {
 public:
  using ApplyFunction = std::function<void(const ObjectChange&)>;
  using RecoveredFunction = std::function<void()>;

  // `feed` and `clock` must outlive the listener. `recovered` (may be empty) runs on the
  // listener's thread, like `apply`.
  ChangeListener(ChangeFeed& feed, Clock& clock, ChangeListenerOptions options, ApplyFunction apply,
                 RecoveredFunction recovered = nullptr);
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  void Start();
  // Interrupts the feed and joins the thread; idempotent.
  void Stop();

  // Parses, applies and acknowledges one batch, as the thread does (exposed for tests).
  void HandleBatch(const std::vector<FeedMessage>& batch);

  ChangeListenerStats stats() const;

 private:
  void Run();
  // The feed works again after `failures` failed Receives: drop what may have been missed.
  void Recovered(int failures);
  // Waits `delay` unless Stop comes first; whether the listener should go on.
  bool SleepUnlessStopped(std::chrono::milliseconds delay);

  ChangeFeed& feed_;
  Clock& clock_;
  const ChangeListenerOptions options_;
  const ApplyFunction apply_;
  const RecoveredFunction recovered_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;      // guarded by mu_
  ChangeListenerStats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace s3mount
