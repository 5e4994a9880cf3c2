// Integration test of the memory guarantee through a real mount (docs/CONFIGURATION.md,
// "Memory"): readers and writers together keep the daemon within
// cache_size + write_buffer + 64 MiB. 64 readers (most sequential, some random) read objects
// of their own while 8 writers write new files several times write_buffer long, all at once;
// a thread samples the daemon's VmRSS meanwhile, and its VmHWM (the kernel's own peak) is
// read at the end. Every reader must get its object's bytes and every file must be whole in S3.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/common/unique_fd.h"
#include "tests/support/mount_client_fixture.h"
#include "tests/support/test_data.h"

namespace s3mount {
namespace {

using testing::RandomBytes;
using testing::SameBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;
// The smallest write_buffer the options accept, and a small block cache: the budget is then
// mostly the 64 MiB the daemon's threads, connections and FUSE buffers may use.
constexpr uint64_t kCacheSize = 32 * kMiB;
constexpr uint64_t kWriteBuffer = 16 * kMiB;
constexpr uint64_t kBudget = kCacheSize + kWriteBuffer + 64 * kMiB;

constexpr size_t kReaders = 64;
constexpr size_t kWriters = 8;
constexpr size_t kReadSize = 6 * kMiB;    // each reader's object: past the first 4 MiB GET
constexpr size_t kWriteSize = 40 * kMiB;  // each writer's file: parts beyond write_buffer
// Every fourth reader reads at random offsets: pages (GETs that bypass the block cache) and
// whole MiBs (blocks through the cache).
bool IsRandomReader(size_t reader) { return reader % 4 == 3; }

std::string ReaderKey(size_t reader) { return "r/" + std::to_string(reader); }
std::string WriterKey(size_t writer) { return "w/" + std::to_string(writer); }

// VmRSS or VmHWM of process `pid`, in bytes (0 when it cannot be read).
uint64_t StatusBytes(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) << 10;
  }
  return 0;
}

double Mib(uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kMiB); }

// Samples the daemon's VmRSS every few milliseconds until destroyed; peak() is the largest.
class RssSampler {
 public:
  explicit RssSampler(pid_t pid)
      : thread_([this, pid] {
          while (!stop_.load()) {
            peak_.store(std::max(peak_.load(), StatusBytes(pid, "VmRSS")));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        }) {}
  ~RssSampler() {
    stop_.store(true);
    thread_.join();
  }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;
  uint64_t peak() const { return peak_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> peak_{0};
  std::thread thread_;
};

class MountMemoryTest : public testing::MountClientTest {
 protected:
  void SetUp() override {
    MountClientTest::SetUp();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // A sanitizer's shadow memory and quarantine are part of the daemon's RSS: the budget is
    // measured on the plain build (CI runs it there), and this load would take many minutes.
    GTEST_SKIP() << "peak RSS is measured without sanitizers";
#endif
    if (HasFatalFailure()) return;
    for (size_t i = 0; i < kReaders; ++i) read_bodies_.push_back(RandomBytes(kReadSize, 1000 + i));
    for (size_t i = 0; i < kWriters; ++i)
      write_bodies_.push_back(RandomBytes(kWriteSize, 2000 + i));
    std::vector<std::thread> putters;
    std::atomic<size_t> next{0};
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t) {
      putters.emplace_back([&] {
        for (size_t i = next++; i < kReaders; i = next++) {
          if (!client_.store->PutObject({.key = ReaderKey(i), .body = read_bodies_[i]}).ok()) {
            ++failures;
          }
        }
      });
    }
    for (auto& putter : putters) putter.join();
    ASSERT_EQ(failures.load(), 0) << "objects for the readers could not be put";
  }

  // Reader `i` until `stop` (one pass at least): a sequential read of the whole object, or
  // random reads checked against it. The page cache is dropped between passes so every pass
  // reaches the daemon. Returns "" or what went wrong.
  std::string Read(const std::string& path, size_t i, const std::atomic<bool>& stop) const {
    const std::string& body = read_bodies_[i];
    std::mt19937_64 random(i);
    std::string buffer(kMiB, '\0');
    for (int pass = 0; pass == 0 || !stop.load(); ++pass) {
      UniqueFd fd(open(path.c_str(), O_RDONLY));
      if (!fd.valid()) return "open: " + std::string(strerror(errno));
      if (!IsRandomReader(i)) {
        std::string got;
        for (;;) {
          const ssize_t n = read(fd.get(), buffer.data(), buffer.size());
          if (n < 0) return "read: " + std::string(strerror(errno));
          if (n == 0) break;
          got.append(buffer.data(), static_cast<size_t>(n));
        }
        if (got != body) return "read " + std::to_string(got.size()) + " bytes, not its object";
      } else {
        for (int r = 0; r < 48; ++r) {
          const size_t length = r % 3 == 0 ? kMiB : 64 << 10;
          const size_t offset = random() % (body.size() - length);
          const ssize_t n = pread(fd.get(), buffer.data(), length, static_cast<off_t>(offset));
          if (n != static_cast<ssize_t>(length) ||
              std::memcmp(buffer.data(), body.data() + offset, length) != 0) {
            return "random read at " + std::to_string(offset) + " differs";
          }
        }
      }
      (void)posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
    }
    return "";
  }

  // Writes writer `i`'s file sequentially in 1 MiB writes and closes it; "" or the error.
  std::string Write(const std::string& path, size_t i) const {
    const std::string& body = write_bodies_[i];
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (!fd.valid()) return "open: " + std::string(strerror(errno));
    for (size_t at = 0; at < body.size(); at += kMiB) {
      const size_t n = std::min<size_t>(kMiB, body.size() - at);
      if (pwrite(fd.get(), body.data() + at, n, static_cast<off_t>(at)) !=
          static_cast<ssize_t>(n)) {
        return "write at " + std::to_string(at) + ": " + strerror(errno);
      }
    }
    if (close(fd.Release()) != 0) return "close: " + std::string(strerror(errno));
    return "";
  }

  std::vector<std::string> read_bodies_;
  std::vector<std::string> write_bodies_;
};

TEST_F(MountMemoryTest, SixtyFourReadersAndEightWritersStayWithinTheBudget) {
  auto mount =
      Mount({"cache_size=" + std::to_string(kCacheSize >> 20) + "M",
             "write_buffer=" + std::to_string(kWriteBuffer >> 20) + "M", "max_threads=64"});
  ASSERT_NE(mount, nullptr);
  ASSERT_EQ(mkdir(mount->Path("w").c_str(), 0755), 0) << strerror(errno);
  const pid_t pid = mount->pid();
  const uint64_t idle = StatusBytes(pid, "VmRSS");
  std::vector<std::string> read_errors(kReaders);
  std::vector<std::string> write_errors(kWriters);
  uint64_t polled = 0;
  {
    RssSampler sampler(pid);
    std::atomic<bool> writers_done{false};
    std::vector<std::thread> readers;
    for (size_t i = 0; i < kReaders; ++i) {
      readers.emplace_back(
          [&, i] { read_errors[i] = Read(mount->Path(ReaderKey(i)), i, writers_done); });
    }
    std::vector<std::thread> writers;
    for (size_t i = 0; i < kWriters; ++i) {
      writers.emplace_back([&, i] { write_errors[i] = Write(mount->Path(WriterKey(i)), i); });
    }
    for (auto& writer : writers) writer.join();
    writers_done.store(true);
    for (auto& reader : readers) reader.join();
    polled = sampler.peak();
  }
  const uint64_t peak = StatusBytes(pid, "VmHWM");
  std::printf(
      "daemon memory: idle %.1f MiB, peak VmRSS polled %.1f MiB, VmHWM %.1f MiB; budget %.0f "
      "MiB (cache_size %.0f + write_buffer %.0f + 64)\n",
      Mib(idle), Mib(polled), Mib(peak), Mib(kBudget), Mib(kCacheSize), Mib(kWriteBuffer));
  for (size_t i = 0; i < kReaders; ++i) EXPECT_EQ(read_errors[i], "") << "reader " << i;
  for (size_t i = 0; i < kWriters; ++i) EXPECT_EQ(write_errors[i], "") << "writer " << i;
  EXPECT_LE(peak, kBudget) << "the daemon's peak RSS (VmHWM) exceeded cache_size + "
                              "write_buffer + 64 MiB under 64 readers and 8 writers";
  EXPECT_LE(polled, kBudget) << "the daemon's polled RSS exceeded the budget";
  for (size_t i = 0; i < kWriters; ++i) {
    EXPECT_TRUE(SameBytes(Body(WriterKey(i)), write_bodies_[i]))
        << WriterKey(i) << " is not whole in S3 after its close";
  }
  EXPECT_TRUE((*mount).Unmount().ok()) << mount->LogTail();
}

}  // namespace
}  // namespace s3mount
