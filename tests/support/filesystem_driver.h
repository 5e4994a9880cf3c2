// Small drivers of a Filesystem for unit tests: what a path resolves to (Lookup component by
// component, as the kernel does), the names of a directory (readdir), and a whole file's bytes.
//
// Thread-safety: as the Filesystem they drive.
#pragma once

#include <set>
#include <string>

#include "s3mount/fs/filesystem.h"

namespace s3mount::testing {

// The inode of `path` ("a/b"), or the error of the first component that fails. Takes a lookup
// reference per component, as the kernel would.
Result<InodeId> LookupPath(Filesystem& fs, const std::string& path);

// The names readdir gives for `directory`, without "." and "..".
Result<std::set<std::string>> ListNames(Filesystem& fs, InodeId directory);

// The whole content of `inode`, read through a fresh read-only handle.
Result<std::string> ReadWhole(Filesystem& fs, InodeId inode);

}  // namespace s3mount::testing
