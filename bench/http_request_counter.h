// HttpRequestCounter: follows an HTTP/1.x client-to-server byte stream (as a proxy forwards
// it, in arbitrary pieces) and reports each request's class (HEAD, GET, LIST, PUT, ...) as soon
// as its head is complete. It never alters or keeps the bytes: it only reads the request line
// and headers, then skips the body framed by Content-Length or Transfer-Encoding: chunked.
// Used by bench/latency_proxy.cc to count the S3 requests a client makes.
//
// Classification (ClassifyRequest): HEAD, PUT, DELETE and POST by method; a GET whose path
// names only a bucket ("/bucket", "/bucket/") or no bucket at all ("/": ListBuckets, or a
// virtual-hosted ListObjects) is LIST, any other GET is GET; other methods are OTHER.
//
// Thread-safety: a plain value; one stream, one thread at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "s3mount/common/strings.h"

namespace s3mount {

enum class RequestClass { kHead, kGet, kList, kPut, kDelete, kPost, kOther };
inline constexpr size_t kRequestClassCount = 7;

inline const char* RequestClassName(RequestClass request_class) {
  switch (request_class) {
    case RequestClass::kHead:
      return "HEAD";
    case RequestClass::kGet:
      return "GET";
    case RequestClass::kList:
      return "LIST";
    case RequestClass::kPut:
      return "PUT";
    case RequestClass::kDelete:
      return "DELETE";
    case RequestClass::kPost:
      return "POST";
    case RequestClass::kOther:
      return "OTHER";
  }
  return "OTHER";
}

// The path of a request target: without an absolute-form "scheme://authority" and without the
// query or fragment.
inline std::string_view RequestTargetPath(std::string_view target) {
  if (!target.empty() && target.front() != '/') {
    const size_t scheme_end = target.find("://");
    if (scheme_end != std::string_view::npos) {
      const size_t slash = target.find('/', scheme_end + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  const size_t query = target.find_first_of("?#");
  return query == std::string_view::npos ? target : target.substr(0, query);
}

// True for "/", "/bucket" and "/bucket/": a path-style path without a key.
inline bool PathNamesNoKey(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  const size_t slash = path.find('/');
  return slash == std::string_view::npos || slash + 1 == path.size();
}

inline RequestClass ClassifyRequest(std::string_view method, std::string_view target) {
  if (method == "HEAD") return RequestClass::kHead;
  if (method == "GET") {
    return PathNamesNoKey(RequestTargetPath(target)) ? RequestClass::kList : RequestClass::kGet;
  }
  if (method == "PUT") return RequestClass::kPut;
  if (method == "DELETE") return RequestClass::kDelete;
  if (method == "POST") return RequestClass::kPost;
  return RequestClass::kOther;
}

class HttpRequestCounter {
 public:
  // Longest request head (request line and headers) and chunk-size or trailer line accepted.
  static constexpr size_t kMaxHeadBytes = size_t{64} << 10;
  static constexpr size_t kMaxLineBytes = 4096;

  explicit HttpRequestCounter(std::function<void(RequestClass)> on_request)
      : on_request_(std::move(on_request)) {}

  // Follows the next bytes of the stream. Returns false once the stream has failed to parse as
  // HTTP/1.x requests (and for every later call).
  bool Feed(std::string_view bytes) {
    while (!bytes.empty() && state_ != State::kFailed) {
      switch (state_) {
        case State::kHead:
          ConsumeHead(bytes);
          break;
        case State::kFixedBody:
        case State::kChunkData:
          SkipBody(bytes);
          break;
        case State::kChunkDataEnd:
        case State::kChunkSize:
        case State::kTrailer:
          if (ConsumeLine(bytes)) OnLine();
          break;
        case State::kFailed:
          break;
      }
    }
    return state_ != State::kFailed;
  }

  bool failed() const { return state_ == State::kFailed; }
  uint64_t requests() const { return requests_; }

 private:
  enum class State { kHead, kFixedBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailer, kFailed };

  static bool IsTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }
  static bool IsToken(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
      if (!IsTokenChar(c)) return false;
    }
    return true;
  }

  // Reads a request head up to its blank line, then parses it. Empty lines before a request
  // line are skipped (RFC 9112 section 2.2).
  void ConsumeHead(std::string_view& bytes) {
    if (head_.empty()) {
      while (!bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n')) {
        bytes.remove_prefix(1);
      }
      if (bytes.empty()) return;
      const size_t end = bytes.find("\r\n\r\n");
      if (end != std::string_view::npos && end + 4 <= kMaxHeadBytes) {
        const std::string_view head = bytes.substr(0, end + 4);
        bytes.remove_prefix(end + 4);
        ParseHead(head);
        return;
      }
    }
    const size_t old_size = head_.size();
    const size_t room = kMaxHeadBytes + 1 - old_size;
    head_.append(bytes.substr(0, room));
    const size_t end = head_.find("\r\n\r\n", old_size < 3 ? 0 : old_size - 3);
    if (end == std::string::npos || end + 4 > kMaxHeadBytes) {
      if (head_.size() > kMaxHeadBytes) Fail();
      bytes.remove_prefix(std::min(room, bytes.size()));
      return;
    }
    bytes.remove_prefix(end + 4 - old_size);
    head_.resize(end + 4);
    const std::string head = std::move(head_);
    head_.clear();
    ParseHead(head);
  }

  // `head` ends with "\r\n\r\n".
  void ParseHead(std::string_view head) {
    std::string_view line = NextLine(head);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return Fail();
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!IsToken(method) || target.empty() || (version != "HTTP/1.1" && version != "HTTP/1.0")) {
      return Fail();
    }
    for (const char c : target) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Fail();
    }
    bool chunked = false;
    bool has_length = false;
    uint64_t length = 0;
    while (!(line = NextLine(head)).empty()) {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) return Fail();
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = TrimAsciiSpace(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
        const size_t comma = value.rfind(',');
        const std::string_view last =
            TrimAsciiSpace(comma == std::string_view::npos ? value : value.substr(comma + 1));
        if (!EqualsIgnoreCase(last, "chunked")) return Fail();
        chunked = true;
      } else if (EqualsIgnoreCase(name, "Content-Length")) {
        uint64_t parsed = 0;
        if (!ParseDecimal(value, &parsed) || (has_length && parsed != length)) return Fail();
        has_length = true;
        length = parsed;
      }
    }
    ++requests_;
    on_request_(ClassifyRequest(method, target));
    if (chunked) {
      state_ = State::kChunkSize;
    } else if (length > 0) {
      remaining_ = length;
      state_ = State::kFixedBody;
    }
  }

  // The next CRLF-terminated line of `text` (without the CRLF), removed from `text`.
  static std::string_view NextLine(std::string_view& text) {
    const size_t end = text.find("\r\n");
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 2);
    return line;
  }

  static bool ParseDecimal(std::string_view text, uint64_t* out) {
    if (text.empty() || text.size() > 18) return false;
    uint64_t value = 0;
    for (const char c : text) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = value;
    return true;
  }

  static bool ParseChunkSize(std::string_view line, uint64_t* out) {
    const size_t extension = line.find(';');
    const std::string_view digits = TrimAsciiSpace(line.substr(0, extension));
    if (digits.empty() || digits.size() > 15) return false;
    uint64_t value = 0;
    for (const char c : digits) {
      uint64_t digit = 0;
      const char lower = AsciiToLower(c);
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint64_t>(c - '0');
      } else if (lower >= 'a' && lower <= 'f') {
        digit = static_cast<uint64_t>(lower - 'a') + 10;
      } else {
        return false;
      }
      value = value * 16 + digit;
    }
    *out = value;
    return true;
  }

  void SkipBody(std::string_view& bytes) {
    const size_t skip = remaining_ < bytes.size() ? static_cast<size_t>(remaining_) : bytes.size();
    bytes.remove_prefix(skip);
    remaining_ -= skip;
    if (remaining_ == 0) state_ = state_ == State::kFixedBody ? State::kHead : State::kChunkDataEnd;
  }

  // Collects one CRLF-terminated line into line_ (without the CRLF); true once it is complete.
  bool ConsumeLine(std::string_view& bytes) {
    const size_t newline = bytes.find('\n');
    const size_t take = newline == std::string_view::npos ? bytes.size() : newline + 1;
    if (line_.size() + take > kMaxLineBytes) {
      Fail();
      return false;
    }
    line_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (newline == std::string_view::npos) return false;
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
      Fail();
      return false;
    }
    line_.resize(line_.size() - 2);
    return true;
  }

  // Acts on the complete line in line_ for the chunked-body states.
  void OnLine() {
    const std::string line = std::move(line_);
    line_.clear();
    switch (state_) {
      case State::kChunkDataEnd:
        if (!line.empty()) return Fail();
        state_ = State::kChunkSize;
        return;
      case State::kChunkSize: {
        uint64_t size = 0;
        if (!ParseChunkSize(line, &size)) return Fail();
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kChunkData;
        return;
      }
      case State::kTrailer:
        if (line.empty()) state_ = State::kHead;
        return;
      default:
        return Fail();
    }
  }

  void Fail() {
    state_ = State::kFailed;
    head_.clear();
    line_.clear();
  }

  std::function<void(RequestClass)> on_request_;
  State state_ = State::kHead;
  std::string head_;  // a request head seen in part
  std::string line_;  // a chunk-size, chunk-end or trailer line seen in part
  uint64_t remaining_ = 0;
  uint64_t requests_ = 0;
};

}  // namespace s3mount
