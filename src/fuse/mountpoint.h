// Mountpoint checks before mounting: the directory exists, is empty and is not already a
// mount. A mountpoint left dead by an s3mount that was killed ("Transport endpoint is not
// connected") is detached first (fusermount3 -u -z), with a message saying so.
//
// Thread-safety: call from main before any other thread starts.
#pragma once

#include <string>

#include "s3mount/common/result.h"

namespace s3mount {

// Fails with kInvalidArgument and a message naming the mountpoint and what is wrong.
Status PrepareMountpoint(const std::string& path);

}  // namespace s3mount
