// HTTP/1.1 wire helpers for the FaultProxy (fault_proxy.cc): buffered socket reads, request
// and response heads, chunked bodies and response framing. Only what a test proxy needs:
// blocking sockets, no pipelining beyond what Reader buffers.
//
// Thread-safety: a Reader belongs to one thread; the functions are pure.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3mount::testing::http_wire {

inline constexpr std::size_t kMaxHeadBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kIoChunk = std::size_t{16} * 1024;

std::string Lower(std::string_view s);
std::string_view Trim(std::string_view s);
// Sends all of `data` (MSG_NOSIGNAL); false if the connection is gone.
bool SendAll(int fd, std::string_view data);

// Buffered reads from a blocking socket.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}

  // Reads through the blank line ending an HTTP head; the head (without it) goes to *head.
  bool ReadHead(std::string* head) {
    for (;;) {
      auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        *head = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        return true;
      }
      if (buf_.size() > kMaxHeadBytes || !Fill()) return false;
    }
  }
  // A CRLF-terminated line, without the CRLF.
  bool ReadLine(std::string* line) {
    for (;;) {
      auto end = buf_.find("\r\n");
      if (end != std::string::npos) {
        *line = buf_.substr(0, end);
        buf_.erase(0, end + 2);
        return true;
      }
      if (buf_.size() > kMaxHeadBytes || !Fill()) return false;
    }
  }
  bool ReadExact(std::size_t n, std::string* out) {
    while (buf_.size() < n) {
      if (!Fill()) return false;
    }
    out->append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }
  // Whatever is buffered, else one recv of at most `max` bytes. False at EOF or error.
  bool ReadSome(std::size_t max, std::string* out) {
    if (buf_.empty() && !Fill()) return false;
    std::size_t n = std::min(max, buf_.size());
    out->assign(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

 private:
  bool Fill() {
    std::array<char, kIoChunk> chunk{};
    for (;;) {
      ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(chunk.data(), static_cast<std::size_t>(n));
      return true;
    }
  }

  int fd_;
  std::string buf_;
};

struct HttpHead {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received

  const std::string* Find(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (Lower(name) == lower_name) return &value;
    }
    return nullptr;
  }
  bool HasToken(std::string_view lower_name, std::string_view token) const {
    const std::string* value = Find(lower_name);
    return value != nullptr && Lower(*value).find(token) != std::string::npos;
  }
};

// The start line and headers of a head read by Reader::ReadHead.
HttpHead ParseHead(const std::string& text);

// Reads a chunked body, calling emit(raw) for every piece of wire data (framing included)
// when `raw`, or with the decoded payload otherwise.
template <typename Emit>
bool ReadChunked(Reader& in, bool raw, Emit&& emit) {
  for (;;) {
    std::string line;
    if (!in.ReadLine(&line)) return false;
    if (raw && !emit(line + "\r\n")) return false;
    std::size_t size = std::strtoull(line.c_str(), nullptr, 16);
    if (size == 0) break;
    std::string data;
    if (!in.ReadExact(size + 2, &data)) return false;
    if (!emit(raw ? data : data.substr(0, size))) return false;
  }
  for (;;) {  // trailers, up to the blank line
    std::string line;
    if (!in.ReadLine(&line)) return false;
    if (raw && !emit(line + "\r\n")) return false;
    if (line.empty()) return true;
  }
}

// The reason phrase sent with a canned status.
std::string_view ReasonPhrase(int status);
// The status code of a response's start line (0 if there is none).
int ParseStatus(const std::string& start_line);
// Connection-scoped headers a proxy must not forward.
bool IsHopByHop(const std::string& name);

enum class Framing { kNone, kLength, kChunked, kUntilClose };

// How a response to `method` with `status` and `head` delimits its body (*length: for
// kLength).
Framing ResponseFraming(const std::string& method, int status, const HttpHead& head,
                        std::size_t* length);

}  // namespace s3mount::testing::http_wire
