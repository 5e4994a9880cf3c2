// Tests for AfterWriteCopied: the first kResidentWriteBuffers workers keep their receive
// buffers' pages (the next write lands on pages already there), any other worker gives its
// pages back (they read as zeros afterwards), and a worker that ends frees its place.
#include "fuse/write_buffer_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <barrier>
#include <cstring>
#include <thread>
#include <vector>

namespace s3mount {
namespace {

// An anonymous mapping standing in for a worker's receive buffer.
class Mapping {
 public:
  explicit Mapping(size_t size) : size_(size) {
    memory_ = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }
  ~Mapping() {
    if (memory_ != MAP_FAILED) munmap(memory_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* data() const { return static_cast<char*>(memory_); }
  bool ok() const { return memory_ != MAP_FAILED; }

 private:
  size_t size_;
  void* memory_;
};

constexpr size_t kWrite = size_t{64} << 10;

// Fills a buffer as a write would, runs AfterWriteCopied on it, and says whether the bytes
// are still there (kept) or read as zeros (given back).
bool WriteKeepsItsPages() {
  Mapping buffer(kWrite);
  EXPECT_TRUE(buffer.ok());
  std::memset(buffer.data(), 'w', kWrite);
  AfterWriteCopied(buffer.data(), kWrite);
  return buffer.data()[kWrite / 2] == 'w';
}

TEST(WriteBufferPagesTest, TheFirstWorkersKeepTheirBuffersAndTheOthersGiveThemBack) {
  ASSERT_EQ(ResidentWriteBuffers(), 0);
  constexpr int kWorkers = kResidentWriteBuffers + 3;
  std::barrier all_wrote(kWorkers + 1);
  std::barrier may_end(kWorkers + 1);
  std::vector<int> kept(kWorkers, 0);
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] {
      kept[i] = WriteKeepsItsPages() ? 1 : 0;
      // A second write on the same worker does as the first did.
      if (WriteKeepsItsPages() != (kept[i] == 1)) kept[i] = -1;
      all_wrote.arrive_and_wait();
      may_end.arrive_and_wait();
    });
  }
  all_wrote.arrive_and_wait();
  int keeping = 0;
  for (int i = 0; i < kWorkers; ++i) {
    ASSERT_NE(kept[i], -1) << "worker " << i << " changed its mind between two writes";
    keeping += kept[i];
  }
  EXPECT_EQ(keeping, kResidentWriteBuffers) << "workers keeping their buffer resident";
  EXPECT_EQ(ResidentWriteBuffers(), kResidentWriteBuffers);
  may_end.arrive_and_wait();
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(ResidentWriteBuffers(), 0) << "ended workers still hold their places";
  std::thread later([] { EXPECT_TRUE(WriteKeepsItsPages()) << "a freed place was not taken"; });
  later.join();
}

TEST(WriteBufferPagesTest, OnlyWholePagesInsideTheDataAreGivenBack) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  // Fill the resident places from other threads that stay alive meanwhile.
  std::barrier filled(kResidentWriteBuffers + 1);
  std::barrier done(kResidentWriteBuffers + 1);
  std::vector<std::thread> holders;
  for (int i = 0; i < kResidentWriteBuffers; ++i) {
    holders.emplace_back([&] {
      WriteKeepsItsPages();
      filled.arrive_and_wait();
      done.arrive_and_wait();
    });
  }
  filled.arrive_and_wait();
  Mapping buffer(4 * page);
  ASSERT_TRUE(buffer.ok());
  std::memset(buffer.data(), 'h', 4 * page);
  // Data from the middle of page 0 to the middle of page 3: only pages 1 and 2 are whole.
  AfterWriteCopied(buffer.data() + page / 2, 3 * page);
  EXPECT_EQ(buffer.data()[page / 2 - 1], 'h') << "the header before the data was touched";
  EXPECT_EQ(buffer.data()[page / 2], 'h') << "a partial first page was given back";
  EXPECT_EQ(buffer.data()[page], '\0') << "a whole page inside the data was kept";
  EXPECT_EQ(buffer.data()[3 * page - 1], '\0');
  EXPECT_EQ(buffer.data()[3 * page], 'h') << "a partial last page was given back";
  done.arrive_and_wait();
  for (auto& holder : holders) holder.join();
}

}  // namespace
}  // namespace s3mount
