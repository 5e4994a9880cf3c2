// Tests for RefreshingCredentialsProvider: caching, advisory and mandatory refresh windows,
// one refresh for many concurrent callers, backoff after failures, expiry, Invalidate. Time is
// a FakeClock; the inner provider is scripted and can be held inside a call (a gate) so tests
// can look at what other callers see while a refresh is in flight.
#include "s3mount/auth/refreshing_credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace s3mount {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// What the scripted inner provider answers and how often it was asked. Shared between the
// test and the provider the wrapper owns.
struct Script {
  std::mutex mu;
  std::condition_variable cv;
  std::function<Result<Credentials>(int call)> respond;  // call counts from 1
  int calls = 0;
  bool gate_closed = false;  // while true, calls wait inside the inner provider

  int Calls() {
    std::lock_guard lock(mu);
    return calls;
  }
  void CloseGate() {
    std::lock_guard lock(mu);
    gate_closed = true;
  }
  void OpenGate() {
    {
      std::lock_guard lock(mu);
      gate_closed = false;
    }
    cv.notify_all();
  }
  // Waits (real time, bounded) until the inner provider has been entered `n` times.
  bool WaitForCalls(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, seconds(10), [&] { return calls >= n; });
  }
};

class ScriptedProvider final : public CredentialsProvider {
 public:
  explicit ScriptedProvider(std::shared_ptr<Script> script) : script_(std::move(script)) {}
  Result<Credentials> GetCredentials() override {
    std::unique_lock lock(script_->mu);
    const int call = ++script_->calls;
    script_->cv.notify_all();
    script_->cv.wait(lock, [&] { return !script_->gate_closed; });
    return script_->respond(call);
  }

 private:
  std::shared_ptr<Script> script_;
};

Credentials Keys(const std::string& id, std::optional<WallTime> expiration) {
  return Credentials{id, "secret-" + id, "token-" + id, expiration};
}

class RefreshingCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.advance = minutes(15);
    options_.mandatory = minutes(10);
    options_.retry_base = seconds(1);
    options_.retry_max = seconds(8);
  }
  // Call n gets keys "v<n>" expiring `lifetime` after the clock's time at the call.
  void IssueKeysValidFor(std::chrono::seconds lifetime) {
    script_->respond = [this, lifetime](int call) -> Result<Credentials> {
      return Keys("v" + std::to_string(call), clock_.Now() + lifetime);
    };
  }
  RefreshingCredentialsProvider& Provider() {
    if (!provider_) {
      provider_ = std::make_unique<RefreshingCredentialsProvider>(
          std::make_unique<ScriptedProvider>(script_), clock_, options_);
    }
    return *provider_;
  }
  std::string IdNow() {
    auto credentials = Provider().GetCredentials();
    return credentials.ok() ? credentials->access_key_id : "error: " + credentials.error().message;
  }

  testing::FakeClock clock_;
  RefreshOptions options_;
  std::shared_ptr<Script> script_ = std::make_shared<Script>();
  std::unique_ptr<RefreshingCredentialsProvider> provider_;
};

TEST_F(RefreshingCredentialsTest, CredentialsWithoutExpirationAreFetchedOnce) {
  script_->respond = [](int call) -> Result<Credentials> {
    return Keys("v" + std::to_string(call), std::nullopt);
  };
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(IdNow(), "v1");
    clock_.Advance(hours(24 * 7));
  }
  EXPECT_EQ(script_->Calls(), 1);
}

TEST_F(RefreshingCredentialsTest, ExpiringCredentialsAreCachedUntilTheAdvanceWindow) {
  IssueKeysValidFor(hours(1));
  EXPECT_EQ(IdNow(), "v1");
  clock_.Advance(minutes(44));  // 16 minutes left
  EXPECT_EQ(IdNow(), "v1");
  EXPECT_EQ(script_->Calls(), 1) << "refreshed before the advance window";
  clock_.Advance(minutes(2));  // 14 minutes left: the caller refreshes
  EXPECT_EQ(IdNow(), "v2");
  EXPECT_EQ(IdNow(), "v2");
  EXPECT_EQ(script_->Calls(), 2);
}

TEST_F(RefreshingCredentialsTest, AdvisoryRefreshIsOneCallWhileOthersGetTheOldCredentials) {
  IssueKeysValidFor(hours(1));
  EXPECT_EQ(IdNow(), "v1");
  clock_.Advance(minutes(48));  // 12 minutes left: advisory window
  script_->CloseGate();
  std::string refresher_id;
  std::thread refresher([&] { refresher_id = IdNow(); });
  ASSERT_TRUE(script_->WaitForCalls(2)) << "the first caller did not start a refresh";

  // The refresh is stuck in the inner provider; everybody else must get v1 without waiting.
  constexpr int kThreads = 8;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> callers;
  callers.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    callers.emplace_back([&, i] {
      for (int j = 0; j < 50; ++j) ids[i] = IdNow();
    });
  }
  for (auto& caller : callers) caller.join();  // would hang if they waited for the gate
  for (const auto& id : ids) EXPECT_EQ(id, "v1");
  EXPECT_EQ(script_->Calls(), 2) << "more than one refresh started";

  script_->OpenGate();
  refresher.join();
  EXPECT_EQ(refresher_id, "v2");
  EXPECT_EQ(IdNow(), "v2");
  EXPECT_EQ(script_->Calls(), 2);
}

TEST_F(RefreshingCredentialsTest, MandatoryWindowCallersWaitAndShareOneRefresh) {
  IssueKeysValidFor(hours(1));
  EXPECT_EQ(IdNow(), "v1");
  clock_.Advance(minutes(55));  // 5 minutes left: mandatory window
  script_->CloseGate();
  std::string refresher_id;
  std::thread refresher([&] { refresher_id = IdNow(); });
  ASSERT_TRUE(script_->WaitForCalls(2));

  constexpr int kThreads = 8;
  std::atomic<int> finished{0};
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> waiters;
  waiters.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    waiters.emplace_back([&, i] {
      ids[i] = IdNow();
      ++finished;
    });
  }
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(finished.load(), 0) << "callers in the mandatory window did not wait";
  script_->OpenGate();
  refresher.join();
  for (auto& waiter : waiters) waiter.join();
  EXPECT_EQ(refresher_id, "v2");
  for (const auto& id : ids) EXPECT_EQ(id, "v2");
  EXPECT_EQ(script_->Calls(), 2) << "waiting callers started refreshes of their own";
}

TEST_F(RefreshingCredentialsTest, FailedRefreshesBackOffExponentiallyAndKeepOldCredentials) {
  script_->respond = [this](int call) -> Result<Credentials> {
    if (call == 1) return Keys("v1", clock_.Now() + hours(1));
    return MakeError(ErrorCode::kNetwork, "connect to 169.254.169.254 refused");
  };
  EXPECT_EQ(IdNow(), "v1");
  clock_.Advance(minutes(46));  // advisory window
  EXPECT_EQ(IdNow(), "v1");     // refresh #1 fails, old credentials served
  EXPECT_EQ(script_->Calls(), 2);
  // Backoff 1 s, 2 s, 4 s, 8 s, 8 s: calls every 100 ms in between must not reach the inner
  // provider.
  int expected_calls = 2;
  for (const auto wait : {seconds(1), seconds(2), seconds(4), seconds(8), seconds(8)}) {
    const auto step = milliseconds(100);
    for (auto waited = step; waited < wait; waited += step) {
      clock_.Advance(step);
      EXPECT_EQ(IdNow(), "v1");
    }
    EXPECT_EQ(script_->Calls(), expected_calls)
        << "retried before the " << wait.count() << " s backoff was over";
    clock_.Advance(wait - (wait / step - 1) * step);
    EXPECT_EQ(IdNow(), "v1");
    EXPECT_EQ(script_->Calls(), ++expected_calls) << "no retry after " << wait.count() << " s";
  }
  // Into the mandatory window: still valid, so still served after a failed refresh.
  clock_.Advance(minutes(8));
  EXPECT_EQ(IdNow(), "v1");
  EXPECT_EQ(script_->Calls(), ++expected_calls);
  // The source recovers: the next attempt after the backoff succeeds.
  script_->respond = [this](int) -> Result<Credentials> {
    return Keys("v-new", clock_.Now() + hours(1));
  };
  clock_.Advance(seconds(8));
  EXPECT_EQ(IdNow(), "v-new");
  clock_.Advance(minutes(30));
  EXPECT_EQ(IdNow(), "v-new");
  EXPECT_EQ(script_->Calls(), expected_calls + 1);
}

TEST_F(RefreshingCredentialsTest, ExpiredAndFailingReturnsTheInnerError) {
  script_->respond = [this](int call) -> Result<Credentials> {
    if (call == 1) return Keys("v1", clock_.Now() + hours(1));
    return MakeError(ErrorCode::kAccessDenied,
                     "STS AssumeRole for arn:aws:iam::123456789012:role/r: AccessDenied");
  };
  EXPECT_EQ(IdNow(), "v1");
  clock_.Advance(hours(1));  // exactly at expiry: no longer valid
  auto expired = Provider().GetCredentials();
  ASSERT_FALSE(expired.ok()) << "served expired credentials";
  EXPECT_EQ(expired.error().code, ErrorCode::kAccessDenied);
  EXPECT_NE(expired.error().message.find("AccessDenied"), std::string::npos)
      << expired.error().message;
  EXPECT_EQ(script_->Calls(), 2);
  // During the backoff the same error comes back without asking the inner provider.
  auto again = Provider().GetCredentials();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, expired.error().message);
  EXPECT_EQ(script_->Calls(), 2);
}

TEST_F(RefreshingCredentialsTest, FirstLoadFailureIsReturnedAndRetriedAfterBackoff) {
  script_->respond = [this](int call) -> Result<Credentials> {
    if (call == 1) return MakeError(ErrorCode::kCredentials, "profile 'x' not found");
    return Keys("v2", clock_.Now() + hours(1));
  };
  EXPECT_EQ(IdNow(), "error: profile 'x' not found");
  EXPECT_EQ(IdNow(), "error: profile 'x' not found");
  EXPECT_EQ(script_->Calls(), 1);
  clock_.Advance(seconds(1));
  EXPECT_EQ(IdNow(), "v2");
}

TEST_F(RefreshingCredentialsTest, InvalidateRefetchesCredentialsThatNeverExpire) {
  script_->respond = [](int call) -> Result<Credentials> {
    return Keys("v" + std::to_string(call), std::nullopt);
  };
  EXPECT_EQ(IdNow(), "v1");
  Provider().Invalidate();
  EXPECT_EQ(IdNow(), "v2");
  EXPECT_EQ(IdNow(), "v2");
  EXPECT_EQ(script_->Calls(), 2);
}

TEST_F(RefreshingCredentialsTest, InvalidateWithABrokenSourceKeepsTheOldCredentials) {
  script_->respond = [](int call) -> Result<Credentials> {
    if (call == 1) return Keys("v1", std::nullopt);
    return MakeError(ErrorCode::kCredentials, "credentials: line 3: expected 'key = value'");
  };
  EXPECT_EQ(IdNow(), "v1");
  Provider().Invalidate();
  EXPECT_EQ(IdNow(), "v1");
  EXPECT_EQ(IdNow(), "v1");
  EXPECT_EQ(script_->Calls(), 2) << "the broken source was retried without backoff";
  clock_.Advance(seconds(1));
  EXPECT_EQ(IdNow(), "v1");
  EXPECT_EQ(script_->Calls(), 3) << "the invalidated credentials were not retried";
}

TEST_F(RefreshingCredentialsTest, InvalidateDuringARefreshCausesAnotherRefresh) {
  script_->respond = [](int call) -> Result<Credentials> {
    return Keys("v" + std::to_string(call), std::nullopt);
  };
  EXPECT_EQ(IdNow(), "v1");
  Provider().Invalidate();
  script_->CloseGate();
  std::thread refresher([&] { EXPECT_EQ(IdNow(), "v2"); });
  ASSERT_TRUE(script_->WaitForCalls(2));
  Provider().Invalidate();  // the file changed again while it was being read
  script_->OpenGate();
  refresher.join();
  EXPECT_EQ(IdNow(), "v3");
  EXPECT_EQ(IdNow(), "v3");
  EXPECT_EQ(script_->Calls(), 3);
}

TEST_F(RefreshingCredentialsTest, ShortLivedCredentialsAreRefreshedAfterHalfTheirLifetime) {
  IssueKeysValidFor(minutes(5));  // shorter than the 15-minute advance window
  EXPECT_EQ(IdNow(), "v1");
  clock_.Advance(seconds(149));
  EXPECT_EQ(IdNow(), "v1");
  EXPECT_EQ(script_->Calls(), 1) << "refreshed before half the lifetime had passed";
  clock_.Advance(seconds(2));
  EXPECT_EQ(IdNow(), "v2");
  EXPECT_EQ(script_->Calls(), 2);
  EXPECT_EQ(IdNow(), "v2");
  EXPECT_EQ(script_->Calls(), 2) << "fresh short-lived keys must not be fetched again at once";
}

TEST_F(RefreshingCredentialsTest, AlreadyExpiredCredentialsFromTheSourceAreAnError) {
  script_->respond = [this](int) -> Result<Credentials> {
    return Keys("old", clock_.Now() - seconds(1));
  };
  auto credentials = Provider().GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  EXPECT_NE(credentials.error().message.find("expired at"), std::string::npos)
      << credentials.error().message;
}

TEST_F(RefreshingCredentialsTest, AnExceptionFromTheSourceBecomesAnError) {
  script_->respond = [](int) -> Result<Credentials> { throw std::runtime_error("boom"); };
  auto credentials = Provider().GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("boom"), std::string::npos);
  // The provider is not left stuck "refreshing".
  clock_.Advance(seconds(1));
  EXPECT_FALSE(Provider().GetCredentials().ok());
  EXPECT_EQ(script_->Calls(), 2);
}

}  // namespace
}  // namespace s3mount
