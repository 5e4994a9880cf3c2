// HTTP/1.1 wire helpers (see http_wire.h).
#include "tests/support/http_wire.h"

namespace s3mount::testing::http_wire {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

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
    head.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                              std::string(Trim(line.substr(colon + 1))));
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
  std::string lower = Lower(name);
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection";
}

Framing ResponseFraming(const std::string& method, int status, const HttpHead& head,
                        std::size_t* length) {
  if (method == "HEAD" || status / 100 == 1 || status == 204 || status == 304) {
    return Framing::kNone;
  }
  if (head.HasToken("transfer-encoding", "chunked")) return Framing::kChunked;
  if (const std::string* cl = head.Find("content-length")) {
    *length = std::strtoull(cl->c_str(), nullptr, 10);
    return Framing::kLength;
  }
  return Framing::kUntilClose;
}

}  // namespace s3mount::testing::http_wire
