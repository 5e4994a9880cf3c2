// Writing files the way applications do, through ordinary system calls, for the integration
// tests of a mounted s3mount: open, write(2) in 1 MiB calls, close, with the errno of what
// failed.
//
// Thread-safety: pure functions of their arguments (and the file system).
#pragma once

#include <fcntl.h>

#include <string>
#include <utility>

namespace s3mount::testing {

// Opens `path` with `flags` (mode 0644; O_CLOEXEC is always added, so a child the test forks
// cannot close, and so flush, a copy) and writes `data` in 1 MiB calls. The descriptor, left
// open, or -1 with errno set (a failed write closes it).
int OpenAndWrite(const std::string& path, const std::string& data,
                 int flags = O_WRONLY | O_CREAT | O_TRUNC);

// OpenAndWrite, then close(): {close()'s result, 0} or {-1, the errno of the call that failed}.
std::pair<int, int> WriteAndClose(const std::string& path, const std::string& data,
                                  int flags = O_WRONLY | O_CREAT | O_TRUNC);

}  // namespace s3mount::testing
