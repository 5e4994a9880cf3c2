// Attributes: what s3mount says about a file or directory, in POSIX terms but without any
// FUSE or <sys/stat.h> type, so the core stays FUSE-free and testable. The FUSE adapter turns
// them into `struct stat`.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>

#include "s3mount/common/clock.h"

namespace s3mount {

enum class FileType { kRegular, kDirectory, kSymlink, kFifo, kSocket, kCharDevice, kBlockDevice };

struct Attributes {
  FileType type = FileType::kRegular;
  uint32_t permissions = 0644;  // the 07777 bits only; the type is in `type`
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  WallTime mtime{};
  WallTime ctime{};
  WallTime atime{};
  uint32_t nlink = 1;
  uint64_t rdev = 0;  // the device number of a kCharDevice or kBlockDevice
};

// The mount's defaults for objects that carry no s3fs-style metadata, and the overrides the
// user asked for. Built once from the mount options.
struct AttributeDefaults {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t file_permissions = 0644;
  uint32_t dir_permissions = 0755;
  uint32_t umask = 0;  // cleared from every mode, with or without metadata
};

}  // namespace s3mount
