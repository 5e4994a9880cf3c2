// HTTP/1.1 on blocking sockets (see http_wire.h).
#include "tests/support/http_wire.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "s3mount/common/strings.h"

namespace s3mount::testing {
namespace {

constexpr std::size_t kMaxHeadBytes = std::size_t{64} * 1024;
constexpr std::size_t kIoChunk = std::size_t{16} * 1024;

}  // namespace

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

HttpHead ParseHead(const std::string& text) {
  HttpHead head;
  std::size_t pos = text.find("\r\n");
  head.start_line = text.substr(0, pos);
  while (pos != std::string::npos) {
    std::size_t start = pos + 2;
    pos = text.find("\r\n", start);
    std::string_view line(text.data() + start,
                          (pos == std::string::npos ? text.size() : pos) - start);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    head.headers.emplace_back(std::string(TrimAsciiSpace(line.substr(0, colon))),
                              std::string(TrimAsciiSpace(line.substr(colon + 1))));
  }
  return head;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 416:
      return "Requested Range Not Satisfiable";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Slow Down";
    case 504:
      return "Gateway Timeout";
    default:
      return "Injected";
  }
}

int ParseStatus(const std::string& start_line) {
  auto space = start_line.find(' ');
  if (space == std::string::npos) return 0;
  return std::atoi(start_line.c_str() + space + 1);
}

bool IsHopByHop(const std::string& name) {
  std::string lower = AsciiLower(name);
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection";
}

bool Reader::ReadHead(std::string* head) {
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

bool Reader::ReadLine(std::string* line) {
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

bool Reader::ReadExact(std::size_t n, std::string* out) {
  while (buf_.size() < n) {
    if (!Fill()) return false;
  }
  out->append(buf_, 0, n);
  buf_.erase(0, n);
  return true;
}

bool Reader::ReadSome(std::size_t max, std::string* out) {
  if (buf_.empty() && !Fill()) return false;
  std::size_t n = std::min(max, buf_.size());
  out->assign(buf_, 0, n);
  buf_.erase(0, n);
  return true;
}

bool Reader::Fill() {
  std::array<char, kIoChunk> chunk{};
  for (;;) {
    ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
  }
}

const std::string* HttpHead::Find(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (AsciiLower(name) == lower_name) return &value;
  }
  return nullptr;
}

bool HttpHead::HasToken(std::string_view lower_name, std::string_view token) const {
  const std::string* value = Find(lower_name);
  return value != nullptr && AsciiLower(*value).find(token) != std::string::npos;
}

}  // namespace s3mount::testing
