// RefreshingCredentialsProvider: caches credentials and refreshes them before they expire,
// one refresh at a time, on the calling thread (see the header for the timeline and model).
#include "s3mount/auth/refreshing_credentials.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "s3mount/common/logging.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

RefreshOptions Clamped(RefreshOptions options) {
  options.mandatory = std::min(options.mandatory, options.advance);
  options.retry_max = std::max(options.retry_max, options.retry_base);
  return options;
}

// The inner provider's answer; an exception from it becomes an error, never escapes.
Result<Credentials> CallInner(CredentialsProvider& inner) {
  try {
    return inner.GetCredentials();
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kCredentials,
                     std::string("credentials provider failed: ") + e.what());
  } catch (...) {
    return MakeError(ErrorCode::kCredentials, "credentials provider failed: unknown exception");
  }
}

}  // namespace

RefreshingCredentialsProvider::RefreshingCredentialsProvider(
    std::unique_ptr<CredentialsProvider> inner, Clock& clock, RefreshOptions options)
    : inner_(std::move(inner)), clock_(clock), options_(Clamped(options)) {}

RefreshingCredentialsProvider::~RefreshingCredentialsProvider() = default;

Result<Credentials> RefreshingCredentialsProvider::GetCredentials() {
  std::unique_lock<std::mutex> lock(mu_);
  const WallTime now = clock_.Now();
  const Need need = NeedLocked(now);
  if (need == Need::kNone) return *cached_;
  if (refreshing_) {
    if (need == Need::kAdvisory) return *cached_;
    // Mandatory: wait for the refresh in flight and share its outcome.
    const uint64_t seen = refreshes_done_;
    refreshed_.wait(lock, [&] { return refreshes_done_ != seen; });
    return ServeLocked(clock_.Now());
  }
  if (next_attempt_.has_value() && clock_.Monotonic() < *next_attempt_) {
    // Backing off after a failure: old credentials while valid, else the last failure.
    if (UsableLocked(now) || last_error_.has_value()) return ServeLocked(now);
  }
  return RefreshAsCaller(lock);
}

void RefreshingCredentialsProvider::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  stale_ = true;
  ++generation_;
  consecutive_failures_ = 0;
  next_attempt_.reset();
}

RefreshingCredentialsProvider::Need RefreshingCredentialsProvider::NeedLocked(WallTime now) const {
  if (!cached_.has_value() || stale_) return Need::kMandatory;
  if (!cached_->expiration.has_value()) return Need::kNone;
  const auto remaining = *cached_->expiration - now;
  // Short-lived credentials (a 15-minute STS session) would otherwise sit in the refresh
  // windows from the start: scale the windows down to half and a quarter of their lifetime.
  const auto lifetime = *cached_->expiration - obtained_at_;
  const auto advance = std::min<WallTime::duration>(options_.advance, lifetime / 2);
  const auto mandatory = std::min<WallTime::duration>(options_.mandatory, lifetime / 4);
  if (remaining > advance) return Need::kNone;
  if (remaining > mandatory) return Need::kAdvisory;
  return Need::kMandatory;
}

bool RefreshingCredentialsProvider::UsableLocked(WallTime now) const {
  return cached_.has_value() && (!cached_->expiration.has_value() || now < *cached_->expiration);
}

Result<Credentials> RefreshingCredentialsProvider::ServeLocked(WallTime now) const {
  if (UsableLocked(now)) return *cached_;
  if (last_error_.has_value()) return *last_error_;
  return MakeError(ErrorCode::kCredentials, cached_.has_value() && cached_->expiration.has_value()
                                                ? "credentials expired at " +
                                                      FormatIso8601(*cached_->expiration) +
                                                      " and have not been refreshed yet"
                                                : "no credentials have been loaded yet");
}

std::chrono::milliseconds RefreshingCredentialsProvider::BackoffLocked() const {
  std::chrono::milliseconds delay = options_.retry_base;
  for (int i = 1; i < consecutive_failures_ && delay < options_.retry_max; ++i) delay *= 2;
  return std::min(delay, options_.retry_max);
}

// Called with `lock` held and no refresh in flight; returns with `lock` released. The inner
// provider runs (and the outcome is logged) with the lock released.
Result<Credentials> RefreshingCredentialsProvider::RefreshAsCaller(
    std::unique_lock<std::mutex>& lock) {
  refreshing_ = true;
  const uint64_t generation = generation_;
  lock.unlock();
  Result<Credentials> fresh = CallInner(*inner_);
  const WallTime now = clock_.Now();
  const MonoTime mono = clock_.Monotonic();
  if (fresh.ok() && fresh->expiration.has_value() && *fresh->expiration <= now) {
    fresh = MakeError(ErrorCode::kCredentials,
                      "the credentials provider returned credentials that expired at " +
                          FormatIso8601(*fresh->expiration));
  }
  lock.lock();
  refreshing_ = false;
  ++refreshes_done_;
  std::chrono::milliseconds retry_in{0};
  if (fresh.ok()) {
    cached_ = *fresh;
    obtained_at_ = now;
    last_error_.reset();
    consecutive_failures_ = 0;
    next_attempt_.reset();
    if (generation == generation_) stale_ = false;
    if (!stale_ && NeedLocked(now) != Need::kNone) {
      // Short-lived credentials: still refresh early, but not on every call.
      ++consecutive_failures_;
      retry_in = BackoffLocked();
      next_attempt_ = mono + retry_in;
    }
  } else {
    last_error_ = fresh.error();
    ++consecutive_failures_;
    retry_in = BackoffLocked();
    next_attempt_ = mono + retry_in;
  }
  Result<Credentials> result = ServeLocked(now);
  const int failures = consecutive_failures_;
  const bool serving_old = !fresh.ok() && result.ok();
  lock.unlock();
  refreshed_.notify_all();
  if (!fresh.ok()) {
    spdlog::warn("credentials refresh failed ({} in a row; next attempt in {} ms; {}): {}",
                 failures, retry_in.count(),
                 serving_old ? "still using the previous credentials until they expire"
                             : "no valid credentials to fall back on",
                 RedactSecrets(fresh.error().ToString()));
  } else if (fresh->expiration.has_value()) {
    spdlog::debug("credentials refreshed; they expire at {}", FormatIso8601(*fresh->expiration));
  } else {
    spdlog::debug("credentials refreshed; they do not expire");
  }
  return result;
}

}  // namespace s3mount
