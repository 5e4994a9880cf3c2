// Tests for RetryPolicy: which errors are retried, for which requests, and backoff bounds.
#include "s3mount/s3/retry_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace s3mount {
namespace {

Error E(ErrorCode code) { return MakeError(code, ""); }

TEST(RetryPolicyTest, TransientErrorsOnIdempotentRequestsAreRetried) {
  RetryPolicy policy(RetryOptions{}, 1);
  for (ErrorCode code :
       {ErrorCode::kNetwork, ErrorCode::kTimeout, ErrorCode::kTruncatedBody, ErrorCode::kSlowDown,
        ErrorCode::kServiceUnavailable, ErrorCode::kInternalError, ErrorCode::kRequestTimeout,
        ErrorCode::kRequestTimeTooSkewed, ErrorCode::kInvalidResponse}) {
    EXPECT_TRUE(policy.ShouldRetry(E(code), Idempotency::kIdempotent, 1)) << ErrorCodeName(code);
  }
}

TEST(RetryPolicyTest, PermanentErrorsAreNeverRetried) {
  RetryPolicy policy(RetryOptions{}, 1);
  for (ErrorCode code :
       {ErrorCode::kNotFound, ErrorCode::kAccessDenied, ErrorCode::kSignatureDoesNotMatch,
        ErrorCode::kPreconditionFailed, ErrorCode::kInvalidArgument, ErrorCode::kTls,
        ErrorCode::kBadRequest, ErrorCode::kNoSuchBucket}) {
    EXPECT_FALSE(policy.ShouldRetry(E(code), Idempotency::kIdempotent, 1)) << ErrorCodeName(code);
  }
}

TEST(RetryPolicyTest, NonIdempotentRequestsOnlyWhenTheServerProvablyDidNothing) {
  RetryPolicy policy(RetryOptions{}, 1);
  EXPECT_TRUE(policy.ShouldRetry(E(ErrorCode::kSlowDown), Idempotency::kNotIdempotent, 1));
  EXPECT_TRUE(
      policy.ShouldRetry(E(ErrorCode::kServiceUnavailable), Idempotency::kNotIdempotent, 1));
  EXPECT_FALSE(policy.ShouldRetry(E(ErrorCode::kNetwork), Idempotency::kNotIdempotent, 1));
  EXPECT_FALSE(policy.ShouldRetry(E(ErrorCode::kTimeout), Idempotency::kNotIdempotent, 1));
  EXPECT_FALSE(policy.ShouldRetry(E(ErrorCode::kInternalError), Idempotency::kNotIdempotent, 1));
  EXPECT_FALSE(policy.ShouldRetry(E(ErrorCode::kInvalidResponse), Idempotency::kNotIdempotent, 1));
}

TEST(RetryPolicyTest, AnswersThatMayFollowAnAppliedRequestAreAmbiguous) {
  for (ErrorCode code : {ErrorCode::kNetwork, ErrorCode::kTimeout, ErrorCode::kTruncatedBody,
                         ErrorCode::kInternalError, ErrorCode::kInvalidResponse}) {
    EXPECT_TRUE(MayHaveApplied(E(code))) << ErrorCodeName(code);
  }
  for (ErrorCode code :
       {ErrorCode::kSlowDown, ErrorCode::kServiceUnavailable, ErrorCode::kRequestTimeout,
        ErrorCode::kAccessDenied, ErrorCode::kPreconditionFailed, ErrorCode::kNoSuchUpload}) {
    EXPECT_FALSE(MayHaveApplied(E(code))) << ErrorCodeName(code);
  }
}

TEST(RetryPolicyTest, AttemptCapStopsRetries) {
  RetryPolicy policy(RetryOptions{.max_attempts = 3}, 1);
  EXPECT_TRUE(policy.ShouldRetry(E(ErrorCode::kNetwork), Idempotency::kIdempotent, 2));
  EXPECT_FALSE(policy.ShouldRetry(E(ErrorCode::kNetwork), Idempotency::kIdempotent, 3));
  RetryPolicy no_retries(RetryOptions{.max_attempts = 1}, 1);
  EXPECT_FALSE(no_retries.ShouldRetry(E(ErrorCode::kNetwork), Idempotency::kIdempotent, 1));
}

TEST(RetryPolicyTest, BackoffDoublesWithinEqualJitterBoundsUpToTheMaximum) {
  using std::chrono::milliseconds;
  const RetryOptions options{.max_attempts = 12,
                             .base_delay = milliseconds(100),
                             .throttle_base_delay = milliseconds(500),
                             .max_delay = milliseconds(20'000)};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    RetryPolicy policy(options, seed);
    for (int attempt = 1; attempt <= 11; ++attempt) {
      const int64_t cap = std::min<int64_t>(100LL << (attempt - 1), 20'000);
      EXPECT_EQ(policy.BackoffCap(E(ErrorCode::kNetwork), attempt).count(), cap);
      const auto delay = policy.Backoff(E(ErrorCode::kNetwork), attempt).count();
      EXPECT_GE(delay, cap / 2) << "attempt " << attempt << " seed " << seed;
      EXPECT_LE(delay, cap) << "attempt " << attempt << " seed " << seed;
    }
    EXPECT_EQ(policy.BackoffCap(E(ErrorCode::kSlowDown), 1).count(), 500);
    EXPECT_EQ(policy.BackoffCap(E(ErrorCode::kSlowDown), 3).count(), 2000);
    EXPECT_EQ(policy.BackoffCap(E(ErrorCode::kSlowDown), 40).count(), 20'000);
  }
}

TEST(RetryPolicyTest, JitterActuallyVaries) {
  RetryPolicy policy(RetryOptions{}, 7);
  std::set<int64_t> seen;
  for (int i = 0; i < 20; ++i) seen.insert(policy.Backoff(E(ErrorCode::kNetwork), 4).count());
  EXPECT_GT(seen.size(), 5u);
}

}  // namespace
}  // namespace s3mount
