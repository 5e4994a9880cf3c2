// FUSE low-level handlers: call the core, convert, reply once.
#include "fuse/fuse_adapter.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fuse/handler_shape.h"
#include "fuse/kernel_readahead.h"
#include "fuse/write_buffer_pages.h"
#include "s3mount/fs/metadata_codec.h"

namespace s3mount {
namespace {

FuseContext& Context(fuse_req_t req) { return *static_cast<FuseContext*>(fuse_req_userdata(req)); }

constexpr fuse_ino_t kUnknownInode = 0xffffffff;
constexpr unsigned kKernelMaxBackground = 12;  // the kernel's default max_background
// Fewer bytes than any readdirplus entry takes in a reply (its fuse_entry_out alone is 128).
constexpr size_t kMinEntryPlusBytes = 128;

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
  st.st_rdev = static_cast<dev_t>(attributes.rdev);
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

// One request, the libfuse side of the handler shape (handler_shape.h): its one reply goes
// out through Reply, ReplyOk, ReplyNone or ReplyError.
class Request {
 public:
  static constexpr bool kNoReply = false;  // forget, forget_multi: fuse_reply_none only
  Request(fuse_req_t req, bool takes_reply) : req_(req), takes_reply_(takes_reply) {}

  Filesystem& fs() const { return *Context(req_).filesystem.load(); }
  fuse_req_t get() const { return req_; }
  bool replied() const { return replied_; }
  // Sends the reply `send(req)` makes (one fuse_reply_* call) and returns its result: 0 when
  // the kernel got it.
  template <typename Send>
  int Reply(Send&& send) {
    replied_ = true;  // first: whatever happens next, no second reply
    return send(req_);
  }
  void ReplyError(int code) {
    replied_ = true;
    if (takes_reply_) {
      fuse_reply_err(req_, code);
    } else {
      fuse_reply_none(req_);
    }
  }
  Status ReplyOk() {
    ReplyError(0);
    return OkStatus();
  }
  Status ReplyNone() {
    replied_ = true;
    fuse_reply_none(req_);
    return OkStatus();
  }

 private:
  fuse_req_t req_;
  bool takes_reply_;
  bool replied_ = false;
};

// Every handler: `body(request)` calls the Filesystem and replies, or returns the Error.
template <typename Body>
void Serve(fuse_req_t req, const char* operation, Body&& body, bool takes_reply = true) noexcept {
  Request request(req, takes_reply);
  ServeRequest(request, operation, [&] { return body(request); });
}

// An entry reply that hands the entry's lookup reference (in `handover`) to the kernel.
Status ReplyEntry(Request& r, Handover& handover, const Entry& entry) {
  handover.Add(entry.inode);
  const fuse_entry_param param = ToEntryParam(entry);
  handover.Settle(r.Reply([&](fuse_req_t q) { return fuse_reply_entry(q, &param); }));
  return OkStatus();
}

Status ReplyAttr(Request& r, fuse_ino_t inode, const Entry& entry) {
  const struct stat st = ToStat(inode, entry.attributes);
  r.Reply([&](fuse_req_t q) { return fuse_reply_attr(q, &st, Seconds(entry.attr_timeout)); });
  return OkStatus();
}

void Init(void* userdata, fuse_conn_info* conn) {
  auto& context = *static_cast<FuseContext*>(userdata);
  try {
    RaiseKernelReadahead(context.mountpoint, context.max_io);
  } catch (const std::exception& e) {  // no exception may reach libfuse
    LogHandlerException("init: kernel readahead", e.what());
  }
  conn->max_write = static_cast<unsigned>(context.max_io);
  conn->max_readahead = static_cast<unsigned>(context.max_io);
  if ((conn->capable & FUSE_CAP_ASYNC_READ) != 0) conn->want |= FUSE_CAP_ASYNC_READ;
  // Asynchronous reads are background requests, of which the kernel sends at most
  // max_background at once: 64 readers on 64 workers need it at 64, not 12.
  conn->max_background =
      std::max({conn->max_background, kKernelMaxBackground, context.max_background});
  if ((conn->capable & FUSE_CAP_READDIRPLUS) != 0) conn->want |= FUSE_CAP_READDIRPLUS;
  // O_TRUNC arrives with open (one request, and the truncate is known to be this handle's).
  if ((conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Serve(req, "lookup", [&](Request& r) -> Status {
    Handover handover(r.fs(), 1);
    auto entry = r.fs().Lookup(parent, name);
    if (!entry.ok()) return entry.error();
    return ReplyEntry(r, handover, *entry);
  });
}

void Forget(fuse_req_t req, fuse_ino_t inode, uint64_t count) {
  Serve(
      req, "forget",
      [&](Request& r) -> Status {
        r.fs().Forget(inode, count);
        return r.ReplyNone();
      },
      Request::kNoReply);
}

void ForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Serve(
      req, "forget_multi",
      [&](Request& r) -> Status {
        for (size_t i = 0; i < count; ++i) r.fs().Forget(forgets[i].ino, forgets[i].nlookup);
        return r.ReplyNone();
      },
      Request::kNoReply);
}

void GetAttr(fuse_req_t req, fuse_ino_t inode, fuse_file_info* /*fi*/) {
  Serve(req, "getattr", [&](Request& r) -> Status {
    auto entry = r.fs().GetAttr(inode);
    if (!entry.ok()) return entry.error();
    return ReplyAttr(r, inode, *entry);
  });
}

void ReadLink(fuse_req_t req, fuse_ino_t inode) {
  Serve(req, "readlink", [&](Request& r) -> Status {
    auto target = r.fs().ReadLink(inode);
    if (!target.ok()) return target.error();
    r.Reply([&](fuse_req_t q) { return fuse_reply_readlink(q, target->c_str()); });
    return OkStatus();
  });
}

void OpenDir(fuse_req_t req, fuse_ino_t inode, fuse_file_info* fi) {
  Serve(req, "opendir", [&](Request& r) -> Status {
    auto handle = r.fs().OpenDir(inode);
    if (!handle.ok()) return handle.error();
    fi->fh = *handle;
    r.Reply([&](fuse_req_t q) { return fuse_reply_open(q, fi); });
    return OkStatus();
  });
}

// The most entries a readdir reply of `size` bytes can hold (each takes at least a header and
// an 8-byte-aligned name): the Handover's capacity, reserved before any is produced.
size_t MaxEntries(size_t size) { return size / kMinEntryPlusBytes + 1; }

void ReadDirCommon(fuse_req_t req, size_t size, off_t offset, fuse_file_info* fi, bool plus) {
  const char* operation = plus ? "readdirplus" : "readdir";
  Serve(req, operation, [&](Request& r) -> Status {
    std::vector<char> buffer(size);
    // readdirplus entries carry lookup references, the kernel's only once the reply is in.
    Handover handover(r.fs(), plus ? MaxEntries(size) : 0);
    size_t used = 0;
    Status status = r.fs().ReadDir(
        fi->fh, static_cast<uint64_t>(offset), plus, [&](const DirectoryEntry& entry) {
          const off_t next = static_cast<off_t>(entry.next_offset);
          size_t needed = 0;
          if (plus) {
            if (handover.full()) return false;  // not taken: the Filesystem gives it back
            const fuse_entry_param param = ToEntryParam(entry.entry);
            needed = fuse_add_direntry_plus(r.get(), buffer.data() + used, size - used,
                                            entry.name.c_str(), &param, next);
          } else {
            struct stat st = {};
            // glibc's readdir skips entries whose d_ino is 0: plain readdir takes no lookup
            // reference, so it reports "unknown" as libfuse's high-level API does.
            st.st_ino = entry.entry.inode != 0 ? entry.entry.inode : kUnknownInode;
            st.st_mode = entry.type_unknown ? 0 : TypeBitsOf(entry.entry.attributes.type);
            needed = fuse_add_direntry(r.get(), buffer.data() + used, size - used,
                                       entry.name.c_str(), &st, next);
          }
          if (needed > size - used) return false;
          used += needed;
          if (plus) handover.Add(entry);
          return true;
        });
    spdlog::trace("{}: offset {} size {} -> {} bytes", operation, offset, size, used);
    // Entries already placed must be delivered even if a later page failed.
    if (!status.ok() && used == 0) return status;
    handover.Settle(r.Reply([&](fuse_req_t q) { return fuse_reply_buf(q, buffer.data(), used); }));
    return OkStatus();
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
  Serve(req, "releasedir", [&](Request& r) -> Status {
    r.fs().ReleaseDir(fi->fh);
    return r.ReplyOk();
  });
}

void Open(fuse_req_t req, fuse_ino_t inode, fuse_file_info* fi) {
  Serve(req, "open", [&](Request& r) -> Status {
    auto opened = r.fs().Open(inode, OpenFlagsOf(fi));
    if (!opened.ok()) return opened.error();
    fi->fh = opened->handle;
    fi->keep_cache = opened->keep_cache ? 1 : 0;
    r.Reply([&](fuse_req_t q) { return fuse_reply_open(q, fi); });
    return OkStatus();
  });
}

void Read(fuse_req_t req, fuse_ino_t inode, size_t size, off_t offset, fuse_file_info* fi) {
  Serve(req, "read", [&](Request& r) -> Status {
    const Clock* clock = Context(req).clock;
    const bool timed = clock != nullptr && spdlog::should_log(spdlog::level::trace);
    const MonoTime start = timed ? clock->Monotonic() : MonoTime{};
    ReadEffects effects;
    auto slices = r.fs().Read(fi->fh, static_cast<uint64_t>(offset), size, &effects);
    if (!slices.ok()) return slices.error();
    if (effects.kernel_attributes_stale && Context(req).session != nullptr) {
      // Attributes only (offset -1): no page is touched, so this cannot wait for the pages
      // this very read fills. The reader's next read past the old size asks for the new one.
      fuse_lowlevel_notify_inval_inode(Context(req).session, inode, -1, 0);
    }
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
    r.Reply([&](fuse_req_t q) {
      return fuse_reply_iov(q, pieces.data(), static_cast<int>(pieces.size()));
    });
    return OkStatus();
  });
}

void Release(fuse_req_t req, fuse_ino_t /*inode*/, fuse_file_info* fi) {
  Serve(req, "release", [&](Request& r) -> Status {
    r.fs().Release(fi->fh);
    return r.ReplyOk();
  });
}

void StatFs(fuse_req_t req, fuse_ino_t /*inode*/) {
  Serve(req, "statfs", [&](Request& r) -> Status {
    const FilesystemStats stats = r.fs().StatFs();
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
    r.Reply([&](fuse_req_t q) { return fuse_reply_statfs(q, &st); });
    return OkStatus();
  });
}

// getxattr/listxattr: the size asked for (0), the data, or ERANGE when it does not fit.
Status ReplySized(Request& r, const std::string& data, size_t size) {
  if (size != 0 && data.size() > size) {
    r.ReplyError(ERANGE);  // an answer, not a failure: not logged
  } else if (size == 0) {
    r.Reply([&](fuse_req_t q) { return fuse_reply_xattr(q, data.size()); });
  } else {
    r.Reply([&](fuse_req_t q) { return fuse_reply_buf(q, data.data(), data.size()); });
  }
  return OkStatus();
}

void GetXattr(fuse_req_t req, fuse_ino_t inode, const char* name, size_t size) {
  Serve(req, "getxattr", [&](Request& r) -> Status {
    auto value = r.fs().GetXattr(inode, name);
    if (!value.ok()) return value.error();
    return ReplySized(r, *value, size);
  });
}

void ListXattr(fuse_req_t req, fuse_ino_t inode, size_t size) {
  Serve(req, "listxattr", [&](Request& r) -> Status {
    auto names = r.fs().ListXattr(inode);
    if (!names.ok()) return names.error();
    std::string list;
    for (const auto& name : *names) list.append(name).push_back('\0');
    return ReplySized(r, list, size);
  });
}

// The handlers of namespace changes that reply with the new entry (mkdir, mknod, symlink,
// link): `call` makes the change and takes the entry's lookup reference.
template <typename Call>
void ServeEntry(fuse_req_t req, const char* operation, Call&& call) {
  Serve(req, operation, [&](Request& r) -> Status {
    Handover handover(r.fs(), 1);
    Result<Entry> entry = call(r);
    if (!entry.ok()) return entry.error();
    return ReplyEntry(r, handover, *entry);
  });
}

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  Serve(req, "create", [&](Request& r) -> Status {
    Handover handover(r.fs(), 1);
    auto created = r.fs().Create(parent, name, mode & 07777, (fi->flags & O_EXCL) != 0,
                                 OpenFlagsOf(fi), CallerOf(r.get()));
    if (!created.ok()) return created.error();
    handover.AddHandle(created->file.handle);
    handover.Add(created->entry.inode);
    fi->fh = created->file.handle;
    const fuse_entry_param param = ToEntryParam(created->entry);
    handover.Settle(r.Reply([&](fuse_req_t q) { return fuse_reply_create(q, &param, fi); }));
    return OkStatus();
  });
}

void MakeDirectory(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  ServeEntry(req, "mkdir", [&](Request& r) {
    return r.fs().MakeDirectory(parent, name, mode & 07777, CallerOf(r.get()));
  });
}

void MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  ServeEntry(req, "mknod", [&](Request& r) -> Result<Entry> {
    std::optional<FileType> type;
    if (S_ISREG(mode)) type = FileType::kRegular;
    if (S_ISFIFO(mode)) type = FileType::kFifo;
    if (S_ISSOCK(mode)) type = FileType::kSocket;
    if (S_ISCHR(mode)) type = FileType::kCharDevice;
    if (S_ISBLK(mode)) type = FileType::kBlockDevice;
    if (!type) return MakeError(ErrorCode::kInvalidArgument, "mknod of an unknown file type");
    return r.fs().MakeNode(parent, name, *type, mode & 07777, CallerOf(r.get()), rdev);
  });
}

void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  ServeEntry(req, "symlink", [&](Request& r) {
    return r.fs().MakeSymlink(parent, name, target, CallerOf(r.get()));
  });
}

void Link(fuse_req_t req, fuse_ino_t inode, fuse_ino_t parent, const char* name) {
  ServeEntry(req, "link", [&](Request& r) { return r.fs().Link(inode, parent, name); });
}

// The handlers whose reply is only "done" (or the error).
template <typename Call>
void ServeStatus(fuse_req_t req, const char* operation, Call&& call) {
  Serve(req, operation, [&](Request& r) -> Status {
    S3M_RETURN_IF_ERROR(call(r));
    return r.ReplyOk();
  });
}

void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ServeStatus(req, "unlink", [&](Request& r) { return r.fs().Unlink(parent, name); });
}

void RemoveDirectory(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ServeStatus(req, "rmdir", [&](Request& r) { return r.fs().RemoveDirectory(parent, name); });
}

void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
            const char* new_name, unsigned int flags) {
  ServeStatus(req, "rename", [&](Request& r) {
    RenameMode mode = RenameMode::kReplace;
    if ((flags & RENAME_NOREPLACE) != 0) mode = RenameMode::kNoReplace;
    if ((flags & RENAME_EXCHANGE) != 0) mode = RenameMode::kExchange;
    return r.fs().Rename(parent, name, new_parent, new_name, mode);
  });
}

WallTime FromTimespec(const timespec& time) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(time.tv_sec) + std::chrono::nanoseconds(time.tv_nsec)));
}

void SetAttr(fuse_req_t req, fuse_ino_t inode, struct stat* attr, int to_set, fuse_file_info* fi) {
  Serve(req, "setattr", [&](Request& r) -> Status {
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
    auto entry = r.fs().SetAttr(inode, changes, handle);
    if (!entry.ok()) return entry.error();
    return ReplyAttr(r, inode, *entry);
  });
}

void Write(fuse_req_t req, fuse_ino_t /*inode*/, const char* buffer, size_t size, off_t offset,
           fuse_file_info* fi) {
  Serve(req, "write", [&](Request& r) -> Status {
    auto written =
        r.fs().Write(fi->fh, static_cast<uint64_t>(offset), std::string_view(buffer, size));
    if (!written.ok()) return written.error();
    r.Reply([&](fuse_req_t q) { return fuse_reply_write(q, *written); });
    return OkStatus();
  });
  AfterWriteCopied(buffer, size);
}

void Flush(fuse_req_t req, fuse_ino_t /*inode*/, fuse_file_info* fi) {
  ServeStatus(req, "flush", [&](Request& r) { return r.fs().Flush(fi->fh); });
}

void Fsync(fuse_req_t req, fuse_ino_t /*inode*/, int /*datasync*/, fuse_file_info* fi) {
  ServeStatus(req, "fsync", [&](Request& r) { return r.fs().Fsync(fi->fh); });
}

void SetXattr(fuse_req_t req, fuse_ino_t inode, const char* name, const char* value, size_t size,
              int flags) {
  ServeStatus(req, "setxattr", [&](Request& r) {
    XattrMode mode = XattrMode::kAny;
    if ((flags & XATTR_CREATE) != 0) mode = XattrMode::kCreate;
    if ((flags & XATTR_REPLACE) != 0) mode = XattrMode::kReplace;
    return r.fs().SetXattr(inode, name, std::string_view(value, size), mode);
  });
}

void RemoveXattr(fuse_req_t req, fuse_ino_t inode, const char* name) {
  ServeStatus(req, "removexattr", [&](Request& r) { return r.fs().RemoveXattr(inode, name); });
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
