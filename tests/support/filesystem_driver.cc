// Unit-test drivers of a Filesystem: lookups by path, directory listings, reads.
#include "tests/support/filesystem_driver.h"

namespace s3mount::testing {

Result<InodeId> LookupPath(Filesystem& fs, const std::string& path) {
  InodeId inode = kRootInode;
  for (size_t start = 0; start < path.size();) {
    const size_t slash = path.find('/', start);
    auto entry = fs.Lookup(inode, path.substr(start, slash - start));
    if (!entry.ok()) return std::move(entry).error();
    if (entry->inode == 0) return MakeError(ErrorCode::kNotFound, path + " does not exist");
    inode = entry->inode;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return inode;
}

Result<std::map<std::string, Entry>> ReadDirectory(Filesystem& fs, InodeId directory, bool plus,
                                                   size_t reply_size) {
  auto handle = fs.OpenDir(directory);
  if (!handle.ok()) return std::move(handle).error();
  std::map<std::string, Entry> entries;
  std::string repeated;
  uint64_t offset = 0;
  for (size_t in_reply = 1; in_reply > 0 && repeated.empty();) {
    in_reply = 0;
    Status status = fs.ReadDir(*handle, offset, plus, [&](const DirectoryEntry& entry) {
      if (in_reply == reply_size) return false;  // the reply is full: resumed from `offset`
      ++in_reply;
      offset = entry.next_offset;
      if (entry.name == "." || entry.name == "..") return true;
      if (!entries.emplace(entry.name, entry.entry).second) repeated = entry.name;
      return true;
    });
    if (!status.ok()) {
      fs.ReleaseDir(*handle);
      return std::move(status).error();
    }
  }
  fs.ReleaseDir(*handle);
  if (!repeated.empty()) {
    return MakeError(ErrorCode::kInternalError, "readdir gave " + repeated + " twice");
  }
  return entries;
}

Result<std::set<std::string>> ListNames(Filesystem& fs, InodeId directory) {
  auto entries = ReadDirectory(fs, directory);
  if (!entries.ok()) return std::move(entries).error();
  std::set<std::string> names;
  for (const auto& [name, entry] : *entries) names.insert(name);
  return names;
}

Result<std::string> ReadHandle(Filesystem& fs, uint64_t handle, uint64_t offset, size_t size) {
  auto slices = fs.Read(handle, offset, size);
  if (!slices.ok()) return std::move(slices).error();
  std::string data;
  for (const auto& slice : *slices) data.append(slice.block->data() + slice.offset, slice.length);
  return data;
}

Result<std::string> ReadWhole(Filesystem& fs, InodeId inode, size_t chunk) {
  auto opened = fs.Open(inode, OpenFlags{});
  if (!opened.ok()) return std::move(opened).error();
  std::string data;
  for (;;) {
    auto read = ReadHandle(fs, opened->handle, data.size(), chunk);
    if (!read.ok()) {
      fs.Release(opened->handle);
      return std::move(read).error();
    }
    if (read->empty()) break;
    data += *read;
  }
  fs.Release(opened->handle);
  return data;
}

}  // namespace s3mount::testing
