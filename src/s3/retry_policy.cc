// RetryPolicy: classification of failures and jittered exponential backoff.
#include "s3mount/s3/retry_policy.h"

#include <algorithm>

namespace s3mount {

RetryPolicy::RetryPolicy(RetryOptions options, uint64_t seed) : options_(options), rng_(seed) {}

bool ServerDidNotApply(const Error& error) {
  switch (error.code) {
    case ErrorCode::kSlowDown:
    case ErrorCode::kServiceUnavailable:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kRequestTimeTooSkewed:
    case ErrorCode::kHostNotFound:  // nothing was sent
      return true;
    default:
      return false;
  }
}

bool MayHaveApplied(const Error& error) {
  return IsTransient(error.code) && !ServerDidNotApply(error);
}

bool RetryPolicy::ShouldRetry(const Error& error, Idempotency idempotency, int attempt) const {
  if (attempt >= options_.max_attempts || !IsTransient(error.code)) {
    return false;
  }
  return idempotency == Idempotency::kIdempotent || ServerDidNotApply(error);
}

std::chrono::milliseconds RetryPolicy::BackoffCap(const Error& error, int attempt) const {
  const auto base =
      error.code == ErrorCode::kSlowDown ? options_.throttle_base_delay : options_.base_delay;
  const int doublings = std::clamp(attempt - 1, 0, 30);
  const int64_t cap = base.count() * (int64_t{1} << doublings);
  return std::chrono::milliseconds(std::min<int64_t>(cap, options_.max_delay.count()));
}

std::chrono::milliseconds RetryPolicy::Backoff(const Error& error, int attempt) {
  const int64_t cap = BackoffCap(error, attempt).count();
  const int64_t half = cap / 2;
  std::lock_guard lock(mu_);
  std::uniform_int_distribution<int64_t> jitter(0, cap - half);
  return std::chrono::milliseconds(half + jitter(rng_));
}

}  // namespace s3mount
