// Tests for ThreadPool: every task runs once, tasks may submit tasks, destruction drains,
// Submit after Shutdown is refused (the task never runs), and RunAll reports a refusal.
#include "s3mount/common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>

namespace s3mount {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnceAcrossWorkers) {
  std::atomic<int> runs{0};
  {
    ThreadPool pool(4);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.Submit([&] { ++runs; }).ok());
  }  // the destructor drains the queue
  EXPECT_EQ(runs.load(), 1000);
}

TEST(ThreadPoolTest, TasksMaySubmitTasks) {
  std::atomic<int> runs{0};
  std::atomic<int> refused{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(pool.Submit([&] {
                        ++runs;
                        if (!pool.Submit([&] { ++runs; }).ok()) ++refused;
                      })
                      .ok());
    }
    while (runs.load() < 20) std::this_thread::yield();
  }
  EXPECT_EQ(runs.load(), 20);
  EXPECT_EQ(refused.load(), 0);
}

TEST(ThreadPoolTest, SubmitAfterShutdownIsAnErrorAndTheTaskNeverRuns) {
  std::atomic<int> runs{0};
  ThreadPool pool(2);
  ASSERT_TRUE(pool.Submit([&] { ++runs; }).ok());
  pool.Shutdown();
  EXPECT_EQ(runs.load(), 1) << "Shutdown did not run the task queued before it";
  Status late = pool.Submit([&] { ++runs; });
  ASSERT_FALSE(late.ok()) << "Submit after Shutdown was accepted";
  EXPECT_EQ(late.error().code, ErrorCode::kCancelled);
  pool.Shutdown();  // idempotent; would run the task if it had been queued
  EXPECT_EQ(runs.load(), 1) << "a task submitted after Shutdown ran";
}

TEST(ThreadPoolTest, ATaskSubmittingDuringShutdownIsRefused) {
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::atomic<int> follow_ups{0};
  Status refused = OkStatus();
  ThreadPool pool(1);
  ASSERT_TRUE(pool.Submit([&] {
                    started = true;
                    while (!release.load()) std::this_thread::yield();
                    refused = pool.Submit([&] { ++follow_ups; });
                  })
                  .ok());
  while (!started.load()) std::this_thread::yield();
  std::thread stopper([&] { pool.Shutdown(); });
  // Shutdown marks the pool stopping before it joins; give it the chance, then release.
  while (pool.Submit([] {}).ok()) std::this_thread::yield();
  release = true;
  stopper.join();
  EXPECT_FALSE(refused.ok()) << "a task's Submit during Shutdown was accepted";
  EXPECT_EQ(follow_ups.load(), 0);
}

TEST(ThreadPoolTest, RunAllOnAShutDownPoolReturnsTheRefusal) {
  ThreadPool pool(1);
  pool.Shutdown();
  std::atomic<int> runs{0};
  std::vector<std::function<Status()>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.emplace_back([&] {
      ++runs;
      return OkStatus();
    });
  }
  Status all = RunAll<Status>(pool, std::move(tasks));  // returns: refusals count as done
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace s3mount
