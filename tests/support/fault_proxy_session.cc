// FaultProxy::Session: one client connection of the FaultProxy. It reads each request,
// takes its fault from the script, forwards it to the upstream on a connection of its own and
// streams the answer back, applying the fault on the way (see FaultKind in fault_proxy.h).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "tests/support/fault_proxy.h"
#include "tests/support/http_wire.h"

namespace s3mount::testing {
namespace {

using http_wire::Framing;
using http_wire::HttpHead;
using http_wire::IsHopByHop;
using http_wire::kIoChunk;
using http_wire::Lower;
using http_wire::ParseHead;
using http_wire::ParseStatus;
using http_wire::ReadChunked;
using http_wire::Reader;
using http_wire::ReasonPhrase;
using http_wire::ResponseFraming;
using http_wire::SendAll;

// Pause before an RST so the client has read what was sent (an RST can overtake unread data).
constexpr std::chrono::milliseconds kResetGrace{50};

struct Request {
  std::string method;
  std::string target;
  HttpHead head;
  std::string body;
  bool has_body = false;  // Content-Length or chunked framing was present
  bool close_after = false;
};

// Faults that need the upstream's whole answer before the client gets anything.
bool NeedsWholeAnswer(const std::optional<Fault>& fault) {
  return fault &&
         (fault->kind == FaultKind::kApplyThenReturnStatus ||
          fault->kind == FaultKind::kApplyThenReset || fault->kind == FaultKind::kApplyThenStall ||
          fault->kind == FaultKind::kReplaceBody);
}

}  // namespace

class FaultProxy::Session {
 public:
  Session(FaultProxy* proxy, int client_fd)
      : proxy_(proxy), client_fd_(client_fd), client_(client_fd) {}

  void Run() {
    while (!proxy_->stopping() && client_open_ && HandleOneRequest()) {
    }
    CloseClient();
  }

 private:
  // Sends body bytes to the client, applying a mid-body fault at `after_bytes`.
  class BodySender {
   public:
    BodySender(Session* session, const std::optional<Fault>& fault) : session_(session) {
      if (fault && (fault->kind == FaultKind::kResetMidBody || fault->kind == FaultKind::kStall ||
                    fault->kind == FaultKind::kTruncateBody)) {
        fault_ = fault;
      }
      if (fault && fault->kind == FaultKind::kFlipByte) flip_at_ = fault->after_bytes;
    }
    // False once the client connection is gone (by fault or error).
    bool Send(std::string_view data) {
      if (flip_at_ && *flip_at_ >= sent_ && *flip_at_ - sent_ < data.size()) {
        std::string flipped(data);
        flipped[*flip_at_ - sent_] = static_cast<char>(~flipped[*flip_at_ - sent_]);
        flip_at_.reset();
        if (!SendAll(session_->client_fd_, flipped)) return false;
        sent_ += flipped.size();
        return true;
      }
      while (!data.empty()) {
        if (fault_ && sent_ == fault_->after_bytes && !Act()) return false;
        std::size_t room = fault_ ? fault_->after_bytes - sent_ : data.size();
        std::size_t n = std::min(room, data.size());
        if (!SendAll(session_->client_fd_, data.substr(0, n))) return false;
        sent_ += n;
        data.remove_prefix(n);
      }
      return true;
    }
    // At the end of the body: a fault not yet triggered acts now.
    bool Finish() { return !fault_ || Act(); }

   private:
    bool Act() {
      Fault fault = *fault_;
      fault_.reset();
      switch (fault.kind) {
        case FaultKind::kResetMidBody:
          session_->proxy_->SleepUnlessStopping(kResetGrace);
          session_->ResetClient();
          return false;
        case FaultKind::kTruncateBody:
          session_->CloseClientCleanly();
          return false;
        case FaultKind::kStall:
          return session_->proxy_->SleepUnlessStopping(fault.duration);
        case FaultKind::kReturnStatus:
        case FaultKind::kDelay:
        case FaultKind::kHold:
        case FaultKind::kFlipByte:
        case FaultKind::kApplyThenReturnStatus:
        case FaultKind::kApplyThenReset:
        case FaultKind::kApplyThenStall:
        case FaultKind::kReplaceBody:
        case FaultKind::kReturnBody:
          return true;
      }
      return true;
    }

    Session* session_;
    std::optional<Fault> fault_;
    std::optional<std::size_t> flip_at_;  // kFlipByte: the body offset still to invert
    std::size_t sent_ = 0;
  };

  bool HandleOneRequest() {
    Request request;
    std::string head_text;
    if (!client_.ReadHead(&head_text)) return false;
    request.head = ParseHead(head_text);
    if (!ParseRequestLine(&request)) return false;
    std::optional<Fault> fault =
        proxy_->CountRequestAndTakeFault(request.method, request.target, request.head.headers);
    if (request.head.HasToken("expect", "100-continue") &&
        !SendAll(client_fd_, "HTTP/1.1 100 Continue\r\n\r\n")) {
      return false;
    }
    if (!ReadRequestBody(&request)) return false;
    if (fault &&
        (fault->kind == FaultKind::kReturnStatus || fault->kind == FaultKind::kReturnBody)) {
      return ReplyCanned(request, *fault) && !request.close_after;
    }
    if (fault && fault->kind == FaultKind::kDelay &&
        !proxy_->SleepUnlessStopping(fault->duration)) {
      return false;
    }
    if (fault && fault->kind == FaultKind::kHold && !proxy_->gate_.Pass(request.target)) {
      return false;
    }
    return Forward(request, fault) && !request.close_after;
  }

  bool ParseRequestLine(Request* request) {
    const std::string& line = request->head.start_line;
    auto first = line.find(' ');
    auto last = line.rfind(' ');
    if (first == std::string::npos || last == first) return false;
    request->method = line.substr(0, first);
    request->target = line.substr(first + 1, last - first - 1);
    bool http10 = line.compare(last + 1, std::string::npos, "HTTP/1.0") == 0;
    request->close_after = http10 || request->head.HasToken("connection", "close");
    return true;
  }

  bool ReadRequestBody(Request* request) {
    if (request->head.HasToken("transfer-encoding", "chunked")) {
      request->has_body = true;
      return ReadChunked(client_, /*raw=*/false, [&](const std::string& data) {
        request->body += data;
        return true;
      });
    }
    if (const std::string* cl = request->head.Find("content-length")) {
      request->has_body = true;
      return client_.ReadExact(std::strtoull(cl->c_str(), nullptr, 10), &request->body);
    }
    return true;
  }

  bool ReplyCanned(const Request& request, const Fault& fault) {
    std::string request_id = "FAULTPROXY" + std::to_string(proxy_->faults_applied());
    std::string body;
    if (fault.kind == FaultKind::kReturnBody) {
      body = fault.replacement;
    } else if (!fault.s3_code.empty() && request.method != "HEAD") {
      body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + fault.s3_code +
             "</Code><Message>" + fault.message + "</Message><RequestId>" + request_id +
             "</RequestId><HostId>fault-proxy</HostId></Error>";
    }
    std::string head = "HTTP/1.1 " + std::to_string(fault.status) + " " +
                       std::string(ReasonPhrase(fault.status)) +
                       "\r\nContent-Type: application/xml\r\nx-amz-request-id: " + request_id +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                       (request.close_after ? "Connection: close\r\n" : "");
    for (const auto& [name, value] : fault.headers) head += name + ": " + value + "\r\n";
    head += "\r\n";
    return SendAll(client_fd_, head + body);
  }

  std::string UpstreamRequest(const Request& request) const {
    std::string out = request.head.start_line + "\r\n";
    for (const auto& [name, value] : request.head.headers) {
      std::string lower = Lower(name);
      if (IsHopByHop(name) || lower == "expect" || lower == "transfer-encoding" ||
          lower == "content-length") {
        continue;
      }
      out.append(name).append(": ").append(value).append("\r\n");
    }
    if (request.has_body) out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    return out + request.body;
  }

  bool Forward(const Request& request, const std::optional<Fault>& fault) {
    UniqueFd upstream = proxy_->ConnectUpstream();
    if (!upstream.valid()) {
      Fault bad_gateway = Fault::ReturnStatus(502, "BadGateway", "FaultProxy: upstream down");
      return ReplyCanned(request, bad_gateway);
    }
    Reader from_upstream(upstream.get());
    bool ok = SendAll(upstream.get(), UpstreamRequest(request));
    std::string head_text;
    int status = 0;
    while (ok && (ok = from_upstream.ReadHead(&head_text))) {
      status = ParseStatus(head_text.substr(0, head_text.find("\r\n")));
      if (status / 100 != 1) break;  // skip interim 1xx replies
    }
    bool result = ok && (NeedsWholeAnswer(fault)
                             ? AnswerAfterApplying(request, *fault, ParseHead(head_text), status,
                                                   from_upstream)
                             : Relay(request, fault, ParseHead(head_text), status, from_upstream));
    proxy_->UnregisterSocket(upstream.get());
    return result;
  }

  bool Relay(const Request& request, const std::optional<Fault>& fault, const HttpHead& head,
             int status, Reader& upstream) {
    std::size_t length = 0;
    Framing framing = ResponseFraming(request.method, status, head, &length);
    bool close_after = request.close_after || framing == Framing::kUntilClose;
    std::string out = head.start_line + "\r\n";
    for (const auto& [name, value] : head.headers) {
      if (!IsHopByHop(name)) out.append(name).append(": ").append(value).append("\r\n");
    }
    if (close_after) out += "Connection: close\r\n";
    if (!SendAll(client_fd_, out + "\r\n")) return false;
    BodySender sender(this, fault);
    auto emit = [&](std::string_view data) { return sender.Send(data); };
    bool ok = true;
    std::string piece;
    switch (framing) {
      case Framing::kNone:
        break;
      case Framing::kLength:
        while (ok && length > 0) {
          ok = upstream.ReadSome(std::min(length, kIoChunk), &piece) && emit(piece);
          length -= ok ? piece.size() : 0;
        }
        break;
      case Framing::kChunked:
        ok = ReadChunked(upstream, /*raw=*/true, emit);
        break;
      case Framing::kUntilClose:
        while (ok && upstream.ReadSome(kIoChunk, &piece)) ok = emit(piece);
        break;
    }
    return ok && sender.Finish() && !close_after;
  }

  // The upstream has answered (so it applied the request): reads its whole answer, then gives
  // the client what `fault` says instead of it, or after a stall.
  bool AnswerAfterApplying(const Request& request, const Fault& fault, const HttpHead& head,
                           int status, Reader& upstream) {
    std::size_t length = 0;
    const Framing framing = ResponseFraming(request.method, status, head, &length);
    std::string body;
    std::string piece;
    bool ok = true;
    switch (framing) {
      case Framing::kNone:
        break;
      case Framing::kLength:
        ok = upstream.ReadExact(length, &body);
        break;
      case Framing::kChunked:
        ok = ReadChunked(upstream, /*raw=*/false, [&](const std::string& data) {
          body += data;
          return true;
        });
        break;
      case Framing::kUntilClose:
        while (upstream.ReadSome(kIoChunk, &piece)) body += piece;
        break;
    }
    if (!ok) return false;
    switch (fault.kind) {
      case FaultKind::kApplyThenReturnStatus:
        return ReplyCanned(request, fault) && !request.close_after;
      case FaultKind::kApplyThenReset:
        ResetClient();
        return false;
      case FaultKind::kApplyThenStall:
        if (!proxy_->SleepUnlessStopping(fault.duration)) return false;
        return SendWhole(request, head,
                         framing == Framing::kNone ? std::nullopt : std::optional(body));
      case FaultKind::kReplaceBody:
        return SendWhole(request, head, fault.replacement);
      default:
        return false;
    }
  }

  // `head` with `body` (framed by Content-Length), or without one (HEAD, 204, 304: the
  // upstream's headers as they were).
  bool SendWhole(const Request& request, const HttpHead& head,
                 const std::optional<std::string>& body) {
    std::string out = head.start_line + "\r\n";
    for (const auto& [name, value] : head.headers) {
      const std::string lower = Lower(name);
      if (IsHopByHop(name) ||
          (body && (lower == "content-length" || lower == "transfer-encoding"))) {
        continue;
      }
      out.append(name).append(": ").append(value).append("\r\n");
    }
    if (body) out += "Content-Length: " + std::to_string(body->size()) + "\r\n";
    if (request.close_after) out += "Connection: close\r\n";
    out += "\r\n";
    if (body && request.method != "HEAD") out += *body;
    return SendAll(client_fd_, out) && !request.close_after;
  }

  void ResetClient() {
    if (!client_open_) return;
    proxy_->UnregisterSocket(client_fd_);
    linger hard{1, 0};
    ::setsockopt(client_fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    ::close(client_fd_);
    client_open_ = false;
  }

  void CloseClientCleanly() {
    if (!client_open_) return;
    proxy_->UnregisterSocket(client_fd_);
    ::shutdown(client_fd_, SHUT_WR);
    ::close(client_fd_);
    client_open_ = false;
  }

  void CloseClient() { CloseClientCleanly(); }

  FaultProxy* proxy_;
  int client_fd_;
  Reader client_;
  bool client_open_ = true;
};

void FaultProxy::ServeConnection(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  Session(this, fd).Run();
}

}  // namespace s3mount::testing
