// Tests for ThreadPool: every task runs once, tasks may submit tasks, destruction drains.
#include "s3mount/common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>

namespace s3mount {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnceAcrossWorkers) {
  std::atomic<int> runs{0};
  {
    ThreadPool pool(4);
    for (int i = 0; i < 1000; ++i) pool.Submit([&] { ++runs; });
  }  // the destructor drains the queue
  EXPECT_EQ(runs.load(), 1000);
}

TEST(ThreadPoolTest, TasksMaySubmitTasks) {
  std::atomic<int> runs{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 10; ++i) {
      pool.Submit([&] {
        ++runs;
        pool.Submit([&] { ++runs; });
      });
    }
    while (runs.load() < 20) std::this_thread::yield();
  }
  EXPECT_EQ(runs.load(), 20);
}

}  // namespace
}  // namespace s3mount
