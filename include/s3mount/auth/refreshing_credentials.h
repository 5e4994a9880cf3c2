// RefreshingCredentialsProvider: the caching wrapper every mount puts around its credentials
// chain. It keeps the inner provider's credentials and asks the inner provider again only when
// they near their expiry (or after Invalidate()), one refresh at a time, so that requests keep
// signing with the old credentials while new ones are fetched.
//
// Timeline of one set of credentials expiring at E (options `advance` > `mandatory`):
//   now < E - advance             cached credentials, the inner provider is not called
//   E - advance <= now < E - mand  "advisory" window: the first caller refreshes; meanwhile
//                                 every other caller gets the old credentials at once
//   E - mandatory <= now          "mandatory" window (and expired, and after Invalidate()):
//                                 callers wait for the refresh in flight and share its result
// For credentials valid less than 2 x advance when fetched, the windows shrink to the last
// half and the last quarter of their lifetime (advisory, mandatory): a 15-minute STS session
// is refreshed after 7.5 minutes, not on every call. Credentials without an expiration are
// kept until Invalidate() (used when a credentials file changed on disk).
//
// Threading model: by default the refresh runs on the thread of the caller that triggers it;
// after EnableBackgroundRefresh() (what a mount does once daemonized) an advisory refresh runs
// on the provider's own worker thread instead, so no request waits for it. The text below
// describes the caller-driven default. That caller pays the inner provider's latency (one STS or
// IMDS round trip, about once an hour) while the other callers go on with the old credentials
// (advisory window) or wait for it (mandatory window). That default needs no thread and is
// deterministic under a FakeClock; the worker, once enabled, is joined by the destructor (which
// so waits for a refresh in flight). An inner provider that hangs forever would block the
// refreshing thread and any mandatory-window waiters: inner providers
// must bound their network calls with timeouts (HttpClient does).
//
// Failures: a failed refresh is logged (warn; the inner error's message, never a secret) and
// the next attempt is not made before an exponential backoff (retry_base doubling per
// consecutive failure, capped at retry_max) has passed. While the old credentials are still
// valid (not expired) they keep being served, even in the mandatory window. Once they have
// expired (or there never were any), GetCredentials returns the inner provider's error, with
// its code and message (the last one during backoff, without calling the inner provider).
// Credentials that the inner provider returns already expired count as a failure; fresh ones
// that already fall inside the advance window are served, but the next refresh waits for the
// backoff too, so a short-lived source is not called on every request.
//
// Thread-safety: GetCredentials and Invalidate may be called from any thread at once. The
// inner provider is called from at most one thread at a time, never with mu_ held.
// LOCK ORDERING: mu_ is a leaf: nothing else is locked while it is held, and it is released
// around every call to the inner provider (and to spdlog).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "s3mount/aws/credentials.h"
#include "s3mount/common/clock.h"

namespace s3mount {

struct RefreshOptions {
  // Start refreshing this long before expiry (the AWS SDKs' advisory refresh).
  std::chrono::seconds advance{15 * 60};
  // Below this much remaining validity, callers wait for the refresh (the SDKs' mandatory
  // refresh). Clamped to at most `advance`.
  std::chrono::seconds mandatory{10 * 60};
  // Wait after the first failed refresh; doubles per consecutive failure up to retry_max.
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_max{60 * 1000};
};

class RefreshingCredentialsProvider final : public CredentialsProvider {
 public:
  // `inner` must not be null; `clock` must outlive this object.
  RefreshingCredentialsProvider(std::unique_ptr<CredentialsProvider> inner, Clock& clock,
                                RefreshOptions options = {});
  ~RefreshingCredentialsProvider() override;
  RefreshingCredentialsProvider(const RefreshingCredentialsProvider&) = delete;
  RefreshingCredentialsProvider& operator=(const RefreshingCredentialsProvider&) = delete;

  Result<Credentials> GetCredentials() override;

  // From now on, an advisory refresh runs on a worker thread of this provider (started when
  // first needed, joined by the destructor), and every caller, the one that noticed the
  // window included, goes on with the old credentials meanwhile. Call it only once the
  // process will not fork() any more (main calls it after daemonizing): a forked child would
  // wait for a worker it does not have. Mandatory-window and first loads stay on the caller.
  void EnableBackgroundRefresh();

  // Waits until no refresh is in flight (for tests).
  void WaitUntilIdle();

  // Marks the cached credentials stale: the next GetCredentials refreshes them (waiting for
  // the refresh), whatever their expiry, and any backoff is forgotten. If that refresh fails,
  // the old credentials are still served while valid. A refresh already in flight when this
  // is called does not count: its result is used, but another refresh follows.
  void Invalidate();

 private:
  enum class Need { kNone, kAdvisory, kMandatory };

  Need NeedLocked(WallTime now) const;
  bool UsableLocked(WallTime now) const;
  Result<Credentials> ServeLocked(WallTime now) const;
  Result<Credentials> RunRefresh(std::unique_lock<std::mutex>& lock);
  void StartBackgroundRefreshLocked();
  void WorkerLoop();
  std::chrono::milliseconds BackoffLocked() const;

  const std::unique_ptr<CredentialsProvider> inner_;
  Clock& clock_;
  const RefreshOptions options_;

  mutable std::mutex mu_;
  std::condition_variable refreshed_;     // signalled when a refresh ends
  std::optional<Credentials> cached_;     // guarded by mu_
  WallTime obtained_at_{};                // guarded by mu_; when cached_ was fetched
  std::optional<Error> last_error_;       // guarded by mu_; the last refresh's failure
  bool refreshing_ = false;               // guarded by mu_
  bool stale_ = false;                    // guarded by mu_; set by Invalidate()
  uint64_t generation_ = 0;               // guarded by mu_; bumped by Invalidate()
  uint64_t refreshes_done_ = 0;           // guarded by mu_
  int consecutive_failures_ = 0;          // guarded by mu_
  std::optional<MonoTime> next_attempt_;  // guarded by mu_; no refresh before this
  bool background_ = false;               // guarded by mu_; EnableBackgroundRefresh() called
  bool background_requested_ = false;     // guarded by mu_; work for worker_
  bool stopping_ = false;                 // guarded by mu_; set by the destructor
  std::condition_variable work_;          // wakes worker_
  std::thread worker_;                    // started by the first background refresh
};

}  // namespace s3mount
