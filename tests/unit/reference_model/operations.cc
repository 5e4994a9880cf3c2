// Operations of the reference-model test: how they print, and how they are drawn at random
// (see operations.h).
#include "tests/unit/reference_model/operations.h"

#include <array>
#include <iterator>
#include <utility>

namespace s3mount::reference_model {
namespace {

constexpr std::array<const char*, 2> kXattrNames = {"user.x", "user.y"};

std::string Quoted(const std::string& data) {
  if (data.size() <= 12) return "'" + data + "'";
  return std::to_string(data.size()) + " bytes '" + data.substr(0, 8) + "...'";
}

}  // namespace

std::string Describe(const Op& op) {
  const std::string slot = "slot " + std::to_string(op.slot);
  switch (op.kind) {
    case OpKind::kCreate:
      return "create " + op.path + " " + Octal(op.permissions) + (op.flag ? " O_EXCL" : "") +
             " -> " + slot;
    case OpKind::kOpen:
      return std::string("open ") + op.path + (op.flag ? " O_RDWR" : " O_RDONLY") +
             (op.flag2 ? "|O_TRUNC" : "") + " -> " + slot;
    case OpKind::kWrite:
      return "write " + slot + " at " + std::to_string(op.offset) + ": " + Quoted(op.data);
    case OpKind::kRead:
      return "read " + slot + " " + std::to_string(op.size) + " at " + std::to_string(op.offset);
    case OpKind::kFtruncate:
      return "ftruncate " + slot + " to " + std::to_string(op.size);
    case OpKind::kFsync:
      return "fsync " + slot;
    case OpKind::kClose:
      return "close " + slot;
    case OpKind::kTruncate:
      return "truncate " + op.path + " to " + std::to_string(op.size);
    case OpKind::kChmod:
      return "chmod " + op.path + " " + Octal(op.permissions);
    case OpKind::kUtimens:
      return "utimens " + op.path + " mtime " + std::to_string(op.size) + "." +
             std::to_string(op.offset);
    case OpKind::kSetXattr:
      return "setxattr " + op.path + " " + op.name + "=" + Quoted(op.data) +
             (op.mode == 1   ? " XATTR_CREATE"
              : op.mode == 2 ? " XATTR_REPLACE"
                             : "");
    case OpKind::kRemoveXattr:
      return "removexattr " + op.path + " " + op.name;
    case OpKind::kMkdir:
      return "mkdir " + op.path + " " + Octal(op.permissions);
    case OpKind::kRmdir:
      return "rmdir " + op.path;
    case OpKind::kUnlink:
      return "unlink " + op.path;
    case OpKind::kRename:
      return "rename " + op.path + " " + op.path2 + (op.flag ? " RENAME_NOREPLACE" : "");
    case OpKind::kSymlink:
      return "symlink " + op.path + " -> " + Quoted(op.data);
    case OpKind::kRemotePut:
      return "other client: PUT " + op.path + " " + Quoted(op.data);
    case OpKind::kRemoteDelete:
      return "other client: DELETE " + op.path;
    case OpKind::kAdvance:
      return "clock +" + std::to_string(op.size) + "s";
    case OpKind::kDrain:
      return "drain write-back";
  }
  return "?";
}

std::string Generator::RandomPath() {
  // Mostly one or two components: deep trees are rare and shallow ones collide more.
  const uint64_t roll = Below(10);
  const int depth = roll < 4 ? 1 : roll < 8 ? 2 : 3;
  std::string path;
  for (int i = 0; i < depth; ++i) {
    if (!path.empty()) path += "/";
    path += kNames[Below(kNames.size())];
  }
  return path;
}

std::string Generator::SomePath(const Model& model) {
  if (Chance(50) && !model.keys().empty()) {
    auto it = model.keys().begin();
    std::advance(it, static_cast<std::ptrdiff_t>(Below(model.keys().size())));
    std::string key = it->first;
    if (key.ends_with("/")) key.pop_back();
    return key;
  }
  return RandomPath();
}

std::string Generator::Bytes(size_t size) {
  std::string data(size, 'a');
  for (char& c : data) c = static_cast<char>('a' + Below(26));
  return data;
}

int Generator::OpenSlot(const SlotState& slots, bool writable) {
  std::vector<int> candidates;
  for (int i = 0; i < kSlots; ++i) {
    if (slots.open[i] && (!writable || slots.writable[i])) candidates.push_back(i);
  }
  if (candidates.empty()) return -1;
  return candidates[Below(candidates.size())];
}

Op Generator::Next(const Model& model, const SlotState& slots) {
  // Weights: handle operations only when a suitable handle is open.
  struct Weighted {
    OpKind kind;
    int weight;
  };
  static constexpr std::array<Weighted, 21> kWeights = {{
      {OpKind::kCreate, 10},      {OpKind::kOpen, 6},      {OpKind::kWrite, 16},
      {OpKind::kRead, 5},         {OpKind::kFtruncate, 3}, {OpKind::kFsync, 3},
      {OpKind::kClose, 9},        {OpKind::kTruncate, 3},  {OpKind::kChmod, 3},
      {OpKind::kUtimens, 3},      {OpKind::kSetXattr, 4},  {OpKind::kRemoveXattr, 2},
      {OpKind::kMkdir, 7},        {OpKind::kRmdir, 4},     {OpKind::kUnlink, 5},
      {OpKind::kRename, 7},       {OpKind::kSymlink, 2},   {OpKind::kRemotePut, 7},
      {OpKind::kRemoteDelete, 4}, {OpKind::kAdvance, 3},   {OpKind::kDrain, 2},
  }};
  int total = 0;
  for (const auto& w : kWeights) total += w.weight;
  for (;;) {
    int roll = static_cast<int>(Below(static_cast<uint64_t>(total)));
    OpKind kind = kWeights.back().kind;
    for (const auto& w : kWeights) {
      if (roll < w.weight) {
        kind = w.kind;
        break;
      }
      roll -= w.weight;
    }
    Op op{.kind = kind};
    switch (kind) {
      case OpKind::kCreate:
      case OpKind::kOpen:
        op.path = SomePath(model);
        op.permissions = Chance(80) ? 0644 : 0600;
        op.slot = static_cast<int>(Below(kSlots));
        op.flag = kind == OpKind::kCreate ? Chance(15) : Chance(60);
        op.flag2 = op.flag && Chance(25);
        break;
      case OpKind::kWrite: {
        op.slot = OpenSlot(slots, true);
        if (op.slot < 0) continue;
        const uint64_t size = slots.size[op.slot];
        // Appends stream (a new file written from 0); other offsets go to staging.
        op.offset = Chance(50) ? size : Below(size + 600);
        op.data = Bytes(1 + Below(Chance(20) ? 3000 : 400));
        break;
      }
      case OpKind::kRead:
        op.slot = OpenSlot(slots, false);
        if (op.slot < 0) continue;
        op.offset = Below(slots.size[op.slot] + 100);
        op.size = 1 + Below(2000);
        break;
      case OpKind::kFtruncate:
        op.slot = OpenSlot(slots, true);
        if (op.slot < 0) continue;
        op.size = Chance(30) ? 0 : Below(slots.size[op.slot] + 1500);
        break;
      case OpKind::kFsync:
      case OpKind::kClose:
        op.slot = OpenSlot(slots, false);
        if (op.slot < 0) continue;
        break;
      case OpKind::kTruncate:
        op.path = SomePath(model);
        op.size = Chance(30) ? 0 : Below(2500);
        break;
      case OpKind::kChmod:
        op.path = SomePath(model);
        op.permissions = Chance(50) ? 0640 : 0705;
        break;
      case OpKind::kUtimens:
        op.path = SomePath(model);
        op.size = 1'600'000'000 + Below(1000);
        op.offset = Chance(50) ? 0 : Below(1'000'000'000);
        break;
      case OpKind::kSetXattr:
      case OpKind::kRemoveXattr:
        op.path = SomePath(model);
        op.name = kXattrNames[Below(kXattrNames.size())];
        op.data = Bytes(Below(20));
        op.mode = static_cast<int>(Below(3));
        break;
      case OpKind::kMkdir:
        op.path = SomePath(model);
        op.permissions = Chance(80) ? 0755 : 0700;
        break;
      case OpKind::kRmdir:
      case OpKind::kUnlink:
        op.path = SomePath(model);
        break;
      case OpKind::kRename:
        op.path = SomePath(model);
        op.path2 = SomePath(model);
        op.flag = Chance(15);
        break;
      case OpKind::kSymlink:
        op.path = SomePath(model);
        op.data = Chance(50) ? "a" : "../" + Bytes(1 + Below(30));
        break;
      case OpKind::kRemotePut:
        op.path = SomePath(model);
        if (Chance(30)) op.path += "/";
        // Unique bodies: see the freshness rule at the top of reference_model_test.cc.
        op.data = op.path.ends_with("/") ? "" : Bytes(Below(1500));
        op.data += "#" + std::to_string(++remote_bodies_);
        break;
      case OpKind::kRemoteDelete:
        op.path = SomePath(model);
        if (Chance(30)) op.path += "/";
        break;
      case OpKind::kAdvance:
        op.size = Chance(80) ? 1 + Below(10) : 61;
        break;
      case OpKind::kDrain:
        break;
    }
    return op;
  }
}

}  // namespace s3mount::reference_model
