// Runner: runs reference-model operations on the Filesystem and on the model (see runner.h).
#include "tests/unit/reference_model/runner.h"

#include <algorithm>
#include <utility>

namespace s3mount::reference_model {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr Caller kCaller{1000, 1000, 022};
constexpr uint32_t kUmask = 022;

template <typename R>
std::optional<ErrorCode> CodeOf(const R& result) {
  if (result.ok()) return std::nullopt;
  return result.error().code;
}

std::string CodeName(std::optional<ErrorCode> code) {
  return code ? std::string(ErrorCodeName(*code)) : std::string("success");
}

// A failure unless `result` is what the model predicts (success or `expected`).
template <typename R>
std::optional<std::string> ExpectResult(const R& result, std::optional<ErrorCode> expected) {
  if (CodeOf(result) == expected) return std::nullopt;
  std::string message = "expected " + CodeName(expected) + ", got " + CodeName(CodeOf(result));
  if (!result.ok()) message += " (" + result.error().ToString() + ")";
  return message;
}

void Resize(ModelNode& node, uint64_t size) {
  node.content.resize(size, '\0');
  node.mtime.reset();
}

ViewKind KindOf(const Entry& entry) {
  return entry.inode == 0 ? ViewKind::kMissing : KindOfType(entry.attributes.type);
}

}  // namespace

std::string RunConfig::ToString() const {
  return std::string(write_back ? "writeback" : "no writeback") +
         (events ? ", freshness by events" : ", freshness by TTLs") +
         (object_metadata ? "" : ", no_object_metadata");
}

Runner::Runner(RunConfig config) : config_(config), model_(AttributeDefaults{}) {
  auto root = testing::TempDir::Create("s3mount-reference-model");
  if (!root.ok()) {
    setup_error_ = root.error().ToString();
    return;
  }
  staging_root_ = std::move(root).value();
  // Small parts, so that appends stream as multipart uploads and larger files are uploaded
  // in parts (some copied server-side).
  store_.SetMinPartSize(1024);
  const auto ttl = config.events ? std::chrono::nanoseconds(hours(1)) : seconds(60);
  const auto negative_ttl = config.events ? std::chrono::nanoseconds(hours(1)) : seconds(5);
  metadata_ = std::make_unique<MetadataCache>(
      MetadataCacheOptions{.positive_ttl = ttl, .negative_ttl = negative_ttl});
  FilesystemOptions options;
  options.stat_ttl = ttl;
  options.negative_ttl = negative_ttl;
  options.list_ttl = ttl;
  options.object_metadata = config.object_metadata;
  options.metadata_parallelism = 4;
  options.data_threads = 2;
  options.metadata_threads = 4;
  options.upload_threads = 2;
  options.part_size = 1024;
  options.staging_directory = staging_root_->File("staging");
  options.write_back = config.write_back;
  options.write_back_threads = 2;
  auto created = Filesystem::Create(store_, ticking_, *metadata_, blocks_, std::move(options));
  if (!created.ok()) {
    setup_error_ = created.error().ToString();
    return;
  }
  fs_ = std::move(created).value();
}

Runner::~Runner() {
  if (!fs_) return;
  for (int i = 0; i < kSlots; ++i) {
    if (slots_[i].open) (void)Close(i);
  }
  fs_.reset();
}

SlotState Runner::slots() const {
  SlotState state;
  for (int i = 0; i < kSlots; ++i) {
    state.open[i] = slots_[i].open;
    state.writable[i] = slots_[i].writable;
    state.size[i] = slots_[i].node ? slots_[i].node->content.size() : 0;
  }
  return state;
}

bool Runner::AnyOpen() const {
  for (const Slot& slot : slots_) {
    if (slot.open) return true;
  }
  return false;
}

void Runner::ForgetWalked() {
  for (InodeId inode : walked_) fs_->Forget(inode, 1);
  walked_.clear();
}

std::optional<std::string> Runner::Step(const Op& op) {
  clock_.Advance(std::chrono::milliseconds(1));  // time passes between system calls
  auto failure = Run(op);
  ForgetWalked();
  if (failure) return failure;
  if (auto tree = CheckTree()) return tree;
  if (!config_.write_back && !AnyOpen()) return CheckStore();
  return std::nullopt;
}

std::optional<std::string> Runner::Finish() {
  for (int i = 0; i < kSlots; ++i) {
    if (!slots_[i].open) continue;
    if (auto failure = Close(i)) return "closing slot " + std::to_string(i) + ": " + *failure;
  }
  fs_->DrainWriteBack();
  touched_.clear();
  if (auto tree = CheckTree()) return tree;
  return CheckStore();
}

std::optional<std::string> Runner::WalkTo(const std::string& path, Walk& walk) {
  walk = Walk{};
  InodeId inode = kRootInode;
  std::string walked;
  for (size_t start = 0; start <= path.size();) {
    const size_t slash = std::min(path.find('/', start), path.size());
    const std::string name = path.substr(start, slash - start);
    const std::string child = JoinPath(walked, name);
    auto entry = fs_->Lookup(inode, name);
    if (!entry.ok()) return "lookup of " + child + " failed: " + entry.error().ToString();
    if (entry->inode != 0) walked_.push_back(entry->inode);
    const ViewEntry expected = model_.Resolve(child);
    if (KindOf(*entry) != expected.kind) {
      return "lookup of " + child + ": expected " + KindName(expected.kind) + ", mount shows " +
             KindName(KindOf(*entry));
    }
    if (slash == path.size()) {
      walk.parent = inode;
      walk.inode = entry->inode;
      walk.view = expected;
      return std::nullopt;
    }
    if (expected.kind != ViewKind::kDirectory) return std::nullopt;  // ENOENT / ENOTDIR
    inode = entry->inode;
    walked = child;
    start = slash + 1;
  }
  return std::nullopt;
}

std::optional<std::string> Runner::Close(int slot_index) {
  Slot& slot = slots_[slot_index];
  if (!slot.open) return std::nullopt;
  Status flushed = fs_->Flush(slot.handle);
  fs_->Release(slot.handle);
  fs_->Forget(slot.inode, 1);
  if (config_.write_back) {
    if (auto path = model_.PathOf(slot.node.get())) touched_.insert(*path);
  }
  slot = Slot{};
  if (!flushed.ok()) return "close failed: " + flushed.error().ToString();
  return std::nullopt;
}

std::optional<std::string> Runner::Run(const Op& op) {
  switch (op.kind) {
    case OpKind::kCreate:
      return RunCreate(op);
    case OpKind::kOpen: {
      Walk walk;
      if (auto failure = WalkTo(op.path, walk)) return failure;
      // Missing (ENOENT), a directory (EISDIR) or a symlink (followed by the kernel, to a
      // target outside the test's names) is not opened.
      if (walk.view.kind != ViewKind::kFile) return std::nullopt;
      return RunOpen(op, walk, op.flag, op.flag2);
    }
    case OpKind::kWrite:
    case OpKind::kRead:
    case OpKind::kFtruncate:
    case OpKind::kFsync:
    case OpKind::kClose:
      return RunHandleOp(op);
    case OpKind::kTruncate:
    case OpKind::kChmod:
    case OpKind::kUtimens:
      return RunSetAttr(op);
    case OpKind::kSetXattr:
    case OpKind::kRemoveXattr:
      return RunXattr(op);
    case OpKind::kMkdir:
    case OpKind::kRmdir:
    case OpKind::kUnlink:
    case OpKind::kSymlink:
      return RunNamespace(op);
    case OpKind::kRename:
      return RunRename(op);
    case OpKind::kRemotePut:
    case OpKind::kRemoteDelete:
      return RunRemote(op);
    case OpKind::kAdvance:
      clock_.Advance(seconds(op.size));
      return std::nullopt;
    case OpKind::kDrain:
      fs_->DrainWriteBack();
      touched_.clear();
      if (!AnyOpen()) return CheckStore();
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> Runner::RunCreate(const Op& op) {
  Walk walk;
  if (auto failure = WalkTo(op.path, walk)) return failure;
  if (walk.parent == 0) return std::nullopt;  // ENOENT or ENOTDIR from the path walk
  if (walk.view.kind == ViewKind::kFile && !op.flag) {
    return RunOpen(op, walk, true, false);  // open(O_CREAT) of an existing file
  }
  if (walk.view.kind != ViewKind::kMissing) return std::nullopt;  // EEXIST, EISDIR
  if (slots_[op.slot].open) {
    if (auto failure = Close(op.slot)) return failure;
  }
  auto created = fs_->Create(walk.parent, BaseName(op.path), op.permissions, op.flag,
                             OpenFlags{.write = true}, kCaller);
  if (auto failure = ExpectResult(created, std::nullopt)) return "create: " + *failure;
  auto node = std::make_shared<ModelNode>(ModelNode{.permissions = op.permissions & ~kUmask});
  model_.Put(op.path, node);
  model_.EntriesChanged(ParentPath(op.path));
  if (config_.write_back) touched_.insert(op.path);
  slots_[op.slot] = Slot{.open = true,
                         .writable = true,
                         .inode = created->entry.inode,
                         .handle = created->file.handle,
                         .node = std::move(node)};
  return std::nullopt;
}

std::optional<std::string> Runner::RunOpen(const Op& op, const Walk& walk, bool write,
                                           bool truncate) {
  if (slots_[op.slot].open) {
    if (auto failure = Close(op.slot)) return failure;
  }
  auto opened = fs_->Open(walk.inode, OpenFlags{.write = write, .truncate = truncate});
  if (auto failure = ExpectResult(opened, std::nullopt)) return "open: " + *failure;
  // The handle keeps the walk's lookup reference on its inode until it is closed.
  walked_.pop_back();
  if (truncate) Resize(*walk.view.node, 0);
  if (config_.write_back && write) touched_.insert(op.path);
  slots_[op.slot] = Slot{.open = true,
                         .writable = write,
                         .inode = walk.inode,
                         .handle = opened->handle,
                         .node = walk.view.node};
  return std::nullopt;
}

std::optional<std::string> Runner::RunHandleOp(const Op& op) {
  Slot& slot = slots_[op.slot];
  if (!slot.open) return std::nullopt;  // a replay without the open: nothing to do
  ModelNode& node = *slot.node;
  switch (op.kind) {
    case OpKind::kWrite: {
      if (!slot.writable) return std::nullopt;
      auto written = fs_->Write(slot.handle, op.offset, op.data);
      if (auto failure = ExpectResult(written, std::nullopt)) return "write: " + *failure;
      if (*written != op.data.size()) {
        return "write: " + std::to_string(*written) + " of " + std::to_string(op.data.size()) +
               " bytes written";
      }
      if (node.content.size() < op.offset + op.data.size()) {
        node.content.resize(op.offset + op.data.size(), '\0');
      }
      node.content.replace(op.offset, op.data.size(), op.data);
      node.mtime.reset();
      return std::nullopt;
    }
    case OpKind::kRead: {
      auto slices = fs_->Read(slot.handle, op.offset, op.size);
      if (auto failure = ExpectResult(slices, std::nullopt)) return "read: " + *failure;
      std::string data;
      for (const auto& slice : *slices) {
        data.append(slice.block->data() + slice.offset, slice.length);
      }
      const std::string expected =
          op.offset >= node.content.size() ? "" : node.content.substr(op.offset, op.size);
      if (data != expected) {
        return "read gave " + std::to_string(data.size()) + " bytes, expected " +
               std::to_string(expected.size()) +
               (data.size() == expected.size() ? " (different bytes)" : "");
      }
      return std::nullopt;
    }
    case OpKind::kFtruncate: {
      if (!slot.writable) return std::nullopt;
      auto changed = fs_->SetAttr(slot.inode, AttributeChanges{.size = op.size}, slot.handle);
      if (auto failure = ExpectResult(changed, std::nullopt)) return "ftruncate: " + *failure;
      Resize(node, op.size);
      return std::nullopt;
    }
    case OpKind::kFsync: {
      Status synced = fs_->Fsync(slot.handle);
      if (auto failure = ExpectResult(synced, std::nullopt)) return "fsync: " + *failure;
      return std::nullopt;
    }
    default:
      return Close(op.slot);
  }
}

std::optional<std::string> Runner::RunSetAttr(const Op& op) {
  Walk walk;
  if (auto failure = WalkTo(op.path, walk)) return failure;
  // Missing is ENOENT; symlinks are followed by chmod, truncate and utimens (we do not).
  const ViewKind kind = walk.view.kind;
  if (kind == ViewKind::kMissing || kind == ViewKind::kSymlink) return std::nullopt;
  if (op.kind == OpKind::kTruncate && kind == ViewKind::kDirectory) return std::nullopt;
  AttributeChanges changes;
  if (op.kind == OpKind::kTruncate) changes.size = op.size;
  if (op.kind == OpKind::kChmod) changes.permissions = op.permissions;
  const WallTime mtime{std::chrono::duration_cast<WallTime::duration>(
      seconds(op.size) + std::chrono::nanoseconds(op.offset))};
  if (op.kind == OpKind::kUtimens) changes.mtime = mtime;
  auto changed = fs_->SetAttr(walk.inode, changes, std::nullopt);
  if (auto failure = ExpectResult(changed, std::nullopt)) return Describe(op) + ": " + *failure;
  NodePtr node = kind == ViewKind::kDirectory ? model_.MarkerOf(op.path) : walk.view.node;
  if (op.kind == OpKind::kTruncate) Resize(*node, op.size);
  if (op.kind == OpKind::kChmod) node->permissions = op.permissions;
  if (op.kind == OpKind::kUtimens) node->mtime = mtime;
  if (config_.write_back) touched_.insert(op.path);
  return std::nullopt;
}

std::optional<std::string> Runner::RunXattr(const Op& op) {
  Walk walk;
  if (auto failure = WalkTo(op.path, walk)) return failure;
  // The kernel refuses user.* attributes on symlinks itself.
  const ViewKind kind = walk.view.kind;
  if (kind == ViewKind::kMissing || kind == ViewKind::kSymlink) return std::nullopt;
  const bool exists = walk.view.node && walk.view.node->xattrs.contains(op.name);
  std::optional<ErrorCode> expected;
  Status changed = OkStatus();
  if (op.kind == OpKind::kSetXattr) {
    if (op.mode == 1 && exists) expected = ErrorCode::kAlreadyExists;
    if (op.mode == 2 && !exists) expected = ErrorCode::kNoData;
    const XattrMode modes[] = {XattrMode::kAny, XattrMode::kCreate, XattrMode::kReplace};
    changed = fs_->SetXattr(walk.inode, op.name, op.data, modes[op.mode]);
  } else {
    if (!exists) expected = ErrorCode::kNoData;
    changed = fs_->RemoveXattr(walk.inode, op.name);
  }
  if (auto failure = ExpectResult(changed, expected)) return Describe(op) + ": " + *failure;
  if (expected) return std::nullopt;
  NodePtr node = kind == ViewKind::kDirectory ? model_.MarkerOf(op.path) : walk.view.node;
  if (op.kind == OpKind::kSetXattr) {
    node->xattrs[op.name] = op.data;
  } else {
    node->xattrs.erase(op.name);
  }
  if (config_.write_back) touched_.insert(op.path);
  return std::nullopt;
}

std::optional<std::string> Runner::RunNamespace(const Op& op) {
  Walk walk;
  if (auto failure = WalkTo(op.path, walk)) return failure;
  if (walk.parent == 0) return std::nullopt;
  const ViewKind kind = walk.view.kind;
  const std::string name = BaseName(op.path);
  if (config_.write_back) touched_.insert(op.path);
  // Each operation below that succeeds changes the parent's entries.
  model_.EntriesChanged(ParentPath(op.path));
  switch (op.kind) {
    case OpKind::kMkdir: {
      if (kind != ViewKind::kMissing) return std::nullopt;  // EEXIST from the kernel
      auto made = fs_->MakeDirectory(walk.parent, name, op.permissions, kCaller);
      if (auto failure = ExpectResult(made, std::nullopt)) return "mkdir: " + *failure;
      walked_.push_back(made->inode);
      model_.MarkerOf(op.path)->permissions = op.permissions & ~kUmask;
      return std::nullopt;
    }
    case OpKind::kSymlink: {
      if (kind != ViewKind::kMissing) return std::nullopt;
      auto made = fs_->MakeSymlink(walk.parent, name, op.data, kCaller);
      if (auto failure = ExpectResult(made, std::nullopt)) return "symlink: " + *failure;
      walked_.push_back(made->inode);
      model_.Put(op.path, std::make_shared<ModelNode>(
                              ModelNode{.kind = ModelNode::Kind::kSymlink, .content = op.data}));
      return std::nullopt;
    }
    case OpKind::kRmdir: {
      if (kind != ViewKind::kDirectory) return std::nullopt;  // ENOENT, ENOTDIR
      const std::optional<ErrorCode> expected =
          model_.HasEntriesBelow(op.path) ? std::optional(ErrorCode::kNotEmpty) : std::nullopt;
      Status removed = fs_->RemoveDirectory(walk.parent, name);
      if (auto failure = ExpectResult(removed, expected)) return "rmdir: " + *failure;
      if (!expected) model_.Erase(op.path + "/");
      return std::nullopt;
    }
    default: {  // unlink
      if (kind != ViewKind::kFile && kind != ViewKind::kSymlink) return std::nullopt;
      Status removed = fs_->Unlink(walk.parent, name);
      if (auto failure = ExpectResult(removed, std::nullopt)) return "unlink: " + *failure;
      model_.Erase(op.path);
      // With write-back, an implicit directory whose last entry's DELETE is still queued shows
      // (and hides a file of its name) until the DELETE has run (SEMANTICS.md, "Write-back"):
      // the model waits for it.
      if (config_.write_back && model_.Resolve(ParentPath(op.path)).kind != ViewKind::kDirectory) {
        fs_->DrainWriteBack();
        touched_.clear();
      }
      return std::nullopt;
    }
  }
}

std::optional<std::string> Runner::RunRename(const Op& op) {
  Walk from;
  if (auto failure = WalkTo(op.path, from)) return failure;
  Walk to;
  if (auto failure = WalkTo(op.path2, to)) return failure;
  // What the kernel answers itself: ENOENT, the same name, EINVAL (into itself), ENOTEMPTY
  // (onto an ancestor), EEXIST (RENAME_NOREPLACE), ENOTDIR and EISDIR (kinds differ).
  if (from.view.kind == ViewKind::kMissing || to.parent == 0) return std::nullopt;
  if (op.path == op.path2 || IsBelow(op.path2, op.path) || IsBelow(op.path, op.path2)) {
    return std::nullopt;
  }
  const bool directory = from.view.kind == ViewKind::kDirectory;
  if (to.view.kind != ViewKind::kMissing) {
    if (op.flag) return std::nullopt;
    if (directory != (to.view.kind == ViewKind::kDirectory)) return std::nullopt;
  }
  if (config_.write_back) {
    touched_.insert(op.path);
    touched_.insert(op.path2);
  }
  const std::optional<ErrorCode> expected =
      to.view.kind == ViewKind::kDirectory && model_.HasEntriesBelow(op.path2)
          ? std::optional(ErrorCode::kNotEmpty)
          : std::nullopt;
  Status renamed = fs_->Rename(from.parent, BaseName(op.path), to.parent, BaseName(op.path2),
                               op.flag ? RenameMode::kNoReplace : RenameMode::kReplace);
  if (auto failure = ExpectResult(renamed, expected)) return "rename: " + *failure;
  if (expected) return std::nullopt;
  model_.EntriesChanged(ParentPath(op.path));
  model_.EntriesChanged(ParentPath(op.path2));
  if (directory) {
    model_.RenameDirectory(op.path, op.path2);
  } else {
    model_.RenameFile(op.path, op.path2);
  }
  return std::nullopt;
}

std::optional<std::string> Runner::RunRemote(const Op& op) {
  const bool marker = op.path.ends_with("/");
  const std::string path = marker ? op.path.substr(0, op.path.size() - 1) : op.path;
  // Not where this mount has a file open (or a path below it): what the mount shows then
  // depends on who writes last, which the model does not try to say.
  for (const Slot& slot : slots_) {
    if (!slot.open) continue;
    auto open_path = model_.PathOf(slot.node.get());
    if (open_path && (path == *open_path || IsBelow(path, *open_path))) return std::nullopt;
  }
  // With write-back, what is queued near the key reaches S3 first: on it, above or below it,
  // or below a directory above it (an implicit directory whose last entry's DELETE is queued
  // keeps showing until it has run: SEMANTICS.md, "Write-back"; the other client's change
  // may remove the other entries).
  for (const std::string& touched : touched_) {
    bool near = path == touched || IsBelow(path, touched) || IsBelow(touched, path);
    for (std::string above = ParentPath(path); !near && !above.empty(); above = ParentPath(above)) {
      near = IsBelow(touched, above);
    }
    if (near) {
      fs_->DrainWriteBack();
      touched_.clear();
      break;
    }
  }
  ObjectChange change{.bucket = "bucket", .key = op.path};
  if (op.kind == OpKind::kRemotePut) {
    auto put = store_.PutObject(PutObjectRequest{.key = op.path, .body = op.data});
    if (!put.ok()) return "the other client's PUT failed: " + put.error().ToString();
    model_.Put(op.path, std::make_shared<ModelNode>(ModelNode{
                            .kind = marker ? ModelNode::Kind::kMarker : ModelNode::Kind::kFile,
                            .content = op.data}));
    change.kind = ObjectChangeKind::kCreated;
    change.event_name = "ObjectCreated:Put";
    change.etag = put->etag;
    if (change.etag.size() >= 2 && change.etag.front() == '"') {
      change.etag = change.etag.substr(1, change.etag.size() - 2);
    }
  } else {
    Status deleted = store_.DeleteObject(op.path);
    if (!deleted.ok()) return "the other client's DELETE failed: " + deleted.error().ToString();
    model_.Erase(op.path);
    change.kind = ObjectChangeKind::kRemoved;
    change.event_name = "ObjectRemoved:Delete";
  }
  if (config_.events) {
    (void)fs_->ApplyRemoteChange(change);
  } else {
    clock_.Advance(seconds(61));  // past stat_ttl, negative_ttl and list_ttl
  }
  return std::nullopt;
}

}  // namespace s3mount::reference_model
