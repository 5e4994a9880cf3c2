// The operations of the reference-model test and their random generator. An operation names
// paths and handle slots, never inode numbers or handle ids, so that a sequence can be
// replayed from scratch and shrunk (an operation whose slot is empty on replay does
// nothing). Describe() prints one as a line of the failure report.
//
// Thread-safety: plain values; a Generator belongs to one thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/reference_model/model.h"

namespace s3mount::reference_model {

enum class OpKind {
  // Through the Filesystem (the kernel's path walk and checks are emulated by the runner).
  kCreate,       // path, permissions, flag = O_EXCL, slot
  kOpen,         // path, flag = for writing, flag2 = O_TRUNC, slot
  kWrite,        // slot, offset, data
  kRead,         // slot, offset, size
  kFtruncate,    // slot, size
  kFsync,        // slot
  kClose,        // slot (flush, then release)
  kTruncate,     // path, size
  kChmod,        // path, permissions
  kUtimens,      // path, mtime (seconds in `size`, nanoseconds in `offset`)
  kSetXattr,     // path, name, data = value, mode (0 any, 1 create, 2 replace)
  kRemoveXattr,  // path, name
  kMkdir,        // path, permissions
  kRmdir,        // path
  kUnlink,       // path
  kRename,       // path -> path2, flag = RENAME_NOREPLACE
  kSymlink,      // path, data = target
  // Another client, straight on the store.
  kRemotePut,     // path (a key; "x/" is a marker), data = body
  kRemoteDelete,  // path (a key)
  // Time and the write-back queue.
  kAdvance,  // size = seconds
  kDrain,    // DrainWriteBack
};

struct Op {
  OpKind kind = OpKind::kAdvance;
  std::string path;
  std::string path2;
  std::string name;
  std::string data;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t permissions = 0;
  int slot = 0;
  int mode = 0;
  bool flag = false;
  bool flag2 = false;
};

// One line, e.g. `write slot 1 at 300: 40 bytes 'kq...'`.
std::string Describe(const Op& op);

inline constexpr int kSlots = 4;

// What the generator needs to know of the runner's handles.
struct SlotState {
  bool open[kSlots] = {};
  bool writable[kSlots] = {};
  uint64_t size[kSlots] = {};  // the size of the handle's file
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  // The next operation for a mount whose tree `model` describes.
  Op Next(const Model& model, const SlotState& slots);

 private:
  std::string RandomPath();
  // An existing path half of the time (more collisions), else a random one.
  std::string SomePath(const Model& model);
  std::string Bytes(size_t size);
  uint64_t Below(uint64_t bound) { return bound == 0 ? 0 : rng_() % bound; }
  bool Chance(int percent) { return static_cast<int>(Below(100)) < percent; }
  int OpenSlot(const SlotState& slots, bool writable);

  std::mt19937_64 rng_;
  uint64_t remote_bodies_ = 0;  // makes every remote body unique (see the test's comment)
};

}  // namespace s3mount::reference_model
