// FaultProxy (see fault_proxy.h): a thread per client connection, blocking sockets, one
// upstream connection per request, faults applied while the response streams back.
#include "tests/support/fault_proxy.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "s3mount/common/strings.h"
#include "tests/support/http_wire.h"

namespace s3mount::testing {
namespace {

constexpr std::size_t kIoChunk = std::size_t{16} * 1024;
constexpr int kUpstreamTimeoutSeconds = 60;
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

enum class Framing { kNone, kLength, kChunked, kUntilClose };

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

}  // namespace

// ---- Fault constructors -----------------------------------------------------------------

Fault Fault::Return503SlowDown() {
  return ReturnStatus(503, "SlowDown", "Please reduce your request rate.");
}

Fault Fault::ReturnStatus(int status, std::string s3_code, std::string message) {
  Fault f;
  f.kind = FaultKind::kReturnStatus;
  f.status = status;
  f.s3_code = std::move(s3_code);
  f.message = message.empty() ? "Injected by FaultProxy" : std::move(message);
  return f;
}

Fault Fault::ResetMidBody(std::size_t after_bytes) {
  Fault f;
  f.kind = FaultKind::kResetMidBody;
  f.after_bytes = after_bytes;
  return f;
}

Fault Fault::Stall(std::chrono::milliseconds duration, std::size_t after_bytes) {
  Fault f;
  f.kind = FaultKind::kStall;
  f.duration = duration;
  f.after_bytes = after_bytes;
  return f;
}

Fault Fault::TruncateBody(std::size_t after_bytes) {
  Fault f;
  f.kind = FaultKind::kTruncateBody;
  f.after_bytes = after_bytes;
  return f;
}

Fault Fault::Delay(std::chrono::milliseconds duration) {
  Fault f;
  f.kind = FaultKind::kDelay;
  f.duration = duration;
  return f;
}

// ---- Session: one client connection -------------------------------------------------------

struct FaultProxy::Connection {
  std::thread thread;
  std::atomic<bool> done{false};
};

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
    }
    // False once the client connection is gone (by fault or error).
    bool Send(std::string_view data) {
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
          return true;
      }
      return true;
    }

    Session* session_;
    std::optional<Fault> fault_;
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
    if (fault && fault->kind == FaultKind::kReturnStatus) {
      return ReplyCanned(request, *fault) && !request.close_after;
    }
    if (fault && fault->kind == FaultKind::kDelay &&
        !proxy_->SleepUnlessStopping(fault->duration)) {
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
    if (!fault.s3_code.empty() && request.method != "HEAD") {
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
      std::string lower = AsciiLower(name);
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
    bool result = ok && Relay(request, fault, ParseHead(head_text), status, from_upstream);
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

// ---- FaultProxy ---------------------------------------------------------------------------

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(std::string upstream_host,
                                                      uint16_t upstream_port) {
  uint16_t port = 0;
  auto listener = ListenOnLoopback(&port);
  if (!listener.ok()) return std::move(listener).error();
  std::unique_ptr<FaultProxy> proxy(
      new FaultProxy(std::move(*listener), port, std::move(upstream_host), upstream_port));
  if (!proxy->wake_read_.valid()) {
    return MakeError(ErrorCode::kUnknown, std::string("pipe2: ") + std::strerror(errno));
  }
  proxy->accept_thread_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::FaultProxy(UniqueFd listener, uint16_t port, std::string upstream_host,
                       uint16_t upstream_port)
    : listener_(std::move(listener)),
      port_(port),
      upstream_host_(std::move(upstream_host)),
      upstream_port_(upstream_port) {
  std::array<int, 2> fds{-1, -1};
  if (::pipe2(fds.data(), O_CLOEXEC) == 0) {
    wake_read_.Reset(fds[0]);
    wake_write_.Reset(fds[1]);
  }
}

FaultProxy::~FaultProxy() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (int fd : live_sockets_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  if (wake_write_.valid()) {
    char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(wake_write_.get(), &byte, 1);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  for (auto& connection : connection_threads_) connection->thread.join();
}

void FaultProxy::AcceptLoop() {
  std::array<pollfd, 2> fds{pollfd{listener_.get(), POLLIN, 0},
                            pollfd{wake_read_.get(), POLLIN, 0}};
  while (!stopping()) {
    int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) break;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mu_);
      ++connections_;
    }
    RegisterSocket(fd);
    JoinFinishedConnections();
    auto connection = std::make_unique<Connection>();
    Connection* raw = connection.get();
    connection->thread = std::thread([this, fd, raw] {
      ServeConnection(fd);
      raw->done = true;
    });
    connection_threads_.push_back(std::move(connection));
  }
}

void FaultProxy::ServeConnection(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  Session(this, fd).Run();
}

void FaultProxy::JoinFinishedConnections() {
  for (auto it = connection_threads_.begin(); it != connection_threads_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = connection_threads_.erase(it);
    } else {
      ++it;
    }
  }
}

UniqueFd FaultProxy::ConnectUpstream() {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(upstream_port_);
  if (::getaddrinfo(upstream_host_.c_str(), port.c_str(), &hints, &found) != 0) return {};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {};
  timeval timeout{kUpstreamTimeoutSeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  RegisterSocket(fd.get());
  if (::connect(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
    UnregisterSocket(fd.get());
    return {};
  }
  return fd;
}

std::optional<Fault> FaultProxy::CountRequestAndTakeFault(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::lock_guard lock(mu_);
  RecordedRequest& recorded = recorded_.emplace_back();
  recorded.method = method;
  recorded.target = target;
  for (const auto& [name, value] : headers) recorded.headers.emplace_back(AsciiLower(name), value);
  ++requests_total_;
  ++requests_by_method_[method];
  for (auto it = script_.begin(); it != script_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    if (!it->path_substring.empty() && target.find(it->path_substring) == std::string::npos) {
      continue;
    }
    Fault fault = *it;
    if (--it->times <= 0) script_.erase(it);
    ++faults_applied_;
    return fault;
  }
  return std::nullopt;
}

void FaultProxy::RegisterSocket(int fd) {
  std::lock_guard lock(mu_);
  live_sockets_.insert(fd);
  if (stopping_) ::shutdown(fd, SHUT_RDWR);
}

void FaultProxy::UnregisterSocket(int fd) {
  std::lock_guard lock(mu_);
  live_sockets_.erase(fd);
}

bool FaultProxy::SleepUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

void FaultProxy::AddFault(Fault fault) {
  std::lock_guard lock(mu_);
  if (fault.times > 0) script_.push_back(std::move(fault));
}

void FaultProxy::ClearFaults() {
  std::lock_guard lock(mu_);
  script_.clear();
}

std::size_t FaultProxy::PendingFaults() const {
  std::lock_guard lock(mu_);
  return script_.size();
}

uint64_t FaultProxy::requests_seen() const {
  std::lock_guard lock(mu_);
  return requests_total_;
}

uint64_t FaultProxy::requests_seen(std::string_view method) const {
  std::lock_guard lock(mu_);
  auto it = requests_by_method_.find(method);
  return it == requests_by_method_.end() ? 0 : it->second;
}

uint64_t FaultProxy::connections_accepted() const {
  std::lock_guard lock(mu_);
  return connections_;
}

uint64_t FaultProxy::faults_applied() const {
  std::lock_guard lock(mu_);
  return faults_applied_;
}

void FaultProxy::ResetCounters() {
  std::lock_guard lock(mu_);
  requests_total_ = 0;
  requests_by_method_.clear();
  connections_ = 0;
  faults_applied_ = 0;
  recorded_.clear();
}

std::vector<RecordedRequest> FaultProxy::recorded_requests() const {
  std::lock_guard lock(mu_);
  return recorded_;
}

}  // namespace s3mount::testing
