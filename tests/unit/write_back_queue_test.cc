// Tests of WriteBackQueue on its own: per-path order, parallel paths, coalescing, Wait on a
// path and below it, retries paced by the clock then give_up, backpressure, Drain.
#include "fs/write_back_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace s3mount {
namespace {

using testing::FakeClock;
using namespace std::chrono_literals;

// A gate operations can wait on, opened by the test.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// What ran, in order.
class Journal {
 public:
  void Add(const std::string& what) {
    std::lock_guard lock(mu_);
    entries_.push_back(what);
  }
  std::vector<std::string> entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> entries_;
};

WriteBackOperation Op(const std::string& path, const std::string& name, Journal& journal,
                      Gate* gate = nullptr) {
  return WriteBackOperation{.path = path, .what = name, .run = [&journal, name, gate]() -> Status {
                              if (gate != nullptr) gate->Pass();
                              journal.Add(name);
                              return OkStatus();
                            }};
}

TEST(WriteBackQueueTest, OperationsOfOnePathRunInTheOrderQueued) {
  FakeClock clock;
  Journal journal;
  Gate gate;
  WriteBackQueue queue(clock, WriteBackOptions{.threads = 4});
  queue.Enqueue(Op("a", "delete a", journal, &gate));
  queue.Enqueue(Op("a", "put a", journal));
  queue.Enqueue(Op("a", "put a again", journal));
  gate.Open();
  queue.Drain();
  EXPECT_EQ(journal.entries(), (std::vector<std::string>{"delete a", "put a", "put a again"}))
      << "a DELETE then a PUT of the same key must reach S3 in that order";
  EXPECT_EQ(queue.stats().done, 3u);
  EXPECT_EQ(queue.stats().queued, 0u);
}

TEST(WriteBackQueueTest, DifferentPathsRunInParallel) {
  FakeClock clock;
  Journal journal;
  Gate gate;
  WriteBackQueue queue(clock, WriteBackOptions{.threads = 2});
  queue.Enqueue(Op("slow", "slow", journal, &gate));
  queue.Enqueue(Op("fast", "fast", journal));
  queue.Wait("fast", false);
  EXPECT_EQ(journal.entries(), std::vector<std::string>{"fast"})
      << "a blocked path must not hold up another one";
  EXPECT_TRUE(queue.Has("slow"));
  gate.Open();
  queue.Drain();
  EXPECT_FALSE(queue.Has("slow"));
}

TEST(WriteBackQueueTest, AnOperationNotStartedYetAbsorbsTheSameTag) {
  FakeClock clock;
  Journal journal;
  Gate gate;
  WriteBackQueue queue(clock, WriteBackOptions{.threads = 1});
  queue.Enqueue(Op("busy", "busy", journal, &gate));  // holds the only worker
  WriteBackOperation first = Op("f", "upload f", journal);
  first.coalesce_tag = "upload:7";
  WriteBackOperation second = Op("f", "upload f again", journal);
  second.coalesce_tag = "upload:7";
  EXPECT_TRUE(queue.Enqueue(std::move(first)));
  EXPECT_FALSE(queue.Enqueue(std::move(second))) << "the queued upload will carry it";
  gate.Open();
  queue.Drain();
  EXPECT_EQ(journal.entries(), (std::vector<std::string>{"busy", "upload f"}));
}

TEST(WriteBackQueueTest, WaitBelowADirectoryWaitsForEveryPathUnderIt) {
  FakeClock clock;
  Journal journal;
  Gate gate;
  WriteBackQueue queue(clock, WriteBackOptions{.threads = 4});
  queue.Enqueue(Op("dir/sub/file", "deep", journal, &gate));
  queue.Enqueue(Op("directory", "sibling", journal));  // not below "dir"
  queue.Wait("dir", false);                            // nothing for "dir" itself
  auto below = std::async(std::launch::async, [&] { queue.Wait("dir", true); });
  EXPECT_EQ(below.wait_for(100ms), std::future_status::timeout)
      << "Wait(below) returned while an operation under the directory was queued";
  gate.Open();
  below.get();
  EXPECT_FALSE(queue.Has("dir/sub/file"));
}

TEST(WriteBackQueueTest, AFailingOperationIsRetriedWithBackoffThenGivenUp) {
  FakeClock clock;
  std::atomic<int> runs = 0;
  std::string gave_up;
  WriteBackQueue queue(
      clock,
      WriteBackOptions{.threads = 1, .attempts = 3, .first_backoff = 10ms, .max_backoff = 15ms});
  queue.Enqueue(
      WriteBackOperation{.path = "f",
                         .what = "upload",
                         .run = [&]() -> Status {
                           ++runs;
                           return MakeError(ErrorCode::kServiceUnavailable, "down");
                         },
                         .give_up = [&](const Error& error) { gave_up = error.message; }});
  queue.Drain();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(gave_up, "down") << "the last error must reach give_up";
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{10ms, 15ms}))
      << "backoff doubles, capped";
  EXPECT_EQ(queue.stats().failed, 1u);
  EXPECT_EQ(queue.stats().retried, 2u);
}

TEST(WriteBackQueueTest, AnOperationThatSucceedsOnARetryIsNotGivenUp) {
  FakeClock clock;
  std::atomic<int> runs = 0;
  bool gave_up = false;
  WriteBackQueue queue(clock, WriteBackOptions{.attempts = 3, .first_backoff = 1ms});
  queue.Enqueue(WriteBackOperation{.path = "f",
                                   .what = "upload",
                                   .run = [&]() -> Status {
                                     return ++runs < 2
                                                ? Status(MakeError(ErrorCode::kSlowDown, "slow"))
                                                : OkStatus();
                                   },
                                   .give_up = [&](const Error&) { gave_up = true; }});
  queue.Drain();
  EXPECT_EQ(runs, 2);
  EXPECT_FALSE(gave_up);
  EXPECT_EQ(queue.stats().done, 1u);
}

TEST(WriteBackQueueTest, EnqueueWaitsForRoomWhenTheQueueIsFull) {
  FakeClock clock;
  Journal journal;
  Gate gate;
  WriteBackQueue queue(clock, WriteBackOptions{.threads = 2, .max_queued = 2});
  queue.Enqueue(Op("a", "a", journal, &gate));
  queue.Enqueue(Op("b", "b", journal, &gate));
  auto third = std::async(std::launch::async, [&] { queue.Enqueue(Op("c", "c", journal)); });
  EXPECT_EQ(third.wait_for(100ms), std::future_status::timeout)
      << "a third operation was queued past max_queued=2";
  gate.Open();
  third.get();
  queue.Drain();
  EXPECT_EQ(journal.entries().size(), 3u);
}

TEST(WriteBackQueueTest, EnqueueWaitsWhileOverBudgetAndSomethingIsQueued) {
  FakeClock clock;
  Journal journal;
  Gate gate;
  std::atomic<bool> over = true;
  WriteBackQueue queue(clock, WriteBackOptions{.over_budget = [&] { return over.load(); }});
  queue.Enqueue(Op("a", "a", journal, &gate));  // empty queue: never waits
  auto second = std::async(std::launch::async, [&] { queue.Enqueue(Op("b", "b", journal)); });
  EXPECT_EQ(second.wait_for(100ms), std::future_status::timeout)
      << "queued past the budget while an upload that frees it was queued";
  gate.Open();  // the queue empties: room again
  second.get();
  queue.Drain();
  EXPECT_EQ(journal.entries().size(), 2u);
}

TEST(WriteBackQueueTest, DestructionDrains) {
  FakeClock clock;
  Journal journal;
  {
    WriteBackQueue queue(clock, WriteBackOptions{.threads = 3});
    for (int i = 0; i < 50; ++i) queue.Enqueue(Op("f" + std::to_string(i % 7), "x", journal));
  }
  EXPECT_EQ(journal.entries().size(), 50u);
}

}  // namespace
}  // namespace s3mount
