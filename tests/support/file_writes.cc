// Writing files through ordinary system calls (see file_writes.h).
#include "tests/support/file_writes.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace s3mount::testing {

int OpenAndWrite(const std::string& path, const std::string& data, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  constexpr size_t kChunk = size_t{1} << 20;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    if (write(fd, data.data() + at, n) != static_cast<ssize_t>(n)) {
      const int saved = errno == 0 ? EIO : errno;  // a short write sets no errno
      close(fd);
      errno = saved;
      return -1;
    }
  }
  return fd;
}

std::pair<int, int> WriteAndClose(const std::string& path, const std::string& data, int flags) {
  const int fd = OpenAndWrite(path, data, flags);
  if (fd < 0) return {-1, errno};
  const int rc = close(fd);
  return {rc, rc == 0 ? 0 : errno};
}

}  // namespace s3mount::testing
