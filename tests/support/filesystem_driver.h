// Small drivers of a Filesystem for unit tests: what a path resolves to (Lookup component by
// component, as the kernel does), a directory's entries (readdir or readdirplus, in replies of
// a chosen size), a handle's bytes, and a whole file's bytes. Each returns the Filesystem's
// error rather than asserting, so callers choose how to fail; FilesystemFixture wraps them.
//
// Thread-safety: as the Filesystem they drive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "s3mount/fs/filesystem.h"

namespace s3mount::testing {

// The inode of `path` ("a/b"), or the error of the first component that fails. Takes a lookup
// reference per component, as the kernel would.
Result<InodeId> LookupPath(Filesystem& fs, const std::string& path);

// readdir (`plus`: readdirplus) of `directory` as the kernel does it: replies of at most
// `reply_size` entries, each resumed at the offset of the last entry taken, until an empty
// reply. Name -> entry, without "." and ".."; a name given twice is an error.
Result<std::map<std::string, Entry>> ReadDirectory(
    Filesystem& fs, InodeId directory, bool plus = false,
    size_t reply_size = std::numeric_limits<size_t>::max());

// The names readdir gives for `directory`, without "." and "..".
Result<std::set<std::string>> ListNames(Filesystem& fs, InodeId directory);

// What one read of `size` bytes at `offset` through `handle` returns.
Result<std::string> ReadHandle(Filesystem& fs, uint64_t handle, uint64_t offset, size_t size);

// The whole content of `inode`, read through a fresh read-only handle in reads of `chunk`
// bytes until one returns nothing.
Result<std::string> ReadWhole(Filesystem& fs, InodeId inode, size_t chunk = size_t{1} << 20);

}  // namespace s3mount::testing
