// RetryPolicy: which failures are worth another attempt and how long to wait before it.
// Exponential backoff with "equal jitter": before attempt n+1 we wait a random duration in
// [cap/2, cap] where cap = min(max_delay, base * 2^(n-1)); throttling (SlowDown) starts from
// a larger base. Only idempotent requests are retried on ambiguous failures (a reset or a
// timeout may have happened after the server applied the request); replies that prove the
// server did nothing (503, SlowDown, RequestTimeout, clock skew) are retried for any request.
//
// Thread-safety: immutable after construction except the jitter source, which is locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "s3mount/common/error.h"

namespace s3mount {

enum class Idempotency { kIdempotent, kNotIdempotent };

struct RetryOptions {
  int max_attempts = 5;  // total attempts including the first; 1 disables retries
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds throttle_base_delay{500};
  std::chrono::milliseconds max_delay{20'000};
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryOptions options, uint64_t seed = std::random_device{}());

  const RetryOptions& options() const { return options_; }

  // Whether a request that failed with `error` on attempt number `attempt` (1-based) should
  // be tried again.
  bool ShouldRetry(const Error& error, Idempotency idempotency, int attempt) const;

  // How long to wait after failed attempt number `attempt` (1-based).
  std::chrono::milliseconds Backoff(const Error& error, int attempt);

  // The upper bound Backoff() may return for this attempt (for tests and documentation).
  std::chrono::milliseconds BackoffCap(const Error& error, int attempt) const;

 private:
  const RetryOptions options_;
  std::mutex mu_;
  std::mt19937_64 rng_;  // guarded by mu_
};

// Whether `error` proves the server did not apply the request (so any request may be resent).
bool ServerDidNotApply(const Error& error);
// Whether a request that failed with `error` may nevertheless have been applied: a reset, a
// timeout, a 5xx other than 503, a reply that cannot be decoded. Such an outcome of a request
// that is not idempotent is resolved by asking S3 what it holds (RetryingObjectStore).
bool MayHaveApplied(const Error& error);

}  // namespace s3mount
