// FUSE low-level handlers: call the core, convert, reply once.
#include "fuse/fuse_adapter.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <new>
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

void Init(void* userdata, fuse_conn_info* conn) {
  auto& context = *static_cast<FuseContext*>(userdata);
  conn->max_write = static_cast<unsigned>(context.max_io);
  conn->max_readahead = static_cast<unsigned>(context.max_io);
  if ((conn->capable & FUSE_CAP_ASYNC_READ) != 0) conn->want |= FUSE_CAP_ASYNC_READ;
  if ((conn->capable & FUSE_CAP_READDIRPLUS) != 0) conn->want |= FUSE_CAP_READDIRPLUS;
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
    const bool write = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) != 0;
    auto opened = Fs(req).Open(inode, write);
    if (!opened.ok()) return ReplyError(req, "open", opened.error());
    fi->fh = opened->handle;
    fi->keep_cache = opened->keep_cache ? 1 : 0;
    fuse_reply_open(req, fi);
  });
}

void Read(fuse_req_t req, fuse_ino_t /*inode*/, size_t size, off_t offset, fuse_file_info* fi) {
  Handle(req, "read", [&] {
    auto slices = Fs(req).Read(fi->fh, static_cast<uint64_t>(offset), size);
    if (!slices.ok()) return ReplyError(req, "read", slices.error());
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

// Every modification, while the filesystem is read-only.
void ReadOnly(fuse_req_t req) { fuse_reply_err(req, EROFS); }

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
  ops.setattr = [](fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) {
    ReadOnly(req);
  };
  ops.mknod = [](fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { ReadOnly(req); };
  ops.mkdir = [](fuse_req_t req, fuse_ino_t, const char*, mode_t) { ReadOnly(req); };
  ops.unlink = [](fuse_req_t req, fuse_ino_t, const char*) { ReadOnly(req); };
  ops.rmdir = [](fuse_req_t req, fuse_ino_t, const char*) { ReadOnly(req); };
  ops.symlink = [](fuse_req_t req, const char*, fuse_ino_t, const char*) { ReadOnly(req); };
  ops.rename = [](fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned int) {
    ReadOnly(req);
  };
  ops.link = [](fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { ReadOnly(req); };
  ops.create = [](fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) {
    ReadOnly(req);
  };
  ops.write = [](fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) {
    ReadOnly(req);
  };
  ops.setxattr = [](fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) {
    ReadOnly(req);
  };
  ops.removexattr = [](fuse_req_t req, fuse_ino_t, const char*) { ReadOnly(req); };
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& FuseOperations() {
  static const fuse_lowlevel_ops ops = MakeOperations();
  return ops;
}

}  // namespace s3mount
