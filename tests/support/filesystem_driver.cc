// Unit-test drivers of a Filesystem: lookups by path, directory names, whole-file reads.
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

Result<std::set<std::string>> ListNames(Filesystem& fs, InodeId directory) {
  auto handle = fs.OpenDir(directory);
  if (!handle.ok()) return std::move(handle).error();
  std::set<std::string> names;
  uint64_t offset = 0;
  for (bool more = true; more;) {
    more = false;
    Status status = fs.ReadDir(*handle, offset, false, [&](const DirectoryEntry& entry) {
      more = true;
      offset = entry.next_offset;
      if (entry.name != "." && entry.name != "..") names.insert(entry.name);
      return true;
    });
    if (!status.ok()) {
      fs.ReleaseDir(*handle);
      return std::move(status).error();
    }
  }
  fs.ReleaseDir(*handle);
  return names;
}

Result<std::string> ReadWhole(Filesystem& fs, InodeId inode) {
  auto opened = fs.Open(inode, OpenFlags{});
  if (!opened.ok()) return std::move(opened).error();
  std::string data;
  for (;;) {
    auto slices = fs.Read(opened->handle, data.size(), size_t{1} << 20);
    if (!slices.ok()) {
      fs.Release(opened->handle);
      return std::move(slices).error();
    }
    if (slices->empty()) break;
    for (const auto& slice : *slices) data.append(slice.block->data() + slice.offset, slice.length);
  }
  fs.Release(opened->handle);
  return data;
}

}  // namespace s3mount::testing
