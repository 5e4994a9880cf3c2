// Integration tests of the FUSE worker pool through a real mount: `-o max_threads=N` lets N
// requests be in the daemon at once. 64 readers each read an object of their own while a
// FaultProxy between the mount and moto holds every GET of those objects at its gate; each
// held GET is a FUSE read waiting on a worker thread, so the most objects held at once is how
// many requests the daemon serves together. Then the gate opens and every reader must get its
// object's bytes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fault_proxy.h"
#include "tests/support/mount_client_fixture.h"

namespace s3mount {
namespace {

using testing::Fault;
using testing::FaultProxy;
using testing::S3mountProcess;

constexpr size_t kReaders = 64;
// How long the gate waits for the expected number of held reads: a guard against a mount that
// never gets there (the test then fails with the number reached), not a speed requirement.
constexpr std::chrono::seconds kHoldTimeout{60};
// After the expected number is held, how long to watch for one more.
constexpr std::chrono::seconds kOverflowWatch{2};

std::string BodyOf(size_t reader) {
  // 64 KiB, different for each reader: one GET each, and a mixed-up reply shows.
  std::string body(size_t{64} << 10, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7 + reader) % 26);
  return body;
}

// Each object in a directory of its own, so that no directory readahead fetches one object
// ahead of its reader (only readers' own reads reach the gate).
std::string KeyOf(size_t reader) { return "d" + std::to_string(reader) + "/blob"; }

// Reader threads, each reading one file whole. The destructor opens the gate (a failed
// assertion must not leave a reader blocked) and joins them.
class Readers {
 public:
  Readers(FaultProxy& proxy, const S3mountProcess& mount) : proxy_(proxy) {
    results_.resize(kReaders);
    for (size_t i = 0; i < kReaders; ++i) {
      threads_.emplace_back([this, i, path = mount.Path(KeyOf(i))] {
        std::ifstream in(path, std::ios::binary);
        results_[i].assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      });
    }
  }
  ~Readers() { Join(); }
  Readers(const Readers&) = delete;
  Readers& operator=(const Readers&) = delete;

  // Opens the gate and waits for every reader; then results()[i] is what reader i read.
  void Join() {
    proxy_.gate().Open();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  const std::vector<std::string>& results() const { return results_; }

 private:
  FaultProxy& proxy_;
  std::vector<std::string> results_;
  std::vector<std::thread> threads_;
};

class MountThreadsTest : public testing::MountClientTest {
 protected:
  void SetUp() override {
    MountClientTest::SetUp();
    if (HasFatalFailure()) return;
    auto proxy = FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(proxy).value();
    for (size_t i = 0; i < kReaders; ++i) {
      const std::string body = BodyOf(i);
      auto put = client_.store->PutObject({.key = KeyOf(i), .body = body});
      ASSERT_TRUE(put.ok()) << put.error().ToString();
    }
  }

  // Mounts through the proxy with `threads` FUSE workers, looks every file up (so that only
  // the reads are left to do), then starts the readers with the objects' GETs held.
  // Returns the most GETs held at once once `expected` are held (or the timeout passed),
  // after watching kOverflowWatch for one more; the readers are joined and checked before
  // it returns.
  size_t MostReadsAtOnce(unsigned threads, size_t expected) {
    auto mount = S3mountProcess::Mount(
        server(), {.source = bucket(),
                   .options = {"max_threads=" + std::to_string(threads), "dir_readahead=0",
                               "cache_dir=" + cache_->path()},
                   .endpoint = proxy_->endpoint()});
    EXPECT_TRUE(mount.ok()) << mount.error().ToString();
    if (!mount.ok()) return 0;
    for (size_t i = 0; i < kReaders; ++i) {
      struct stat st = {};
      EXPECT_EQ(::stat((*mount)->Path(KeyOf(i)).c_str(), &st), 0) << KeyOf(i);
    }
    // Every GET of an object, a retried one too, waits until the gate opens.
    proxy_->AddFault(Fault::Hold().OnMethod("GET").OnPath("/blob").Times(1'000'000));
    size_t most = 0;
    {
      Readers readers(*proxy_, **mount);
      most = proxy_->gate().WaitUntilHolding(expected, kHoldTimeout);
      if (most >= expected) most = proxy_->gate().WaitUntilHolding(expected + 1, kOverflowWatch);
      readers.Join();
      for (size_t i = 0; i < kReaders; ++i) {
        EXPECT_TRUE(readers.results()[i] == BodyOf(i))
            << "reader " << i << " read " << readers.results()[i].size() << " bytes, not "
            << KeyOf(i) << "'s 65536";
      }
    }
    EXPECT_TRUE((*mount)->Unmount().ok()) << (*mount)->LogTail();
    return most;
  }

  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(MountThreadsTest, SixtyFourWorkersServeSixtyFourReadsAtOnce) {
  EXPECT_EQ(MostReadsAtOnce(64, 64), 64u)
      << "with max_threads=64, this many reads were in the daemon at once";
}

TEST_F(MountThreadsTest, SixteenWorkersServeSixteenReadsAtOnce) {
  EXPECT_EQ(MostReadsAtOnce(16, 16), 16u)
      << "with max_threads=16, this many reads were in the daemon at once";
}

TEST_F(MountThreadsTest, OneWorkerServesOneReadAtATime) {
  EXPECT_EQ(MostReadsAtOnce(1, 1), 1u)
      << "with max_threads=1, this many reads were in the daemon at once";
}

}  // namespace
}  // namespace s3mount
