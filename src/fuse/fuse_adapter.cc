// FUSE low-level handlers: call the core, convert, reply once.
#include "fuse/fuse_adapter.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "s3mount/fs/errno_map.h"
#include "s3mount/fs/metadata_codec.h"

namespace s3mount {
namespace {

FuseContext& Context(fuse_req_t req) { return *static_cast<FuseContext*>(fuse_req_userdata(req)); }
Filesystem& Fs(fuse_req_t req) { return *Context(req).filesystem.load(); }

constexpr fuse_ino_t kUnknownInode = 0xffffffff;

double Seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

timespec ToTimespec(WallTime time) {
  const auto since = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since);
  return timespec{static_cast<time_t>(seconds.count()),
                  static_cast<long>(std::chrono::nanoseconds(since - seconds).count())};
}

struct stat ToStat(fuse_ino_t inode, const Attributes& attributes) {
  struct stat st = {};
  st.st_ino = inode;
  st.st_mode = TypeBitsOf(attributes.type) | (attributes.permissions & 07777);
  st.st_nlink = attributes.nlink;
  st.st_uid = attributes.uid;
  st.st_gid = attributes.gid;
  st.st_size = static_cast<off_t>(attributes.size);
  st.st_blksize = 1 << 20;
  st.st_blocks = static_cast<blkcnt_t>((attributes.size + 511) / 512);
  st.st_mtim = ToTimespec(attributes.mtime);
  st.st_ctim = ToTimespec(attributes.ctime);
  st.st_atim = ToTimespec(attributes.atime);
  return st;
}

fuse_entry_param ToEntryParam(const Entry& entry) {
  fuse_entry_param param = {};
  param.ino = entry.inode;
  param.generation = 1;
  param.entry_timeout = Seconds(entry.entry_timeout);
  param.attr_timeout = Seconds(entry.attr_timeout);
  if (entry.inode != 0) param.attr = ToStat(entry.inode, entry.attributes);
  return param;
}

Caller CallerOf(fuse_req_t req) {
  const fuse_ctx* context = fuse_req_ctx(req);
  // Without FUSE_CAP_DONT_MASK the kernel has already applied the umask to every mode.
  return Caller{context->uid, context->gid, 0};
}

OpenFlags OpenFlagsOf(const fuse_file_info* fi) {
  return OpenFlags{.write = (fi->flags & O_ACCMODE) != O_RDONLY,
                   .truncate = (fi->flags & O_TRUNC) != 0};
}

void ReplyError(fuse_req_t req, const char* operation, const Error& error) {
  const int code = ErrnoOf(error);
  if (code == ENOENT || code == ENODATA || code == EROFS) {
    spdlog::trace("{}: {}", operation, error.ToString());
  } else {
    spdlog::warn("{}: {} (errno {})", operation, error.ToString(), code);
  }
  fuse_reply_err(req, code);
}

// Runs a handler body; an exception becomes one error reply (bodies reply as their last act).
template <typename Body>
void Handle(fuse_req_t req, const char* operation, Body&& body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    spdlog::error("{}: out of memory", operation);
    fuse_reply_err(req, ENOMEM);
  } catch (const std::exception& e) {
    spdlog::error("{}: unexpected exception: {}", operation, e.what());
    fuse_reply_err(req, EIO);
  } catch (...) {
    spdlog::error("{}: unexpected exception", operation);
    fuse_reply_err(req, EIO);
  }
}

// A mountinfo field with its octal escapes (\040 for a space, ...) decoded.
std::string UnescapeMountField(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    const bool escape = field[i] == '\\' && i + 3 < field.size() &&
                        std::all_of(field.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                    field.begin() + static_cast<std::ptrdiff_t>(i) + 4,
                                    [](char c) { return c >= '0' && c <= '7'; });
    if (escape) {
      out.push_back(static_cast<char>(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) |
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

// The mount's device ("major:minor") from /proc/self/mountinfo: the last FUSE mount on
// `mountpoint` (ours: init runs right after the mount), or "" if none.
std::string MountDevice(const std::string& mountpoint) {
  // Only the parent is resolved: touching the mountpoint itself before init is answered
  // would wait for this very init.
  std::error_code error;
  std::filesystem::path wanted = std::filesystem::absolute(mountpoint, error).lexically_normal();
  if (error) return "";
  if (!wanted.has_filename()) wanted = wanted.parent_path();
  const auto resolved = std::filesystem::weakly_canonical(wanted.parent_path(), error);
  if (error) return "";
  const std::string path = (resolved / wanted.filename()).string();
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  std::string device;
  while (std::getline(mountinfo, line)) {
    // id parent major:minor root mountpoint options... - fstype source super-options
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 4, "fuse") != 0) continue;
    if (UnescapeMountField(point) == path) device = dev;
  }
  return device;
}

// Linux caps a FUSE mount's readahead at its device's read_ahead_kb, 128 KiB unless changed,
// whatever max_readahead says: a sequential reader's requests then come 128 KiB at a time.
// Raising it (root only; otherwise the default stays) before the kernel applies init's
// max_readahead lets them come max_io at a time: 8x fewer requests for the same bytes.
void RaiseKernelReadahead(const std::string& mountpoint, size_t bytes) {
  if (mountpoint.empty()) return;
  const std::string device = MountDevice(mountpoint);
  if (device.empty()) {
    spdlog::debug("kernel readahead: no FUSE mount found on '{}'", mountpoint);
    return;
  }
  const std::string knob = "/sys/class/bdi/" + device + "/read_ahead_kb";
  std::ofstream out(knob);
  out << bytes / 1024 << std::flush;
  if (!out) {
    spdlog::debug("kernel readahead: cannot write {} (not root?); it stays at the default", knob);
    return;
  }
  spdlog::debug("kernel readahead: {} set to {} KiB", knob, bytes / 1024);
}

void Init(void* userdata, fuse_conn_info* conn) {
  auto& context = *static_cast<FuseContext*>(userdata);
  RaiseKernelReadahead(context.mountpoint, context.max_io);
  conn->max_write = static_cast<unsigned>(context.max_io);
  conn->max_readahead = static_cast<unsigned>(context.max_io);
  if ((conn->capable & FUSE_CAP_ASYNC_READ) != 0) conn->want |= FUSE_CAP_ASYNC_READ;
  if ((conn->capable & FUSE_CAP_READDIRPLUS) != 0) conn->want |= FUSE_CAP_READDIRPLUS;
  // O_TRUNC arrives with open (one request, and the truncate is known to be this handle's).
  if ((conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Handle(req, "lookup", [&] {
    auto entry = Fs(req).Lookup(parent, name);
    if (!entry.ok()) return ReplyError(req, "lookup", entry.error());
    const fuse_entry_param param = ToEntryParam(*entry);
    fuse_reply_entry(req, &param);
  });
}

void Forget(fuse_req_t req, fuse_ino_t inode, uint64_t count) {
  Fs(req).Forget(inode, count);
  fuse_reply_none(req);
}

void ForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) Fs(req).Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void GetAttr(fuse_req_t req, fuse_ino_t inode, fuse_file_info* /*fi*/) {
  Handle(req, "getattr", [&] {
    auto entry = Fs(req).GetAttr(inode);
    if (!entry.ok()) return ReplyError(req, "getattr", entry.error());
    const struct stat st = ToStat(inode, entry->attributes);
    fuse_reply_attr(req, &st, Seconds(entry->attr_timeout));
  });
}

void ReadLink(fuse_req_t req, fuse_ino_t inode) {
  Handle(req, "readlink", [&] {
    auto target = Fs(req).ReadLink(inode);
    if (!target.ok()) return ReplyError(req, "readlink", target.error());
    fuse_reply_readlink(req, target->c_str());
  });
}

void OpenDir(fuse_req_t req, fuse_ino_t inode, fuse_file_info* fi) {
  Handle(req, "opendir", [&] {
    auto handle = Fs(req).OpenDir(inode);
    if (!handle.ok()) return ReplyError(req, "opendir", handle.error());
    fi->fh = *handle;
    fuse_reply_open(req, fi);
  });
}

void ReadDirCommon(fuse_req_t req, size_t size, off_t offset, fuse_file_info* fi, bool plus) {
  const char* operation = plus ? "readdirplus" : "readdir";
  Handle(req, operation, [&] {
    std::vector<char> buffer(size);
    size_t used = 0;
    Status status = Fs(req).ReadDir(
        fi->fh, static_cast<uint64_t>(offset), plus, [&](const DirectoryEntry& entry) {
          const off_t next = static_cast<off_t>(entry.next_offset);
          size_t needed = 0;
          if (plus) {
            const fuse_entry_param param = ToEntryParam(entry.entry);
            needed = fuse_add_direntry_plus(req, buffer.data() + used, size - used,
                                            entry.name.c_str(), &param, next);
          } else {
            struct stat st = {};
            // glibc's readdir skips entries whose d_ino is 0: plain readdir takes no lookup
            // reference, so it reports "unknown" as libfuse's high-level API does.
            st.st_ino = entry.entry.inode != 0 ? entry.entry.inode : kUnknownInode;
            st.st_mode = TypeBitsOf(entry.entry.attributes.type);
            needed = fuse_add_direntry(req, buffer.data() + used, size - used, entry.name.c_str(),
                                       &st, next);
          }
          if (needed > size - used) return false;
          used += needed;
          return true;
        });
    spdlog::trace("{}: offset {} size {} -> {} bytes", operation, offset, size, used);
    // Entries already placed must be delivered even if a later page failed.
    if (!status.ok() && used == 0) return ReplyError(req, operation, status.error());
    fuse_reply_buf(req, buffer.data(), used);
  });
}

void ReadDir(fuse_req_t req, fuse_ino_t /*inode*/, size_t size, off_t offset, fuse_file_info* fi) {
  ReadDirCommon(req, size, offset, fi, false);
}

void ReadDirPlus(fuse_req_t req, fuse_ino_t /*inode*/, size_t size, off_t offset,
                 fuse_file_info* fi) {
  ReadDirCommon(req, size, offset, fi, true);
}

void ReleaseDir(fuse_req_t req, fuse_ino_t /*inode*/, fuse_file_info* fi) {
  Fs(req).ReleaseDir(fi->fh);
  fuse_reply_err(req, 0);
}

void Open(fuse_req_t req, fuse_ino_t inode, fuse_file_info* fi) {
  Handle(req, "open", [&] {
    auto opened = Fs(req).Open(inode, OpenFlagsOf(fi));
    if (!opened.ok()) return ReplyError(req, "open", opened.error());
    fi->fh = opened->handle;
    fi->keep_cache = opened->keep_cache ? 1 : 0;
    fuse_reply_open(req, fi);
  });
}

void Read(fuse_req_t req, fuse_ino_t /*inode*/, size_t size, off_t offset, fuse_file_info* fi) {
  Handle(req, "read", [&] {
    const Clock* clock = Context(req).clock;
    const bool timed = clock != nullptr && spdlog::should_log(spdlog::level::trace);
    const MonoTime start = timed ? clock->Monotonic() : MonoTime{};
    auto slices = Fs(req).Read(fi->fh, static_cast<uint64_t>(offset), size);
    if (!slices.ok()) return ReplyError(req, "read", slices.error());
    if (timed) {
      spdlog::trace(
          "read: fh {} offset {} size {} in {} us", fi->fh, offset, size,
          std::chrono::duration_cast<std::chrono::microseconds>(clock->Monotonic() - start)
              .count());
    }
    std::vector<iovec> pieces;
    pieces.reserve(slices->size());
    for (const DataSlice& slice : *slices) {
      // fuse_reply_iov only reads through these pointers; the slices keep the blocks alive.
      pieces.push_back({const_cast<char*>(slice.block->data() + slice.offset),  // NOLINT
                        slice.length});
    }
    fuse_reply_iov(req, pieces.data(), static_cast<int>(pieces.size()));
  });
}

void Release(fuse_req_t req, fuse_ino_t /*inode*/, fuse_file_info* fi) {
  Fs(req).Release(fi->fh);
  fuse_reply_err(req, 0);
}

void StatFs(fuse_req_t req, fuse_ino_t /*inode*/) {
  const FilesystemStats stats = Fs(req).StatFs();
  struct statvfs st = {};
  st.f_bsize = stats.block_size;
  st.f_frsize = stats.block_size;
  st.f_blocks = stats.blocks;
  st.f_bfree = stats.blocks_free;
  st.f_bavail = stats.blocks_free;
  st.f_files = stats.files;
  st.f_ffree = stats.files_free;
  st.f_favail = stats.files_free;
  st.f_namemax = stats.name_max;
  fuse_reply_statfs(req, &st);
}

void ReplySized(fuse_req_t req, const std::string& data, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, data.size());
  } else if (data.size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, data.data(), data.size());
  }
}

void GetXattr(fuse_req_t req, fuse_ino_t inode, const char* name, size_t size) {
  Handle(req, "getxattr", [&] {
    auto value = Fs(req).GetXattr(inode, name);
    if (!value.ok()) return ReplyError(req, "getxattr", value.error());
    ReplySized(req, *value, size);
  });
}

void ListXattr(fuse_req_t req, fuse_ino_t inode, size_t size) {
  Handle(req, "listxattr", [&] {
    auto names = Fs(req).ListXattr(inode);
    if (!names.ok()) return ReplyError(req, "listxattr", names.error());
    std::string list;
    for (const auto& name : *names) list.append(name).push_back('\0');
    ReplySized(req, list, size);
  });
}

void ReplyEntry(fuse_req_t req, const char* operation, const Result<Entry>& entry) {
  if (!entry.ok()) return ReplyError(req, operation, entry.error());
  const fuse_entry_param param = ToEntryParam(*entry);
  if (fuse_reply_entry(req, &param) != 0) Fs(req).Forget(entry->inode, 1);  // not delivered
}

void ReplyStatus(fuse_req_t req, const char* operation, const Status& status) {
  if (!status.ok()) return ReplyError(req, operation, status.error());
  fuse_reply_err(req, 0);
}

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  Handle(req, "create", [&] {
    auto created = Fs(req).Create(parent, name, mode & 07777, (fi->flags & O_EXCL) != 0,
                                  OpenFlagsOf(fi), CallerOf(req));
    if (!created.ok()) return ReplyError(req, "create", created.error());
    fi->fh = created->file.handle;
    const fuse_entry_param param = ToEntryParam(created->entry);
    if (fuse_reply_create(req, &param, fi) != 0) {
      Fs(req).Release(created->file.handle);
      Fs(req).Forget(created->entry.inode, 1);
    }
  });
}

void MakeDirectory(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Handle(req, "mkdir", [&] {
    ReplyEntry(req, "mkdir", Fs(req).MakeDirectory(parent, name, mode & 07777, CallerOf(req)));
  });
}

void MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t /*rdev*/) {
  Handle(req, "mknod", [&] {
    std::optional<FileType> type;
    if (S_ISREG(mode)) type = FileType::kRegular;
    if (S_ISFIFO(mode)) type = FileType::kFifo;
    if (S_ISSOCK(mode)) type = FileType::kSocket;
    if (!type) {
      return ReplyError(req, "mknod",
                        MakeError(ErrorCode::kNotPermitted, "device files cannot be stored in S3"));
    }
    ReplyEntry(req, "mknod", Fs(req).MakeNode(parent, name, *type, mode & 07777, CallerOf(req)));
  });
}

void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  Handle(req, "symlink", [&] {
    ReplyEntry(req, "symlink", Fs(req).MakeSymlink(parent, name, target, CallerOf(req)));
  });
}

void Link(fuse_req_t req, fuse_ino_t inode, fuse_ino_t parent, const char* name) {
  Handle(req, "link", [&] { ReplyEntry(req, "link", Fs(req).Link(inode, parent, name)); });
}

void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Handle(req, "unlink", [&] { ReplyStatus(req, "unlink", Fs(req).Unlink(parent, name)); });
}

void RemoveDirectory(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Handle(req, "rmdir", [&] { ReplyStatus(req, "rmdir", Fs(req).RemoveDirectory(parent, name)); });
}

void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
            const char* new_name, unsigned int flags) {
  Handle(req, "rename", [&] {
    RenameMode mode = RenameMode::kReplace;
    if ((flags & RENAME_NOREPLACE) != 0) mode = RenameMode::kNoReplace;
    if ((flags & RENAME_EXCHANGE) != 0) mode = RenameMode::kExchange;
    ReplyStatus(req, "rename", Fs(req).Rename(parent, name, new_parent, new_name, mode));
  });
}

WallTime FromTimespec(const timespec& time) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(time.tv_sec) + std::chrono::nanoseconds(time.tv_nsec)));
}

void SetAttr(fuse_req_t req, fuse_ino_t inode, struct stat* attr, int to_set, fuse_file_info* fi) {
  Handle(req, "setattr", [&] {
    AttributeChanges changes;
    if ((to_set & FUSE_SET_ATTR_MODE) != 0) changes.permissions = attr->st_mode & 07777;
    if ((to_set & FUSE_SET_ATTR_UID) != 0) changes.uid = attr->st_uid;
    if ((to_set & FUSE_SET_ATTR_GID) != 0) changes.gid = attr->st_gid;
    if ((to_set & FUSE_SET_ATTR_SIZE) != 0) changes.size = static_cast<uint64_t>(attr->st_size);
    if ((to_set & FUSE_SET_ATTR_MTIME) != 0) changes.mtime = FromTimespec(attr->st_mtim);
    if ((to_set & FUSE_SET_ATTR_ATIME) != 0) changes.atime = FromTimespec(attr->st_atim);
    changes.mtime_now = (to_set & FUSE_SET_ATTR_MTIME_NOW) != 0;
    changes.atime_now = (to_set & FUSE_SET_ATTR_ATIME_NOW) != 0;
    std::optional<uint64_t> handle;
    if (fi != nullptr) handle = fi->fh;
    auto entry = Fs(req).SetAttr(inode, changes, handle);
    if (!entry.ok()) return ReplyError(req, "setattr", entry.error());
    const struct stat st = ToStat(inode, entry->attributes);
    fuse_reply_attr(req, &st, Seconds(entry->attr_timeout));
  });
}

void Write(fuse_req_t req, fuse_ino_t /*inode*/, const char* buffer, size_t size, off_t offset,
           fuse_file_info* fi) {
  Handle(req, "write", [&] {
    auto written =
        Fs(req).Write(fi->fh, static_cast<uint64_t>(offset), std::string_view(buffer, size));
    if (!written.ok()) return ReplyError(req, "write", written.error());
    fuse_reply_write(req, *written);
  });
}

void Flush(fuse_req_t req, fuse_ino_t /*inode*/, fuse_file_info* fi) {
  Handle(req, "flush", [&] { ReplyStatus(req, "flush", Fs(req).Flush(fi->fh)); });
}

void Fsync(fuse_req_t req, fuse_ino_t /*inode*/, int /*datasync*/, fuse_file_info* fi) {
  Handle(req, "fsync", [&] { ReplyStatus(req, "fsync", Fs(req).Fsync(fi->fh)); });
}

void SetXattr(fuse_req_t req, fuse_ino_t inode, const char* name, const char* value, size_t size,
              int flags) {
  Handle(req, "setxattr", [&] {
    XattrMode mode = XattrMode::kAny;
    if ((flags & XATTR_CREATE) != 0) mode = XattrMode::kCreate;
    if ((flags & XATTR_REPLACE) != 0) mode = XattrMode::kReplace;
    ReplyStatus(req, "setxattr",
                Fs(req).SetXattr(inode, name, std::string_view(value, size), mode));
  });
}

void RemoveXattr(fuse_req_t req, fuse_ino_t inode, const char* name) {
  Handle(req, "removexattr",
         [&] { ReplyStatus(req, "removexattr", Fs(req).RemoveXattr(inode, name)); });
}

fuse_lowlevel_ops MakeOperations() {
  fuse_lowlevel_ops ops = {};
  ops.init = Init;
  ops.lookup = Lookup;
  ops.forget = Forget;
  ops.forget_multi = ForgetMulti;
  ops.getattr = GetAttr;
  ops.readlink = ReadLink;
  ops.opendir = OpenDir;
  ops.readdir = ReadDir;
  ops.readdirplus = ReadDirPlus;
  ops.releasedir = ReleaseDir;
  ops.open = Open;
  ops.read = Read;
  ops.release = Release;
  ops.statfs = StatFs;
  ops.getxattr = GetXattr;
  ops.listxattr = ListXattr;
  ops.setattr = SetAttr;
  ops.mknod = MakeNode;
  ops.mkdir = MakeDirectory;
  ops.unlink = Unlink;
  ops.rmdir = RemoveDirectory;
  ops.symlink = Symlink;
  ops.rename = Rename;
  ops.link = Link;
  ops.create = Create;
  ops.write = Write;
  ops.flush = Flush;
  ops.fsync = Fsync;
  ops.setxattr = SetXattr;
  ops.removexattr = RemoveXattr;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& FuseOperations() {
  static const fuse_lowlevel_ops ops = MakeOperations();
  return ops;
}

}  // namespace s3mount
