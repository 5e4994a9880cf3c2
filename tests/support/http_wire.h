// HTTP/1.1 on blocking sockets, as the test servers and proxies here speak it: buffered
// reads of heads, lines and bodies (chunked included), header lookup, status lines, and how a
// response's body is framed.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3mount::testing {

// Sends all of `data` (retrying short sends); false when the peer is gone.
bool SendAll(int fd, std::string_view data);

// Buffered reads from a blocking socket.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}

  // Reads through the blank line ending an HTTP head; the head (without it) goes to *head.
  bool ReadHead(std::string* head);
  // A CRLF-terminated line, without the CRLF.
  bool ReadLine(std::string* line);
  bool ReadExact(std::size_t n, std::string* out);
  // Whatever is buffered, else one recv of at most `max` bytes. False at EOF or error.
  bool ReadSome(std::size_t max, std::string* out);

 private:
  bool Fill();

  int fd_;
  std::string buf_;
};

struct HttpHead {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received

  // The first header of that (lower-case) name, or null.
  const std::string* Find(std::string_view lower_name) const;
  // Whether that header's value holds `token` (compared in lower case).
  bool HasToken(std::string_view lower_name, std::string_view token) const;
};

// Splits a head into its start line and headers.
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

// "OK", "Not Found", "Slow Down"...; "Injected" for a status not listed.
std::string_view ReasonPhrase(int status);
// The status of a response's start line ("HTTP/1.1 503 Slow Down"); 0 when there is none.
int ParseStatus(const std::string& start_line);
// Connection, Keep-Alive, Proxy-Connection: headers a proxy must not forward.
bool IsHopByHop(const std::string& name);

}  // namespace s3mount::testing
