// ErrnoOf: the one place that decides which errno a filesystem operation reports for an Error.
// Nothing below the FUSE adapter deals in errno; the adapter replies `-ErrnoOf(error)`.
// docs/SEMANTICS.md ("errno mapping") explains each choice.
//
// Thread-safety: pure function, safe from any thread.
#pragma once

#include "s3mount/common/error.h"

namespace s3mount {

// A positive errno value (ENOENT, EACCES, EIO, ...) for `error`, decided by its code alone.
// The switch behind it is exhaustive with no `default:`, so adding an ErrorCode does not
// compile until someone decides its errno here.
int ErrnoOf(const Error& error);

// The same, for a bare code.
int ErrnoOfCode(ErrorCode code);

}  // namespace s3mount
