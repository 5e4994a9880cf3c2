// Runner: one Filesystem on a fresh fake store and FakeClock, driven by reference-model
// operations (operations.h) the way the kernel would drive it (path walks by Lookup, the VFS's
// own checks such as EEXIST for mkdir of an existing name, one lookup reference per open
// handle), with the Model (model.h) changed alongside. After every operation the whole tree
// the mount shows (readdir, lookup attributes, file contents, symlink targets, xattrs, and
// that names the model lacks are missing) is compared with the model; when nothing is open
// and nothing queued, so is what S3 itself holds. runner.cc runs operations, tree_check.cc
// compares.
//
// Thread-safety: one test thread owns a Runner (the Filesystem has its own threads).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "s3mount/fs/filesystem.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/support/subprocess.h"
#include "tests/unit/reference_model/model.h"
#include "tests/unit/reference_model/operations.h"

namespace s3mount::reference_model {

// The FakeClock, with a monotonic time that moves 1 ns at every reading, as a real one does
// between any two readings: "fetched before the change" is then never a tie between threads
// (the FakeClock alone stands still while a background request and a change race).
class TickingClock final : public Clock {
 public:
  explicit TickingClock(testing::FakeClock& base) : base_(base) {}
  WallTime Now() const override { return base_.Now(); }
  MonoTime Monotonic() const override {
    return base_.Monotonic() + std::chrono::nanoseconds(ticks_.fetch_add(1) + 1);
  }
  void SleepFor(std::chrono::nanoseconds duration) override { base_.SleepFor(duration); }

 private:
  testing::FakeClock& base_;
  mutable std::atomic<int64_t> ticks_{0};
};

struct RunConfig {
  bool write_back = false;  // -o writeback
  // Freshness after another client's change: an event (ApplyRemoteChange, TTLs of an hour, as
  // with sqs_queue_url=) when set, else the clock moves past every TTL.
  bool events = false;
  bool object_metadata = true;

  std::string ToString() const;
};

class Runner {
 public:
  explicit Runner(RunConfig config);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Empty when the mount could be set up, else why not.
  const std::string& setup_error() const { return setup_error_; }

  // Runs `op` and compares the mount with the model; a failure says what differed.
  std::optional<std::string> Step(const Op& op);
  // Closes every handle, drains the write-back queue and compares the tree and S3 itself.
  std::optional<std::string> Finish();

  const Model& model() const { return model_; }
  SlotState slots() const;

 private:
  struct Slot {
    bool open = false;
    bool writable = false;
    InodeId inode = 0;
    uint64_t handle = 0;
    NodePtr node;
  };
  // Where a path walk ended: the parent's inode (0 if a component above is missing or not a
  // directory), the inode of the path itself (0 if missing) and what the model says it is.
  struct Walk {
    InodeId parent = 0;
    InodeId inode = 0;
    ViewEntry view;
  };

  // runner.cc
  std::optional<std::string> Run(const Op& op);
  std::optional<std::string> WalkTo(const std::string& path, Walk& walk);
  std::optional<std::string> RunCreate(const Op& op);
  std::optional<std::string> RunOpen(const Op& op, const Walk& walk, bool write, bool truncate);
  std::optional<std::string> RunHandleOp(const Op& op);
  std::optional<std::string> RunSetAttr(const Op& op);
  std::optional<std::string> RunXattr(const Op& op);
  std::optional<std::string> RunNamespace(const Op& op);
  std::optional<std::string> RunRename(const Op& op);
  std::optional<std::string> RunRemote(const Op& op);
  std::optional<std::string> Close(int slot);
  void ForgetWalked();
  bool AnyOpen() const;

  // tree_check.cc
  std::optional<std::string> CheckTree();
  std::optional<std::string> CheckDirectory(InodeId inode, const std::string& path, bool plus);
  // `listed`: the entry comes from readdirplus.
  std::optional<std::string> CheckEntry(const std::string& path, const Entry& entry, bool listed);
  std::optional<std::string> CheckContent(const std::string& path, InodeId inode,
                                          const ViewEntry& view);
  std::optional<std::string> CheckStore();

  RunConfig config_;
  std::string setup_error_;
  std::unique_ptr<testing::TempDir> staging_root_;  // removed after the file system
  testing::FakeClock clock_;
  TickingClock ticking_{clock_};
  testing::FakeObjectStore store_{clock_};
  std::unique_ptr<MetadataCache> metadata_;
  BlockCache blocks_{BlockCacheOptions{}};
  std::unique_ptr<Filesystem> fs_;
  Model model_;
  Slot slots_[kSlots];
  std::vector<InodeId> walked_;  // lookup references taken by the current operation
  // With write-back: paths changed locally since the queue was last drained.
  std::set<std::string> touched_;
  uint64_t checks_ = 0;  // tree checks done, to vary readdir and readdirplus
};

}  // namespace s3mount::reference_model
