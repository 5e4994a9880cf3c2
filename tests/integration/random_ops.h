// The operation sequence of the randomized mount test (random_ops_test.cc): seeded plain
// system calls applied to a local directory and to the mount, each call's two results
// compared. See random_ops_test.cc for what is checked and how to replay a failure.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace s3mount::random_ops {

constexpr uint64_t kDefaultSeed = 20261122;
constexpr int kDefaultOps = 300;
constexpr int kCheckpointEvery = 50;
constexpr size_t kMaxFiles = 30;
constexpr size_t kMaxDirs = 6;
constexpr size_t kMaxOpenFiles = 6;
constexpr size_t kLogLines = 20;
constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kMaxWrite = 3 * kMiB;
constexpr int64_t kMaxFileSize = 8 * kMiB;
// utimensat times are drawn from [2001-01-01, 2010-01-01): never "now".
constexpr time_t kPinnedFrom = 978307200;
constexpr time_t kPinnedTo = 1262304000;
constexpr int kLocal = 0;
constexpr int kMount = 1;

// The value of the environment variable `name` as a number; `fallback` when unset or empty.
uint64_t EnvNumber(const char* name, uint64_t fallback);

struct Outcome {
  int64_t value = 0;   // the call's result; -1 on error
  int err = 0;         // errno when value == -1
  std::string detail;  // extra observations (stat fields)
  bool operator==(const Outcome&) const = default;
};

struct OpenFile {
  std::array<int, 2> fd{-1, -1};
  std::string path;  // as opened (the file may have been renamed or unlinked since)
  int flags = 0;
};

// The operation sequence. Applies each operation to both roots and keeps the last results.
class RandomOps {
 public:
  RandomOps(uint64_t seed, std::string local_root, std::string mount_root)
      : seed_(seed), rng_(seed), roots_{std::move(local_root), std::move(mount_root)} {
    verbose_ = EnvNumber("S3MOUNT_RANDOM_VERBOSE", 0) != 0;
  }
  ~RandomOps();
  RandomOps(const RandomOps&) = delete;
  RandomOps& operator=(const RandomOps&) = delete;

  void set_mount_root(std::string root) { roots_[kMount] = std::move(root); }
  const std::string& failure() const { return failure_; }

  // Runs operation `index`. False on the first mismatch; failure() says what and where.
  bool Step(int index);
  // Closes every open descriptor pair (results must match).
  bool CloseAll();
  // Adds a checkpoint failure to the report format (seed, index, recent operations).
  std::string Report(const std::string& what) const;

 private:
  std::string Full(int side, const std::string& relative) const {
    return relative.empty() ? roots_[side] : roots_[side] + "/" + relative;
  }
  int64_t Uniform(int64_t low, int64_t high) {  // inclusive
    return low + static_cast<int64_t>(rng_() % static_cast<uint64_t>(high - low + 1));
  }
  bool Chance(int percent) { return Uniform(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Uniform(0, static_cast<int64_t>(items.size()) - 1))];
  }
  std::string NewName(const std::string& dir, char kind) {
    const std::string name = kind + std::to_string(next_id_++);
    return dir.empty() ? name : dir + "/" + name;
  }
  void Scan(const std::string& relative);
  bool Both(const std::string& what, const std::function<Outcome(int side)>& call);
  bool Fail(const std::string& what);
  std::string RandomData(size_t size);
  int64_t LocalSize(const OpenFile& file) const;
  int64_t NewSize(int64_t size) {
    return Chance(50) ? Uniform(0, size) : std::min(kMaxFileSize, size + Uniform(0, 2 * kMiB));
  }

  bool Create();
  bool Open();
  bool Write();
  bool Append();
  bool Read();
  bool Ftruncate();
  bool Truncate();
  bool RenameFile();
  bool RenameDir();
  bool Unlink();
  bool Mkdir();
  bool Rmdir();
  bool Chmod();
  bool Utimens();
  bool Fsync();
  bool Close();
  bool Stat();
  bool KeepOrClose(std::array<int, 2> fds, const std::string& path, int flags);

  uint64_t seed_;
  std::mt19937_64 rng_;
  std::array<std::string, 2> roots_;
  bool verbose_ = false;
  int index_ = 0;
  int next_id_ = 0;
  std::vector<std::string> files_;  // of the local side, rescanned before each operation
  std::vector<std::string> dirs_;   // "" (the root) first
  std::vector<OpenFile> open_;
  std::deque<std::string> log_;
  std::string failure_;
  std::array<std::string, 2> buffers_;
};

}  // namespace s3mount::random_ops
