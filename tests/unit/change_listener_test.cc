// Tests of ChangeListener over a scripted feed: relevant changes reach `apply`, other buckets
// and prefixes do not, every message (malformed ones included) is acknowledged, a failing feed
// is retried with backoff (measured on a FakeClock) without stopping the listener, and Stop
// ends a blocked Receive and a backoff wait.
#include "s3mount/events/change_listener.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace s3mount {
namespace {

using std::chrono::milliseconds;

std::string S3Body(const std::string& bucket, const std::string& key) {
  return R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":")" +
         bucket + R"("},"object":{"key":")" + key + R"(","size":3,"eTag":"abc"}}}]})";
}

// A feed answering Receive from a script of batches and errors; once the script is used up,
// Receive blocks until Interrupt.
class ScriptedFeed final : public ChangeFeed {
 public:
  void Push(Result<std::vector<FeedMessage>> next) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(next));
    cv_.notify_all();
  }
  Result<std::vector<FeedMessage>> Receive() override {
    std::unique_lock<std::mutex> lock(mu_);
    ++receives_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !script_.empty() || interrupted_; });
    if (script_.empty()) return std::vector<FeedMessage>{};
    auto next = std::move(script_.front());
    script_.pop_front();
    return next;
  }
  Status Acknowledge(const std::vector<FeedMessage>& messages) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& message : messages) acknowledged_.push_back(message.id);
    cv_.notify_all();
    return OkStatus();
  }
  void Interrupt() override {
    std::lock_guard<std::mutex> lock(mu_);
    interrupted_ = true;
    cv_.notify_all();
  }
  std::string Describe() const override { return "scripted feed"; }

  bool WaitForAcknowledged(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return acknowledged_.size() >= n; });
  }
  std::vector<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_;
  }
  int receives() {
    std::lock_guard<std::mutex> lock(mu_);
    return receives_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<std::vector<FeedMessage>>> script_;
  std::vector<std::string> acknowledged_;
  int receives_ = 0;
  bool interrupted_ = false;
};

class ChangeListenerTest : public ::testing::Test {
 protected:
  ChangeListener::ApplyFunction Recorder() {
    return [this](const ObjectChange& change) {
      std::lock_guard<std::mutex> lock(mu_);
      applied_.push_back(change.key);
    };
  }
  std::vector<std::string> applied() {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }

  ScriptedFeed feed_;
  testing::FakeClock clock_;
  std::mutex mu_;
  std::vector<std::string> applied_;
};

TEST_F(ChangeListenerTest, AppliesRelevantChangesAndAcknowledgesEveryMessage) {
  ChangeListener listener(feed_, clock_, {.bucket = "photos", .prefix = "2024/"}, Recorder());
  listener.HandleBatch({{"m1", S3Body("photos", "2024/a+b.jpg"), "r1"},
                        {"m2", S3Body("photos", "2023/old.jpg"), "r2"},
                        {"m3", S3Body("other-bucket", "2024/x.jpg"), "r3"},
                        {"m4", "this is not JSON", "r4"},
                        {"m5", R"({"Service":"Amazon S3","Event":"s3:TestEvent"})", "r5"}});
  EXPECT_EQ(applied(), std::vector<std::string>{"2024/a b.jpg"});
  EXPECT_EQ(feed_.acknowledged(), (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"}));
  const ChangeListenerStats stats = listener.stats();
  EXPECT_EQ(stats.messages, 5u);
  EXPECT_EQ(stats.applied, 1u);
  EXPECT_EQ(stats.ignored, 2u);
  EXPECT_EQ(stats.malformed, 1u);
}

TEST_F(ChangeListenerTest, AFailingFeedIsRetriedWithBackoffAndTheListenerGoesOn) {
  for (int i = 0; i < 5; ++i) feed_.Push(MakeError(ErrorCode::kNetwork, "connection refused"));
  feed_.Push(MakeError(ErrorCode::kAccessDenied, "not allowed to receive"));
  feed_.Push(std::vector<FeedMessage>{{"m1", S3Body("b", "k"), "r1"}});
  ChangeListener listener(feed_, clock_,
                          {.bucket = "b",
                           .prefix = "",
                           .retry_base = milliseconds(100),
                           .retry_max = milliseconds(1000)},
                          Recorder());
  listener.Start();
  ASSERT_TRUE(feed_.WaitForAcknowledged(1)) << "the listener gave up after the errors";
  listener.Stop();
  EXPECT_EQ(applied(), std::vector<std::string>{"k"});
  EXPECT_EQ(listener.stats().receive_errors, 6u);
  // Doubling from retry_base, capped at retry_max, one wait per failed Receive, on the Clock.
  EXPECT_EQ(clock_.sleeps(), (std::vector<std::chrono::nanoseconds>{
                                 milliseconds(100), milliseconds(200), milliseconds(400),
                                 milliseconds(800), milliseconds(1000), milliseconds(1000)}));
}

TEST_F(ChangeListenerTest, TheBackoffStartsOverAfterAReceiveThatWorks) {
  feed_.Push(MakeError(ErrorCode::kNetwork, "down"));
  feed_.Push(MakeError(ErrorCode::kNetwork, "down"));
  feed_.Push(std::vector<FeedMessage>{{"m1", S3Body("b", "k"), "r1"}});
  feed_.Push(MakeError(ErrorCode::kNetwork, "down again"));
  feed_.Push(std::vector<FeedMessage>{{"m2", S3Body("b", "k2"), "r2"}});
  ChangeListener listener(feed_, clock_, {.bucket = "b", .retry_base = milliseconds(50)},
                          Recorder());
  listener.Start();
  ASSERT_TRUE(feed_.WaitForAcknowledged(2)) << "the listener gave up after the errors";
  listener.Stop();
  EXPECT_EQ(clock_.sleeps(), (std::vector<std::chrono::nanoseconds>{
                                 milliseconds(50), milliseconds(100), milliseconds(50)}));
}

TEST_F(ChangeListenerTest, AFeedThatRecoversDropsTheCachesBeforeItsNextBatch) {
  feed_.Push(std::vector<FeedMessage>{{"m1", S3Body("b", "before"), "r1"}});
  feed_.Push(MakeError(ErrorCode::kNetwork, "connection reset"));
  feed_.Push(MakeError(ErrorCode::kNetwork, "connection refused"));
  feed_.Push(std::vector<FeedMessage>{{"m2", S3Body("b", "after"), "r2"}});
  ChangeListener listener(feed_, clock_, {.bucket = "b", .retry_base = milliseconds(10)},
                          Recorder(), [this] {
                            std::lock_guard<std::mutex> lock(mu_);
                            applied_.push_back("<caches dropped>");
                          });
  listener.Start();
  ASSERT_TRUE(feed_.WaitForAcknowledged(2)) << "the listener gave up after the errors";
  listener.Stop();
  // Events sent during the outage may be lost: everything cached is dropped once, when the
  // feed works again, and not on a Receive that followed a working one.
  EXPECT_EQ(applied(), (std::vector<std::string>{"before", "<caches dropped>", "after"}));
  EXPECT_EQ(listener.stats().recoveries, 1u);
}

TEST_F(ChangeListenerTest, StopEndsABackoffWait) {
  // On the real clock, a one-hour backoff: Stop must wake it (else this test hangs until
  // ctest's timeout names it).
  SystemClock real;
  feed_.Push(MakeError(ErrorCode::kNetwork, "connection refused"));
  ChangeListener listener(
      feed_, real,
      {.bucket = "b", .retry_base = std::chrono::hours(1), .retry_max = std::chrono::hours(1)},
      Recorder());
  listener.Start();
  while (listener.stats().receive_errors == 0) std::this_thread::sleep_for(milliseconds(1));
  listener.Stop();
  EXPECT_EQ(feed_.receives(), 1) << "Receive was called again instead of backing off";
}

TEST_F(ChangeListenerTest, StopEndsABlockedReceive) {
  ChangeListener listener(feed_, clock_, {.bucket = "b"}, Recorder());
  listener.Start();
  while (feed_.receives() == 0) std::this_thread::sleep_for(milliseconds(1));
  listener.Stop();  // returns only if Interrupt ended the Receive (else ctest's timeout)
  EXPECT_EQ(listener.stats().receive_errors, 0u);
}

}  // namespace
}  // namespace s3mount
